#!/usr/bin/env bash
# After the online DeepONet job (online_deeponet_acoustic): evaluate on its validation
# simulations writes the receivers' predicted and simulated responses (CSV with the
# config's receiver names; the simulated ones equal the stored field at the receiver) and WAV
# files that libsndfile's readers open (checked with Python's wave module); errors for --wav
# without receivers.
#   deeponet_receivers.sh EXPECT_SH PDESTREAM PYTHON
set -euo pipefail
expect=$1 pds=$2 py=$3
run=online_deeponet_acoustic
bash "$expect" ok 'deeponet / pointwise on 2 trajectories.*receivers: RMSE .* over 4 receivers \(corner.*ms per receiver impulse response' \
  "$pds" evaluate --run "$run" --wav "$run/wav" --paraview "$run/pv" --paraview-samples 1
for f in "$run"/receivers/sample0_predicted.csv "$run"/receivers/sample0_simulated.csv; do
  head -1 "$f" | grep -qx 't,corner,centre_right,back_low,front_high'
  [[ $(wc -l < "$f") -eq 7 ]]  # header + 6 frames
done
"$py" - "$run" <<'PY'
import json, sys, wave
import h5py, numpy as np
run = sys.argv[1]
ev = json.load(open(f"{run}/evaluation.json"))
assert ev["receivers"]["names"] == ["corner", "centre_right", "back_low", "front_high"], ev["receivers"]
assert ev["timing"]["ms_per_receiver_response"] > 0 and ev["timing"]["ms_per_field_frame"] > 0
sim = np.loadtxt(f"{run}/receivers/sample0_simulated.csv", delimiter=",", skiprows=1)
with h5py.File(f"{run}/validation.h5") as f:
    p = f["tensor"][0].astype(np.float64)
    xs = [f[f"{a}-coordinate"][:] for a in "xyz"]
# corner (0.5, 0.5, 0.5): trilinear from the stored field
idx, w = [], []
for a in range(3):
    h = xs[a][1] - xs[a][0]
    i = int(np.floor(0.5 / h)); idx.append(i); w.append(0.5 / h - i)
v = 0
for o in range(8):
    b = [(o >> a) & 1 for a in range(3)]
    v = v + np.prod([w[a] if b[a] else 1 - w[a] for a in range(3)]) * p[:, idx[0] + b[0], idx[1] + b[1], idx[2] + b[2]]
assert np.allclose(sim[:, 1], v, atol=1e-6), (sim[:, 1], v)
for kind in ["predicted", "simulated", "predicted_dry", "simulated_dry"]:
    with wave.open(f"{run}/wav/sample0_corner_{kind}.wav") as wf:
        assert wf.getnchannels() == 1 and wf.getsampwidth() == 2 and wf.getframerate() == 1000, kind
        n = wf.getnframes()
        assert n == 6 if "dry" not in kind else n > 6, (kind, n)
print("deeponet receivers: CSV, h5py and WAV checks passed")
PY
bash "$expect" fail '--wav: expected a pointwise model trained from a config with \[solver\] receivers' "$pds" evaluate \
  --run "$run" --wav "$run/wav2" --set 'solver.receivers=[]' --set 'solver.receiver_names=[]'
