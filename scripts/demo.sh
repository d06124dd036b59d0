#!/usr/bin/env bash
# The demo behind `make demo`: the main job. heat2d simulations stream into an FNO trainer
# (online training: no dataset on disk) on 3 MPI ranks — rank 0 trains and coordinates,
# ranks 1 and 2 are two simulation groups of one rank each — with
# configs/heat2d_fno_online.toml. Then the trained model is evaluated on the job's held-out
# simulations (validation.h5): relative L2, ParaView files and PNG figures of prediction,
# truth and error; then `pdestream plot` draws the run's loss, rollout error and online
# figures. Ends with where everything is and the commands to resume or evaluate.
#   bash scripts/demo.sh [PDESTREAM]     (default build/bin/pdestream; output in runs/demo)
set -euo pipefail
PDESTREAM=${1:-build/bin/pdestream}
OUT=runs/demo
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
start=$(date +%s)

"$PDESTREAM" info
echo
# A fresh run every time (a previous demo's checkpoint would otherwise be overwritten piecemeal).
rm -rf "$OUT"
mpiexec --bind-to none -n 3 "$PDESTREAM" train --config configs/heat2d_fno_online.toml \
  --set output.dir="$OUT"
echo
"$PDESTREAM" evaluate --run "$OUT" --data "$OUT/validation.h5" --paraview "$OUT/paraview" \
  --png "$OUT/png"
echo
"$PDESTREAM" plot "$OUT"

number() { sed -n "s/^ *\"$1\": *\([0-9.eE+-]*\).*/\1/p" "$2" | head -1; }
trained=$(number validation_rel_l2 "$OUT/online_summary.json")
evaluated=$(number mean "$OUT/evaluation.json")
elapsed=$(( $(date +%s) - start ))
pvd=$(ls "$OUT"/paraview/*.pvd | head -1)
echo
echo "demo done in $((elapsed / 60)) min $((elapsed % 60)) s: heat2d -> FNO online, 1 trainer + 2 simulation groups"
printf '  validation relative L2 on the held-out simulations: %.4f (mean over examples, as the trainer\n' "$trained"
printf '    reports it), %.4f (mean over whole trajectories, as evaluate reports it)\n' "$evaluated"
echo "  model      $OUT/model.safetensors   (safetensors: architecture, task, normalisers in its metadata)"
echo "  checkpoint $OUT/checkpoint.pt"
echo "  metrics    $OUT/metrics.jsonl, $OUT/online_summary.json, $OUT/evaluation.json"
echo "  ParaView   $OUT/paraview/*.pvd   (u_pred, u, u_error; e.g. paraview $pvd)"
echo "  PNG        $OUT/png/*.png        (prediction | truth | error, rows: early, middle, final time)"
echo "  figures    $OUT/plots/loss.png     (training loss and validation error against step)"
echo "             $OUT/plots/rollout.png  (error and correlation per predicted frame)"
echo "             $OUT/plots/online.png   (buffer occupancy; trainer and simulations waiting: which side to scale)"
echo "  held-out   $OUT/validation.h5    (PDEBench layout, the validation simulations)"
echo
echo "next:"
echo "  evaluate again:   $PDESTREAM evaluate --run $OUT --png $OUT/png --paraview $OUT/paraview"
echo "                    (default data: the run's validation.h5; --data FILE.h5 for any dataset of the same grid)"
echo "  resume:           mpirun --oversubscribe -np 3 $PDESTREAM train --resume $OUT"
echo "                    (continues a stopped or killed job from its last checkpoint, every 100 steps)"
echo "  a bigger budget:  mpirun --oversubscribe -np 3 $PDESTREAM train --config configs/heat2d_fno_online.toml \\"
echo "                      --set simulation.samples=2048 --set output.dir=runs/demo-long"
echo "  (--oversubscribe: 3 ranks on a 2-core machine; as root also"
echo "   export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1)"
