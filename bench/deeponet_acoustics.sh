#!/usr/bin/env bash
# DeepONet sound fields in the 2 m cube (issue 15): held-out accuracy, inference time and the
# speed-up over the FDTD solver, offline against online at an equal simulation count. The
# paper (Borrel-Jensen et al., PNAS 2024) reports RMSE 0.02-0.10 Pa at f_max 1 kHz with
# 5 x 2048 modified MLPs trained 80k iterations on GPUs; this machine has 2 CPU cores.
#
# Here (configs/acoustic_cube_deeponet_online.toml, overridden as below):
#   data     acoustic3d in the 2 m cube, Z = 8 rho c walls, a Gaussian pulse for f_max F_MAX
#            Hz at PPW points per wavelength, DURATION s in frames of 0.5 ms; TRAIN training
#            sources (12.5% of them held out for validation offline) and TEST test sources
#            (sampler seed 99), all in [0.5, 1.5]^3;
#   model    DeepONet, branch 3 x 128 and trunk 3 x 128 modified MLPs, sine (omega0 30),
#            latent 100, trunk Fourier features at F_MAX, F_MAX/2, F_MAX/3 Hz; 1 thread;
#            blocks of 500 points, batch 16 blocks, Adam lr 1e-3 cosine, MSE:
#              (a) offline, EPOCHS epochs over the TRAIN sources' points
#              (b) online, TRAIN simulations streamed, every block trained on once (FIFO)
#              (c) offline, 1 epoch (about (b)'s steps)
# Evaluation: `pdestream evaluate` on the TEST sources' full fields and the config's four
# receivers, 1 thread; "silence" is the RMSE of predicting p = 0 everywhere.
#   bash bench/deeponet_acoustics.sh [BIN_DIR=build/bin]
#   env: F_MAX=500 PPW=6 DURATION=0.02 TRAIN=32 TEST=8 EPOCHS=2 OUT=runs/bench-deeponet REUSE=0
set -euo pipefail
BIN=${1:-build/bin}
F_MAX=${F_MAX:-500}
PPW=${PPW:-6}
DURATION=${DURATION:-0.02}
TRAIN=${TRAIN:-32}
TEST=${TEST:-8}
EPOCHS=${EPOCHS:-2}
OUT=${OUT:-runs/bench-deeponet}
CFG=configs/acoustic_cube_deeponet_online.toml
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
mpi=(mpiexec --bind-to none -n 2)
mkdir -p "$OUT"
features=$(/usr/bin/python3 -c "print('[' + ','.join(f'{$F_MAX / k / 343:.4f}' for k in (1, 2, 3)) + ']')")
size=(--set solver.f_max="$F_MAX" --set solver.ppw="$PPW" --set solver.duration="$DURATION" --set task.reduce_x=1
  --set model.fourier_features="$features" --set training.threads=1)
# Offline: TRAIN / 0.875 generated, 12.5% held out for validation.
offline=$(( (TRAIN * 1000 + 874) / 875 ))
[[ -f "$OUT/train.h5" ]] || "$BIN/pdestream" generate --config "$CFG" "${size[@]}" --samples "$offline" \
  --out "$OUT/train.h5" --set output.dir="$OUT/gen_train" | tail -1 | tee "$OUT/generate.txt"
[[ -f "$OUT/test.h5" ]] || "$BIN/pdestream" generate --config "$CFG" "${size[@]}" --samples "$TEST" \
  --set sampler.seed=99 --out "$OUT/test.h5" --set output.dir="$OUT/gen_test" | tail -1

train() {  # train NAME [command...]: in the background, its seconds saved beside it
  local name=$1
  shift
  if [[ ${REUSE:-0} == 1 && -f "$OUT/$name.seconds" ]]; then
    echo "reusing $OUT/$name"
    return
  fi
  rm -rf "${OUT:?}/$name"
  (
    start=$SECONDS
    "$@" --config "$CFG" "${size[@]}" --set output.dir="$OUT/$name" > "$OUT/$name.log" 2>&1
    echo $((SECONDS - start)) > "$OUT/$name.seconds"
    tail -1 "$OUT/$name.log"
  ) &
}
offline_set=(--set online.enabled=false --set data.path="$OUT/train.h5")
train offline "$BIN/pdestream" train "${offline_set[@]}" --set training.epochs="$EPOCHS"
train offline_1 "$BIN/pdestream" train "${offline_set[@]}" --set training.epochs=1
wait
train online "${mpi[@]}" "$BIN/pdestream" train --set simulation.samples="$TRAIN" --set online.buffer_capacity=100000
wait
for name in offline online offline_1; do
  if [[ ${REUSE:-0} != 1 || ! -f "$OUT/$name.json" ]]; then
    "$BIN/pdestream" evaluate --run "$OUT/$name" --data "$OUT/test.h5" --wav "$OUT/$name/wav" > "$OUT/$name.eval.txt"
    cp "$OUT/$name/evaluation.json" "$OUT/$name.json"
  fi
done

echo
echo "2 m cube, f_max $F_MAX Hz, ppw $PPW, $DURATION s; $TRAIN training sources, $TEST test sources; 1 thread"
echo
/usr/bin/python3 - "$OUT" <<'PY'
import glob, json, re, sys
import h5py, numpy as np
out = sys.argv[1]
gen = open(f"{out}/generate.txt").read()
solver_s = float(re.search(r"solver ([0-9.e-]+) s/sample", gen).group(1))
with h5py.File(f"{out}/test.h5") as f:
    p = f["tensor"][:].astype(np.float64)
    shape = p.shape
silence = np.sqrt(np.mean(p ** 2))
rows = [("offline", "(a) offline"), ("online", "(b) online"), ("offline_1", "(c) offline, 1 epoch")]
print(f"test field: {shape[0]} sources x {shape[1]} frames of {'x'.join(map(str, shape[2:]))} points; "
      f"solver {solver_s * 1e3:.1f} ms per source (1 rank, every point and frame)")
print()
print("| model | parameters | train s | steps | rel. L2 (field) | RMSE field (Pa) | RMSE receivers (Pa) | "
      "ms per receiver response | ms per field frame | speed-up per response |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for name, label in rows:
    e = json.load(open(f"{out}/{name}.json"))
    log = open(f"{out}/{name}.log").read()
    params = re.search(r"\((\d+) parameters\)", log).group(1)
    steps = re.findall(r"step (\d+)", log)[-1]
    secs = open(f"{out}/{name}.seconds").read().strip()
    ms_ir = e["timing"]["ms_per_receiver_response"]
    print(f"| {label} | {params} | {secs} | {steps} | {e['mean']:.3f} | {e['rmse']:.4f} | "
          f"{e['receivers']['rmse']:.4f} | {ms_ir:.3f} | {e['timing']['ms_per_field_frame']:.2f} | "
          f"{solver_s * 1e3 / ms_ir:.0f}x |")
sims = []
for csv in glob.glob(f"{out}/offline/receivers/sample*_simulated.csv"):
    sims.append(np.loadtxt(csv, delimiter=",", skiprows=1)[:, 1:])
print()
print(f"silence (p = 0): RMSE field {silence:.4f} Pa, receivers {np.sqrt(np.mean(np.concatenate(sims) ** 2)):.4f} Pa")
PY
