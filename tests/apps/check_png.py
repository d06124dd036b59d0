"""Checks that each FILE is a PNG of WIDTH x HEIGHT pixels.
   check_png.py WIDTH HEIGHT FILE..."""
import struct
import sys

width, height = int(sys.argv[1]), int(sys.argv[2])
for name in sys.argv[3:]:
    with open(name, "rb") as f:
        head = f.read(24)
    if head[:8] != bytes([137, 80, 78, 71, 13, 10, 26, 10]):
        sys.exit(f"{name}: not a PNG")
    size = struct.unpack(">II", head[16:24])
    if size != (width, height):
        sys.exit(f"{name}: {size[0]} x {size[1]} pixels, expected {width} x {height}")
    print(f"{name}: PNG, {width} x {height}")
