#!/usr/bin/env python3
"""Writes configs/rooms/furnished_room.npy: a 3.0 x 2.5 x 2.2 m room with a table, a sofa, a
bookshelf and a cabinet, as a voxel mask for acoustic3d (room = "mask").

5 cm voxels, shape (nz, ny, nx) = (44, 50, 60), uint8, 1 = solid. The solver samples the
nearest voxel, so the same mask serves any ppw.

    python3 scripts/make_furnished_room.py [OUT.npy]
"""
import sys

import numpy as np

H = 0.05
LX, LY, LZ = 3.0, 2.5, 2.2


def box(mask, lo, hi):
    """Marks the voxels whose centres lie in [lo, hi] (metres, x y z) as solid."""
    nz, ny, nx = mask.shape
    c = [(np.arange(n) + 0.5) * H for n in (nx, ny, nz)]
    sx = (c[0] >= lo[0]) & (c[0] <= hi[0])
    sy = (c[1] >= lo[1]) & (c[1] <= hi[1])
    sz = (c[2] >= lo[2]) & (c[2] <= hi[2])
    mask[np.ix_(sz, sy, sx)] = 1


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "configs/rooms/furnished_room.npy"
    mask = np.zeros((round(LZ / H), round(LY / H), round(LX / H)), dtype=np.uint8)
    # Table: a 1.2 x 0.8 m top at 0.72-0.76 m on four 5 cm legs.
    box(mask, (1.2, 0.9, 0.72), (2.4, 1.7, 0.76))
    for x in (1.2, 2.35):
        for y in (0.9, 1.65):
            box(mask, (x, y, 0.0), (x + 0.05, y + 0.05, 0.72))
    # Sofa along the y- wall: seat 2.0 x 0.8 x 0.45 m and a back rest to 0.85 m.
    box(mask, (0.3, 0.0, 0.0), (2.3, 0.8, 0.45))
    box(mask, (0.3, 0.0, 0.45), (2.3, 0.2, 0.85))
    # Bookshelf against the x- wall, 0.35 m deep, to 1.9 m.
    box(mask, (0.0, 1.2, 0.0), (0.35, 2.3, 1.9))
    # Cabinet in the x+ y+ corner.
    box(mask, (2.5, 2.0, 0.0), (3.0, 2.5, 1.0))
    np.save(out, mask)
    print(f"{out}: shape {mask.shape}, {mask.mean():.1%} solid")


if __name__ == "__main__":
    main()
