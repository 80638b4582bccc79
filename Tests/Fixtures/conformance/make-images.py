#!/usr/bin/env python3
"""make-images.py OUT: the small PNGs the conformance vectors are made from (pypng; deterministic).

Fashion-MNIST garments cut down to 8 wide x 12 high (every other row of rows 2..25, every other
column of columns 6..21): OUT/grey-train (200 training images for the tiny models) and
OUT/grey (6 test images); the same cut 8 x 8, tinted (1, 0.8, 0.5), as RGB: OUT/rgb-train and OUT/rgb (its first 6,
which the tiny RGB model codes better than the classical coders);
and two 13 x 7 grey images of no model's shape: OUT/odd/garment.png (a crop, for the classical
coder) and OUT/odd/stripes.png (a pattern, for deflate); OUT/fm: 12 whole 28 x 28 test images (the
default model); OUT/grey/tail.png: grey/g2.png with bytes after IEND, which ddnzip stores
(Spec/ARCHIVE.md §5).
"""
import gzip
import os
import sys

import png

SRC = "/usr/share/datasets/fashion-mnist"


def idx_images(name, count):
    with gzip.open(os.path.join(SRC, name), "rb") as fh:
        data = fh.read()
    n, h, w = (int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(3))
    return [[list(data[16 + (k * h + y) * w:16 + (k * h + y) * w + w]) for y in range(h)] for k in range(min(n, count))]


def cut(img, rows):
    return [[img[2 + 2 * y][6 + 2 * x] for x in range(8)] for y in range(rows)]


def tint(grey):
    return [[int(v * f) for v in row for f in (1.0, 0.8, 0.5)] for row in grey]


def write(path, rows, greyscale):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    w = len(rows[0]) if greyscale else len(rows[0]) // 3
    with open(path, "wb") as fh:
        png.Writer(w, len(rows), greyscale=greyscale, bitdepth=8).write(fh, rows)


def main():
    out = sys.argv[1]
    train = idx_images("train-images-idx3-ubyte.gz", 200)
    test = idx_images("t10k-images-idx3-ubyte.gz", 6)
    for i, img in enumerate(train):
        write(f"{out}/grey-train/t{i:03d}.png", cut(img, 12), True)
        write(f"{out}/rgb-train/t{i:03d}.png", tint(cut(img, 8)), False)
    for i, img in enumerate(train[:6]):                 # the RGB model codes images it was trained on
        write(f"{out}/rgb/c{i}.png", tint(cut(img, 8)), False)
    for i, img in enumerate(test):
        write(f"{out}/grey/g{i}.png", cut(img, 12), True)
    for i, img in enumerate(idx_images("t10k-images-idx3-ubyte.gz", 12)):
        write(f"{out}/fm/f{i}.png", img, True)
    with open(f"{out}/grey/g2.png", "rb") as fh:
        tail = fh.read() + b"bytes after IEND"
    with open(f"{out}/grey/tail.png", "wb") as fh:
        fh.write(tail)
    write(f"{out}/odd/garment.png", [row[8:21] for row in test[0][10:17]], True)
    write(f"{out}/odd/stripes.png", [[(x * 37 + y * 11 + (x * y) % 5 * 20) % 256 for x in range(13)] for y in range(7)], True)


main()
