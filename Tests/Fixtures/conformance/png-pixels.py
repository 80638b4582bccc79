#!/usr/bin/env python3
"""png-pixels.py PNG OUT: a PNG's samples as Spec/ARCHIVE.md §3.2 part 3 bytes (raster order,
channels interleaved, palette images as indices, one byte per sample at depth <= 8, else two
bytes big-endian), read by pypng: the expected pixels, independent of both decoders."""
import sys

import png

w, h, rows, info = png.Reader(filename=sys.argv[1]).read()
depth = info["bitdepth"]
out = bytearray()
for row in rows:
    for v in row:
        out += v.to_bytes(2, "big") if depth > 8 else bytes([v])
open(sys.argv[2], "wb").write(out)
