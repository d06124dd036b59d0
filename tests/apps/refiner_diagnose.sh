#!/usr/bin/env bash
# bench/pde_refiner_diagnose.py on cli_ks_refiner's small runs: its rollouts must be
# pdestream's own. Its MSE U-Net and its one-sample PDE-Refiner must reach the
# high-correlation thresholds at the steps where `pdestream evaluate` does. The raw weights
# must come from checkpoint.pt. The refinement's last x0 estimate must be the prediction it
# rolls out, and the band table must hold one ratio per band for every pass.
#   refiner_diagnose.sh PDESTREAM PYTHON DIAGNOSE_PY
set -euo pipefail
pds=$1 py=$2 diagnose=$3
# Without --noise-samples, evaluate rolls PDE-Refiner out with one sample, seeded per trajectory.
"$pds" evaluate --run ks_r_ref --data ks_r_test.h5 --out ks_r_diag_ref.h5 > /dev/null
cp ks_r_ref/evaluation.json ks_r_diag_ref.json
"$pds" evaluate --run ks_r_mse --data ks_r_test.h5 --out ks_r_diag_mse.h5 > /dev/null
cp ks_r_mse/evaluation.json ks_r_diag_mse.json
"$py" "$diagnose" --test ks_r_test.h5 --mse ks_r_mse --refiner ks_r_ref --steps 24 --json ks_r_diag.json
"$py" - <<'PY'
import json
d = json.load(open("ks_r_diag.json"))
r = d["rollouts"]
assert set(r) == {"mse", "mse raw", "refiner", "refiner initial", "refiner no noise", "refiner raw"}, sorted(r)
for name, run in (("mse", "ks_r_diag_mse.json"), ("refiner", "ks_r_diag_ref.json")):
    e = json.load(open(run))
    for thr in ("0.8", "0.9"):
        want = e["high_correlation_time"][thr]["steps"]
        assert want < 24, (name, thr, want, "the test's models must fall below the threshold within --steps")
        got = r[name]["steps_" + thr]
        assert got == want, f"{name}: correlation > {thr} for {got} steps here, {want} in pdestream evaluate"
    assert abs(r[name]["first_step_rel_l2"] - e["per_step"][0]) < 1e-4 * max(1.0, e["per_step"][0]), (name, r[name], e["per_step"][0])
# 4 training steps: the raw weights differ from the EMA's, so their first steps differ.
assert r["mse raw"]["first_step_rel_l2"] != r["mse"]["first_step_rel_l2"], r
one = d["one_step"]
labels = ["MSE U-Net", "PDE-Refiner, initial (pass j = K)"] + [f"PDE-Refiner after refinement {j}" for j in (1, 2, 3)]
assert list(one) == labels, list(one)
assert all(len(v["band_error_over_truth"]) == len(d["bands"]) == 6 for v in one.values()), one
print("diagnosis agrees with pdestream evaluate:", {k: r[k]["steps_0.8"] for k in ("mse", "refiner")})
PY
