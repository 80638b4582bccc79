#!/usr/bin/env python3
"""ddnref: a reference decoder for ddnzip archives, written from Spec/ alone (Python + NumPy).

    ddnref.py ARCHIVE [--model MODEL] [--out DIR]

Decodes every entry, checks its CRC-32 (Spec/ARCHIVE.md §3.2) and, with --out, writes each
entry's decoded samples as DIR/NAME.pixels (the §3.2 part-3 bytes: raster order, channels
interleaved, one byte per sample at depth <= 8, two bytes big-endian above) or, for a stored
entry, the file itself. Exit status 0 when every entry decodes and passes its check.

Coders: 0 (stored), 1 (classical), 3 (raw samples), 4 (deflate), 5 (DDN with network,
single-shot models). Not yet: 2 (DDN with the context coder), 6 (classic2), recurrence models.
Speed is no goal: every float32 sum is a Python loop in the Spec's order.
"""
import argparse
import os
import sys
import time

import numpy as np

import archive
import rangecoder
from model import Model, ModelError


def raw_samples(entry) -> np.ndarray:
    """Coder 3: every sample MSB-first at the bit depth, rows not padded."""
    d = entry.bit_depth
    n = entry.width * entry.height * entry.channels
    if len(entry.payload) != (n * d + 7) // 8:
        raise archive.ArchiveError("raw payload of the wrong length")
    bits = np.unpackbits(np.frombuffer(entry.payload, dtype=np.uint8))[:n * d].reshape(n, d)
    return bits.astype(np.int64) @ (1 << np.arange(d - 1, -1, -1, dtype=np.int64))


def deflate(entry) -> np.ndarray:
    """Coder 4: the zlib stream of a non-interlaced PNG image (filter byte per row, PNG's five
    filters), colour type 0/4/2/6 by channel count (palette indices as grey)."""
    import zlib
    d, c, w, h = entry.bit_depth, entry.channels, entry.width, entry.height
    try:
        raw = zlib.decompress(entry.payload)
    except zlib.error as err:
        raise archive.ArchiveError(f"deflate: {err}")
    stride = (w * c * d + 7) // 8
    if len(raw) != h * (stride + 1):
        raise archive.ArchiveError("deflate: wrong image data length")
    bpp = max(1, c * d // 8)
    prev = bytearray(stride)
    rows = bytearray()
    for y in range(h):
        ft = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            cc = prev[i - bpp] if i >= bpp else 0
            if ft == 1:
                line[i] = (line[i] + a) & 255
            elif ft == 2:
                line[i] = (line[i] + b) & 255
            elif ft == 3:
                line[i] = (line[i] + ((a + b) >> 1)) & 255
            elif ft == 4:
                p = a + b - cc
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - cc)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else cc)) & 255
            elif ft != 0:
                raise archive.ArchiveError("deflate: bad filter type")
        rows += line
        prev = line
    n = w * c
    if d == 16:
        return np.frombuffer(bytes(rows), dtype=">u2").astype(np.int64)
    out = []
    for y in range(h):
        bits = np.unpackbits(np.frombuffer(bytes(rows[y * stride:(y + 1) * stride]), dtype=np.uint8))[:n * d]
        out.append(bits.reshape(n, d).astype(np.int64) @ (1 << np.arange(d - 1, -1, -1, dtype=np.int64)))
    return np.concatenate(out)


