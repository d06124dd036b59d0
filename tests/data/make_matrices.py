#!/usr/bin/env python3
"""Writes the small matrix, vector and mask files of tests/apps/poisson.cmake (standard
library only, so it runs anywhere):

  poisson2d_8.mtx     5-point Laplacian (4 on the diagonal, -1 off it) on an 8 x 8 grid of
                      interior points, 64 x 64, Matrix Market symmetric storage (lower triangle)
  poisson2d_8.bin     the same matrix in PETSc binary (MatView layout, big-endian, 32-bit
                      indices) followed by its right-hand side b = 1 (VecView layout)
  rhs_64.mtx          a Matrix Market array vector of 64 values, b_i = (i + 1) / 64
  nonsquare.mtx       3 x 4
  nonsymmetric.mtx    2 x 2 with a_12 != a_21
  malformed.mtx       a bad entry on line 5
  mask_16x16.npy      a 2D obstacle mask (uint8, shape (16, 16), nonzero = solid): a disk and
                      a bar

  python3 tests/data/make_matrices.py tests/data
"""
import math
import os
import struct
import sys

MAT_FILE_CLASSID = 1211216
VEC_FILE_CLASSID = 1211214


def laplacian(m):
    """Rows of the m*m 5-point Laplacian as sorted lists of (col, value)."""
    rows = []
    for r in range(m * m):
        i, j = r % m, r // m
        row = {r: 4.0}
        if i > 0:
            row[r - 1] = -1.0
        if i < m - 1:
            row[r + 1] = -1.0
        if j > 0:
            row[r - m] = -1.0
        if j < m - 1:
            row[r + m] = -1.0
        rows.append(sorted(row.items()))
    return rows


def write_mtx_symmetric(path, rows):
    lower = [(r, c, v) for r, row in enumerate(rows) for c, v in row if c <= r]
    with open(path, "w") as f:
        f.write("%%MatrixMarket matrix coordinate real symmetric\n")
        f.write("% 5-point Laplacian on an 8 x 8 grid (tests/data/make_matrices.py)\n")
        f.write(f"{len(rows)} {len(rows)} {len(lower)}\n")
        for r, c, v in lower:
            f.write(f"{r + 1} {c + 1} {v:g}\n")


def write_petsc_binary(path, rows, b):
    n = len(rows)
    nz = sum(len(row) for row in rows)
    with open(path, "wb") as f:
        f.write(struct.pack(">4i", MAT_FILE_CLASSID, n, n, nz))
        f.write(struct.pack(f">{n}i", *[len(row) for row in rows]))
        f.write(struct.pack(f">{nz}i", *[c for row in rows for c, _ in row]))
        f.write(struct.pack(f">{nz}d", *[v for row in rows for _, v in row]))
        f.write(struct.pack(">2i", VEC_FILE_CLASSID, n))
        f.write(struct.pack(f">{n}d", *b))


def write_npy_uint8(path, shape, data):
    header = "{'descr': '|u1', 'fortran_order': False, 'shape': (%s), }" % "".join(f"{s}, " for s in shape)
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("ascii"))
        f.write(bytes(data))


def main(out):
    rows = laplacian(8)
    write_mtx_symmetric(os.path.join(out, "poisson2d_8.mtx"), rows)
    write_petsc_binary(os.path.join(out, "poisson2d_8.bin"), rows, [1.0] * len(rows))
    with open(os.path.join(out, "rhs_64.mtx"), "w") as f:
        f.write("%%MatrixMarket matrix array real general\n64 1\n")
        f.writelines(f"{(i + 1) / 64:.17g}\n" for i in range(64))
    with open(os.path.join(out, "nonsquare.mtx"), "w") as f:
        f.write("%%MatrixMarket matrix coordinate real general\n3 4 3\n1 1 2\n2 2 2\n3 3 2\n")
    with open(os.path.join(out, "nonsymmetric.mtx"), "w") as f:
        f.write("%%MatrixMarket matrix coordinate real general\n2 2 4\n1 1 2\n1 2 -1\n2 1 -0.5\n2 2 2\n")
    with open(os.path.join(out, "malformed.mtx"), "w") as f:
        f.write("%%MatrixMarket matrix coordinate real general\n% line 2\n2 2 3\n1 1 2\n2 1 oops\n2 2 2\n")
    # (ny, nx) = (16, 16), x fastest; cell centres (i + 0.5) / 16.
    mask = []
    for j in range(16):
        for i in range(16):
            x, y = (i + 0.5) / 16, (j + 0.5) / 16
            disk = math.hypot(x - 0.35, y - 0.5) < 0.2
            bar = 0.7 < x < 0.8 and y < 0.75
            mask.append(1 if disk or bar else 0)
    write_npy_uint8(os.path.join(out, "mask_16x16.npy"), (16, 16), mask)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
