#!/usr/bin/env python3
"""ddnref: a reference decoder for ddnzip archives, written from Spec/ alone (Python + NumPy).

    ddnref.py ARCHIVE [--model MODEL] [--out DIR]

Reads archive formats 2 (entries, Spec/ARCHIVE.md §3) and 3 (solid blocks, §3.4, whose coder-5
entries share one rANS message, their paths coded by bits-back: Spec/CODEC.md §9). Decodes every
entry, checks its CRC-32 (Spec/ARCHIVE.md §3.2; format 3: its block's, §3.5) and, with --out,
writes each entry's decoded samples as DIR/NAME.pixels (the §3.2 part-3 bytes: raster order,
channels interleaved, one byte per sample at depth <= 8, two bytes big-endian above) or, for a
stored entry, the file itself. Exit status 0 when every entry decodes and passes its check.

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


def check_model_shape(entry, model):
    if model is None:
        raise archive.ArchiveError("coder 5 needs a model (--model)")
    if (entry.width, entry.height, entry.channels, entry.bit_depth) != (model.width, model.height, model.channels, model.bit_depth) or model.version < 2:
        raise archive.ArchiveError("entry is not of the model's shape")


def ddn_decode(dec, model):
    """Coder 5's symbols (Spec/CODEC.md §7.2 = §6.2's path and halting part, then the residual
    network), from `dec`: a RangeDecoder (an entry's payload, format 2) or a RansMessage (a
    block's message, format 3: CODEC.md §9.2 pops the same symbols in the same order).
    Returns (samples (H, W, C), path, levels) with levels[l] = (s, f, u) of each chosen level."""
    xhat = model.start_mean()                   # level 0's input: the start image's mean, one pixel
    path, levels = [], []
    for depth in range(model.levels):
        s, h, f, u = model.level(depth, xhat)
        if dec.decode(rangecoder.halting_table(h)) == 1:       # 1 = stop
            break
        k = dec.decode(rangecoder.selection_table(s))
        xhat = model.candidate(depth, k, f, u)
        path.append(k)
        levels.append((s, f, u))
    full = Model.resample(xhat, model.height, model.width)
    return model.decode_samples(dec, full, path, rangecoder.softmax_table), path, levels


def ddn_network(entry, model) -> np.ndarray:
    """Coder 5 in format 2: the entry's own range-coder payload (Spec/CODEC.md §7.2)."""
    check_model_shape(entry, model)
    samples, entry.path, _ = ddn_decode(rangecoder.RangeDecoder(entry.payload), model)
    return samples.reshape(-1)


def ddn_bits_back(block, model) -> dict:
    """Coder 5 in format 3 (Spec/CODEC.md §9.2, Spec/ARCHIVE.md §3.4): the block's coder-5
    entries decoded in entry order from its one rANS message; after each image but the last, its
    path's candidates are pushed back under the posterior tables q_l (bits-back), last level first.
    Returns {entry index in the block: samples}."""
    coded = [i for i, e in enumerate(block.entries) if e.coder == 5]
    if not coded:                               # no message (its length 0 was checked when read)
        return {}
    for i in coded:
        check_model_shape(block.entries[i], model)
    try:
        msg = rangecoder.RansMessage(block.message)
    except ValueError as err:
        raise archive.ArchiveError(f"block message: {err}")
    weight = block.weight / 8                   # c, the posterior weight (stored in eighths)
    out = {}
    for n, i in enumerate(coded):
        e = block.entries[i]
        samples, e.path, levels = ddn_decode(msg, model)
        out[i] = samples.reshape(-1)
        if n == len(coded) - 1 or not e.path:  # the last image gives nothing back; nor does depth 0
            continue
        image = model.floats(samples)
        tables = []
        for l, (s, f, u) in enumerate(levels):  # q_l for l = 0 ... d-1, from the decoded image
            logits = model.posterior_logits(l, s, f, u, model.level_target(image, l), weight)
            tables.append(rangecoder.selection_table(logits))
        for l in reversed(range(len(levels))):  # push k_l under q_l, l = d-1 down to 0
            msg.push(tables[l], e.path[l])
    if not msg.empty():
        raise archive.ArchiveError("block message not empty after its last image (damage)")
    return out


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
    header, entries, blocks = archive.read_archive(data)
    model = Model(model_bytes) if model_bytes is not None else None
    if header.model_identity:
        if model is None:
            raise archive.ArchiveError(f"needs the model {header.model_identity.hex()}…")
        if not model.identity.startswith(header.model_identity):
            raise archive.ArchiveError(f"needs the model {header.model_identity.hex()}…, the given model is {model.identity[:4].hex()}…")
    if header.version == 3:
        return entries, [r for b in blocks for r in decode_block(header, b, model)]
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
        results.append((e.payload if e.coder == 0 else pixels, describe(e), time.perf_counter() - t0))
    return entries, results


def describe(e) -> str:
    extra = f", depth {len(e.path)}, path {e.path}" if hasattr(e, "path") else ""
    return f"coder {e.coder}{extra}"


def decode_block(header, block, model) -> list:
    """A version-3 block (Spec/ARCHIVE.md §3.4, §3.5): its own-payload entries one by one, its
    coder-5 entries from the shared message, then the block's CRC-32. A block that fails to decode
    or to match is lost whole: every entry gets (None, why, seconds); seconds are the block's,
    divided evenly among its entries."""
    t0 = time.perf_counter()
    try:
        pixels = [None] * len(block.entries)
        for i, e in enumerate(block.entries):
            if e.coder != 5:
                pixels[i] = decode_entry(header, e, model)
        for i, samples in ddn_bits_back(block, model).items():
            pixels[i] = pixel_bytes(block.entries[i], samples)
        if archive.block_crc(header, block, pixels) != block.checksum:
            raise archive.ArchiveError("block CRC-32 mismatch (decoded pixels differ)")
    except archive.ArchiveError as err:
        dt = (time.perf_counter() - t0) / len(block.entries)
        return [(None, f"block {block.entries[0].block}: {err}", dt) for _ in block.entries]
    dt = (time.perf_counter() - t0) / len(block.entries)
    return [(e.payload if e.coder == 0 else p, describe(e) + f", block {e.block}", dt)
            for e, p in zip(block.entries, pixels)]


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
