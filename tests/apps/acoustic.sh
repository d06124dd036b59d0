#!/usr/bin/env bash
# The shipped acoustic configs run as their headers say, at a coarse grid (ppw 4, 10 ms):
# the cube on 1 and 2 ranks with HDF5 (opened by h5py, identical across rank counts),
# receivers.csv equal to the stored field at the receiver, ParaView read back by VTK; the
# furnished room from its mask; `generate` drawing source positions; and the errors.
#   acoustic.sh EXPECT_SH PDESTREAM CONFIG_DIR PYTHON CHECK_EXPORTED MPIEXEC...
set -euo pipefail
expect=$1 pds=$2 cfgs=$3 py=$4 check_exported=$5
shift 5
mpi=("$@")
here=$(cd "$(dirname "$0")" && pwd)
coarse=(--set solver.ppw=4 --set solver.duration=0.01 --set solver.dt_out=1e-3)
bash "$expect" ok 'acoustic3d on 1 rank.s.: 10 outputs.*receivers ac_np1/receivers.csv' "$pds" simulate acoustic3d \
  --config "$cfgs/acoustic_cube.toml" "${coarse[@]}" --set output.dir=ac_np1 --set output.every=3 --hdf5 ac_np1.h5
bash "$expect" ok 'acoustic3d on 2 rank.s.: 10 outputs' "${mpi[@]}" "$pds" simulate acoustic3d \
  --config "$cfgs/acoustic_cube.toml" "${coarse[@]}" --set output.dir=ac_np2 --hdf5 ac_np2.h5
head -1 ac_np1/receivers.csv | grep -qx 't,corner,centre_right,back_low,front_high'
"$py" "$here/check_acoustic.py" ac_np1.h5 ac_np1/receivers.csv 0.5,0.5,0.5 ac_np2.h5 ac_np2/receivers.csv
"$check_exported" --every 3 ac_np1.h5 0 ac_np1/paraview/acoustic3d.pvd
"$check_exported" --every 10 ac_np2.h5 0 ac_np2/paraview/acoustic3d.pvd
# The furnished room: the mask path in the config is relative to the repository root.
(cd "$cfgs/.." && bash "$expect" ok 'acoustic3d on 1 rank.s.: 10 outputs' "$pds" simulate \
  --config configs/acoustic_furnished.toml "${coarse[@]}" --set output.dir="$OLDPWD/ac_furn" --set output.paraview=false)
head -1 ac_furn/receivers.csv | grep -qx 't,listener,window,under_table'
bash "$expect" ok 'wrote ac_gen.h5: 2 samples x 11 frames' "${mpi[@]}" "$pds" generate \
  --config "$cfgs/acoustic_cube.toml" "${coarse[@]}" --samples 2 --out ac_gen.h5 --set output.dir=ac_gen
bash "$expect" fail 'cfl = 1.5 is unstable: expected cfl <= 1' "$pds" simulate --config "$cfgs/acoustic_cube.toml" \
  --set solver.cfl=1.5
bash "$expect" fail 'receiver r1 is outside the room' "$pds" simulate --config "$cfgs/acoustic_cube.toml" \
  --set 'solver.receivers=[[1.0, 1.0, 1.0], [2.5, 1.0, 1.0]]' --set 'solver.receiver_names=[]'
bash "$expect" fail 'nowhere.npy: expected a NumPy .npy mask of uint8 or bool' "$pds" simulate \
  --config "$cfgs/acoustic_cube.toml" --set solver.room=\"mask\" --set solver.mask=\"nowhere.npy\"
echo "acoustic CLI: all checks passed"
