#!/usr/bin/python3
"""Write PDEBench's own 1D layout from a dataset that `pdestream generate` wrote: one file
per parameter value, with only what PDEBench's files hold ('tensor' [N, Nt, Nx] float32,
'x-coordinate', a 't-coordinate' of Nt + 1 values as PDEBench's generator writes it, and the
parameter as a root attribute), none of our datasets or attributes.

    /usr/bin/python3 make_pdebench_files.py IN.h5 PARAM OUT_PREFIX
      -> OUT_PREFIX<value>.hdf5 for each distinct value of PARAM in IN.h5
"""
import sys

import h5py
import numpy as np

src, param, prefix = sys.argv[1], sys.argv[2], sys.argv[3]
with h5py.File(src, "r") as f:
    names = [s.decode() if isinstance(s, bytes) else str(s) for s in f["params"].attrs["param_names"]]
    values = f["params"][:, names.index(param)]
    tensor, x, t = f["tensor"][:], f["x-coordinate"][:], f["t-coordinate"][:]
dt = t[1] - t[0]
for v in sorted(set(values)):
    with h5py.File(f"{prefix}{v:g}.hdf5", "w") as g:
        g.create_dataset("tensor", data=tensor[values == v].astype(np.float32))
        g.create_dataset("x-coordinate", data=x.astype(np.float32))
        g.create_dataset("t-coordinate", data=np.append(t, t[-1] + dt).astype(np.float32))
        g.attrs[param] = v
    print(f"{prefix}{v:g}.hdf5: {int((values == v).sum())} trajectories")
