#!/usr/bin/env python3
"""compare-pixels.py A B: every PNG in folder A has a twin in B with the same size, format and pixels (pypng)."""
import os, sys
import png


def read(path):
    w, h, rows, info = png.Reader(filename=path).read()
    keep = {k: info.get(k) for k in ("greyscale", "alpha", "bitdepth", "interlace", "transparent", "palette")}
    return w, h, keep, [list(r) for r in rows]


a, b = sys.argv[1], sys.argv[2]
names = sorted(n for n in os.listdir(a) if n.lower().endswith(".png"))
bad = [n for n in names if read(os.path.join(a, n)) != read(os.path.join(b, n))]
for n in bad:
    print(f"differs: {n}")
print(f"compare-pixels: {len(names) - len(bad)} of {len(names)} identical")
sys.exit(1 if bad or not names else 0)
