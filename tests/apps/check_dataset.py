"""Checks that an HDF5 dataset written by `pdestream generate` is complete: the tensor has
SAMPLES trajectories, all finite, none left as zeros (an unwritten chunk reads as zeros).
   check_dataset.py FILE SAMPLES"""
import sys

import h5py
import numpy as np

path, samples = sys.argv[1], int(sys.argv[2])
with h5py.File(path, "r") as f:
    t = f["tensor"][:]
if t.shape[0] != samples:
    sys.exit(f"expected {samples} samples in {path}, found {t.shape[0]}")
if not np.isfinite(t).all():
    sys.exit(f"non-finite values in {path}")
peak = np.abs(t).reshape(samples, -1).max(axis=1)
if peak.min() == 0:
    sys.exit(f"samples {np.flatnonzero(peak == 0).tolist()} of {path} are all zeros (never written)")
print(f"{path}: {samples} samples, every one written")
