#!/usr/bin/env bash
# CAPE end to end on PDEBench's own file layout: advection data from `generate`, rewritten
# with h5py as PDEBench ships it (one file per beta, no params, a t-coordinate of Nt + 1),
# trained at a reduced resolution ([task] reduce_x, reduce_t) with the cape objective on 1
# and 2 ranks (the same weights), evaluated on the held-out trajectories (error by beta) and
# on a full-resolution PDEBench file, whose predictions come out at the reduced resolution.
#   cape_pdebench.sh EXPECT_SH PDESTREAM CFG PYTHON SCRIPTS_DIR MPIEXEC...
set -euo pipefail
expect=$1 pds=$2 cfg=$3 py=$4 scripts=$5
shift 5
mpi=("$@")
bash "$expect" ok 'wrote adv_small.h5: 12 samples x 51 frames of 256' "$pds" generate --config "$cfg" \
  --set solver.nx=256 --set solver.t_final=0.5 --set 'parameters.beta={values=[0.4, 2.0]}' --samples 12 \
  --out adv_small.h5 --set output.dir=adv_gen
"$py" "$scripts/make_pdebench_files.py" adv_small.h5 beta 1D_Advection_Sols_beta
train=(train --config "$cfg" --set data.path='""'
  --set 'data.paths=["1D_Advection_Sols_beta0.4.hdf5", "1D_Advection_Sols_beta2.hdf5"]'
  --set 'data.params=[{beta = 0.4}, {beta = 2.0}]' --set data.validation_fraction=0.34
  --set task.reduce_x=4 --set task.reduce_t=5 --set task.history=2 --set task.unroll=2
  --set model.width=16 --set model.modes=8 --set model.base.width=8 --set model.base.modes=6
  --set training.epochs=2 --set training.batch_size=4 --set training.block_warmup_steps=2 --set training.threads=1)
bash "$expect" ok 'cape .* on 56 examples from 7 trajectories.*done: step 28,' "$pds" "${train[@]}" \
  --set output.dir=cape_pdebench
bash "$expect" ok '2 trainer rank.*done: step 28,' "${mpi[@]}" "$pds" "${train[@]}" --set output.dir=cape_pdebench2
"$py" "$scripts/same_weights.py" cape_pdebench/model.safetensors cape_pdebench2/model.safetensors --atol 1e-5 \
  --ignore PrmEmb_Pre.0.CNN_2.bias
bash "$expect" ok 'autoregressive on 5 trajectories.*by beta: 0.4 [0-9.e-]+ .[0-9]. 2 [0-9.e-]+ .[0-9].' \
  "$pds" evaluate --run cape_pdebench
bash "$expect" ok 'autoregressive on 5 trajectories of 1D_Advection_Sols_beta2.hdf5' "$pds" evaluate --run cape_pdebench \
  --data 1D_Advection_Sols_beta2.hdf5 --param beta=2.0 --out cape_pred.h5
"$py" - <<'PY'
import h5py, json, numpy as np
with h5py.File("1D_Advection_Sols_beta2.hdf5") as f:
    assert set(f.keys()) == {"tensor", "x-coordinate", "t-coordinate"} and list(f.attrs) == ["beta"], (list(f), list(f.attrs))
    assert f["tensor"].shape == (5, 51, 256) and f["t-coordinate"].shape == (52,)
with h5py.File("cape_pred.h5") as f:
    t, x, tc = f["tensor"], f["x-coordinate"][:], f["t-coordinate"][:]
    assert t.shape == (5, 9, 64), t.shape   # 11 reduced frames, 2 given, 9 predicted; 64 cells
    assert np.allclose(np.diff(x), 4 / 256) and np.isclose(x[0], 0.5 / 256), x[:3]
    assert np.allclose(np.diff(tc), 0.05), tc
    assert np.all(np.isfinite(t[:]))
meta = json.loads(open("cape_pdebench/evaluation.json").read())
print("PDEBench-layout files: trained and evaluated at 64 cells x every 5th frame; nRMSE", meta.get("nrmse"))
PY
bash "$expect" fail 'reduce_x = 4.*: an online job simulates at the training resolution' "${mpi[@]}" "$pds" train --config "$cfg" \
  --set online.enabled=true --set task.reduce_x=4 --set task.reduce_t=1 --set output.dir=cape_online_err
echo PASSED