def ddn_network(entry, model) -> np.ndarray:
    """Coder 5 (Spec/CODEC.md §7.2): the path through the levels, then the residual network."""
    if model is None:
        raise archive.ArchiveError("coder 5 needs a model (--model)")
    if (entry.width, entry.height, entry.channels, entry.bit_depth) != (model.width, model.height, model.channels, model.bit_depth) or model.version < 2:
        raise archive.ArchiveError("entry is not of the model's shape")
    rd = rangecoder.RangeDecoder(entry.payload)
    xhat = model.start_mean()
    path = []
    for depth in range(model.levels):
        s, h, f, u = model.level(depth, xhat)
        if rd.decode(rangecoder.halting_table(h)) == 1:        # 1 = stop
            break
        k = rd.decode(rangecoder.selection_table(s))
        xhat = model.candidate(depth, k, f, u)
        path.append(k)
    full = Model.resample(xhat, model.height, model.width)
    entry.path = path
    return model.decode_samples(rd, full, path, rangecoder.softmax_table).reshape(-1)


def classical(entry, header):
    import classical as cl   # only when an archive holds coder-1 entries
    return cl.decode_entry(entry, header)


def pixel_bytes(entry, samples) -> bytes:
    if entry.bit_depth <= 8:
        return np.asarray(samples, dtype=np.uint8).tobytes()
    return np.asarray(samples, dtype=">u2").tobytes()


def decode_entry(header, entry, model):
    if entry.coder == 0:
        return b""
    if entry.coder == 3:
        return pixel_bytes(entry, raw_samples(entry))
    if entry.coder == 5:
        return pixel_bytes(entry, ddn_network(entry, model))
    if entry.coder == 4:
        return pixel_bytes(entry, deflate(entry))
    if entry.coder == 1:
        return pixel_bytes(entry, classical(entry, header))
    raise archive.ArchiveError(f"coder {entry.coder} is not implemented by the reference decoder")


def decode_archive(data: bytes, model_bytes: bytes = None):
    """Decode every entry: returns (entries, results), results[i] = (pixels bytes or None, message, seconds).
    Raises ArchiveError when the container itself cannot be read or the model does not match."""
    header, entries = archive.read_archive(data)
    model = Model(model_bytes) if model_bytes is not None else None
    if header.model_identity:
        if model is None:
            raise archive.ArchiveError(f"needs the model {header.model_identity.hex()}…")
        if not model.identity.startswith(header.model_identity):
            raise archive.ArchiveError(f"needs the model {header.model_identity.hex()}…, the given model is {model.identity[:4].hex()}…")
    results = []
    for e in entries:
        t0 = time.perf_counter()
        try:
            pixels = decode_entry(header, e, model)
            if archive.entry_crc(header, e, pixels) != e.checksum:
                results.append((None, "CRC-32 mismatch (decoded pixels differ)", time.perf_counter() - t0))
                continue
        except archive.ArchiveError as err:
            results.append((None, str(err), time.perf_counter() - t0))
            continue
        extra = f", depth {len(e.path)}, path {e.path}" if hasattr(e, "path") else ""
        results.append((e.payload if e.coder == 0 else pixels, f"coder {e.coder}{extra}", time.perf_counter() - t0))
    return entries, results


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("archive")
    ap.add_argument("--model")
    ap.add_argument("--out")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args(argv)
    with open(a.archive, "rb") as fh:
        data = fh.read()
    model_bytes = None
    if a.model:
        with open(a.model, "rb") as fh:
            model_bytes = fh.read()
    try:
        entries, results = decode_archive(data, model_bytes)
    except (archive.ArchiveError, ModelError) as err:
        print(f"{a.archive}: {err}", file=sys.stderr)
        return 1
    failed = 0
    for e, (pixels, msg, dt) in zip(entries, results):
        if pixels is None:
            failed += 1
            print(f"{e.name}: {msg}", file=sys.stderr)
            continue
        if a.verbose:
            print(f"{e.name}: {msg} ({dt:.2f} s)")
        if a.out:
            dest = os.path.join(a.out, e.name + ("" if e.coder == 0 else ".pixels"))
            os.makedirs(os.path.dirname(dest) or ".", exist_ok=True)
            with open(dest, "wb") as fh:
                fh.write(pixels)
    print(f"{a.archive}: {len(entries) - failed} of {len(entries)} entries decoded, CRC-32 checked")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
