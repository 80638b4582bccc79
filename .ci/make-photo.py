#!/usr/bin/env python3
import math, random, sys, png
# A photograph-like RGB image: smooth shading, edges and sensor noise (seeded), for the coder-6 bit-exactness check.
w, h = 192, 128
rnd = random.Random(7)
rows = []
for y in range(h):
    row = []
    for x in range(w):
        base = 110 + 60 * math.sin(x / 17.0) * math.cos(y / 23.0) + (40 if (x - 96) ** 2 + (y - 64) ** 2 < 900 else 0)
        for c, k in enumerate((1.0, 0.85, 0.6)):
            v = base * k + 20 * math.sin((x + 2 * y) / (9.0 + 4 * c)) + rnd.gauss(0, 3)
            row.append(max(0, min(255, int(round(v)))))
    rows.append(row)
with open(sys.argv[1], 'wb') as f:
    png.Writer(w, h, greyscale=False, bitdepth=8).write(f, rows)
