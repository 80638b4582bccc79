#!/usr/bin/env python3
"""Write the first N Fashion-MNIST test images as 8-bit grey PNGs.

usage: Corpus/make-fashion-mnist-sample.py [N] [OUTDIR] [IDX]
Reads Debian's dataset-fashion-mnist (`/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz`),
or IDX, any idx3 image file (.gz or not; e.g. MNIST's t10k-images-idx3-ubyte.gz).
Writes OUTDIR/test-00000.png ... (default N=1000, OUTDIR=Corpus/fashion-mnist/test-sample).
PNGs are written with Python's zlib only (no extra packages), filter 0, level 9: the bench
re-encodes them with libpng anyway.
"""
import gzip, os, struct, sys, zlib

SRC = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"


def png_bytes(w, h, rows):
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + r for r in rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "fashion-mnist", "test-sample")
    src = sys.argv[3] if len(sys.argv) > 3 else SRC
    with (gzip.open if src.endswith(".gz") else open)(src, "rb") as f:
        magic, count, h, w = struct.unpack(">IIII", f.read(16))
        assert magic == 2051, "not an idx3 image file"
        data = f.read(count * h * w)
    os.makedirs(out, exist_ok=True)
    for i in range(min(n, count)):
        img = data[i * h * w:(i + 1) * h * w]
        with open(os.path.join(out, f"test-{i:05d}.png"), "wb") as g:
            g.write(png_bytes(w, h, [img[r * w:(r + 1) * w] for r in range(h)]))
    print(f"wrote {min(n, count)} images to {out}")


if __name__ == "__main__":
    main()
