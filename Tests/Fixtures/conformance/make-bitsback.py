#!/usr/bin/env python3
"""make-bitsback.py MODEL WEIGHT BLOCK OUT.ddnz PNG...: a format-3 archive that ddnzip would not
write, made with the reference decoder's model code: every image coded by coder 5 in solid blocks
of BLOCK entries with the posterior weight WEIGHT eighths (1 ... 255; ddnzip only tries 4, 8, 16
and 32), by the encoder of Spec/CODEC.md §9.3 run backwards over the decoder of §9.2.

A block's last image takes the greedy path (at each level the candidate of least squared error
to the level target, all levels); every other image *pops* its path from the message under the
posterior tables q_l (its bits come back), then pushes, in the reverse of their decoding order,
the residual's samples, the candidates under the selection tables and the halting flags (every
image at the model's full depth). A large weight, whose q_l are sharp, makes a vector whose
decoding depends on the float32 steps of §9.2's posterior tables more than ddnzip's archives do;
ddnunzip restoring it checks that the Spec's reading is the writer's.
Entry names are the PNG paths as given; names are counted on and shapes repeated where they can be
(bare kinds in runs, Spec/ARCHIVE.md §3.4).
"""
import hashlib
import os
import sys
import zlib

import numpy as np
import png

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tools", "reference-decoder"))
import archive  # noqa: E402
import ddnref  # noqa: E402
import rangecoder  # noqa: E402
from model import Model  # noqa: E402


def varint(v: int) -> bytes:
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


class Recorder:
    """Stands in for a decoder: hands ddnref.ddn_decode the symbols it is given, in order, and
    records each with its table, so that they can be pushed back in reverse."""

    def __init__(self, symbols):
        self.symbols = list(symbols)
        self.pos = 0
        self.coded = []

    def decode(self, starts) -> int:
        s = self.symbols[self.pos]
        self.pos += 1
        self.coded.append((starts, s))
        return s


def encode_image(msg, model, samples, weight, last: bool):
    """Code one image onto msg at full depth (the reverse of CODEC.md §9.2's decoding of it)."""
    image = model.floats(samples)
    path = []
    xhat = model.start_mean()
    for l in range(model.levels):
        s, h, f, u = model.level(l, xhat)
        target = model.level_target(image, l)
        if last:        # nothing to give back: the nearest candidate
            cand = model.all_candidates(l, f, u).reshape(model.candidates, -1)
            d = cand - target.reshape(-1)
            k = int(np.argmin([sum(float(v) * float(v) for v in row) for row in d]))
        else:           # bits-back: the candidate popped under q_l (the decoder pushes it back)
            k = msg.decode(rangecoder.selection_table(model.posterior_logits(l, s, f, u, target, weight)))
            assert not msg.underflow, "popped an empty message"
        xhat = model.candidate(l, k, f, u)
        path.append(k)
    flags = []
    for k in path:
        flags += [0, k]             # continue, then the candidate; no stop flag after the last level
    rec = Recorder(flags + [int(v) for v in samples.reshape(-1)])
    got, got_path, _ = ddnref.ddn_decode(rec, model)
    assert got_path == path and np.array_equal(got, samples) and rec.pos == len(rec.symbols)
    for starts, s in reversed(rec.coded):
        msg.push(starts, s)


def counts_on(prev: str, name: str) -> bool:
    """Is name the previous name counted on (Spec/ARCHIVE.md §3 "Names")?"""
    try:
        return archive.count_on(prev) == name
    except archive.ArchiveError:            # no digits, or a run of nines
        return False


def block_bytes(names, shape, message, weight):
    """Spec/ARCHIVE.md §3.4: magic, count, entry fields (coder 5: no payload lengths), the message."""
    width, height, type_byte = shape
    out = bytearray(b"DDNB") + varint(len(names))
    prev, i = "", 0
    while i < len(names):
        name = names[i]
        kind = 5
        if i > 0:
            kind |= 0x10                                        # same shape
        counted = i > 0 and counts_on(prev, name)
        if counted:
            kind |= 8
        if kind == archive.BARE_KIND:                           # a run of bare kinds after it?
            r = 0
            while i + 1 + r < len(names) and counts_on(names[i + r], names[i + 1 + r]):
                r += 1
            if r:
                out += bytes([kind | 0x40]) + varint(r)
                prev, i = names[i + r], i + r + 1
                continue
        out.append(kind)
        if not counted:
            pb, nb = prev.encode(), name.encode()
            shared = 0
            while shared < min(len(pb), len(nb) - 1, 1022) and pb[shared] == nb[shared]:
                shared += 1
            out += varint(shared * 1024 + len(nb) - shared) + nb[shared:]
        if i == 0:
            out += varint(width) + varint(height) + bytes([type_byte])
        prev, i = name, i + 1
    out += varint(len(message)) + bytes([weight]) + message
    return bytes(out)


def main():
    model_path, weight8, block_size, out_path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    files = sys.argv[5:]
    model_bytes = open(model_path, "rb").read()
    model = Model(model_bytes)
    colour = {1: 0, 2: 4, 3: 2, 4: 6}[model.channels]
    shape = (model.width, model.height, colour * 32 + model.bit_depth)
    images = []
    for f in files:
        w, h, rows, info = png.Reader(filename=f).read()
        a = np.array([list(r) for r in rows], dtype=np.int64).reshape(h, w, -1)
        assert (w, h, a.shape[2], info["bitdepth"]) == (model.width, model.height, model.channels, model.bit_depth), f
        images.append(a)
    blocks = []
    for b0 in range(0, len(files), block_size):
        names, imgs = files[b0:b0 + block_size], images[b0:b0 + block_size]
        msg = rangecoder.RansMessage((1 << 23).to_bytes(4, "little"))    # the empty message
        for i in reversed(range(len(imgs))):
            encode_image(msg, model, imgs[i], weight8 / 8, i == len(imgs) - 1)
        message = msg.x.to_bytes(4, "little") + bytes(reversed(msg.stack))
        blocks.append((names, imgs, message))
    crc_id = 0                                                  # §2 archive id
    for names, _, message in blocks:
        for n in names:
            crc_id = zlib.crc32(n.encode(), crc_id)
        crc_id = zlib.crc32(message, crc_id)
    header = b"DDNZ" + bytes([3, 1]) + crc_id.to_bytes(4, "big") + hashlib.sha256(model_bytes).digest()[:4]
    out = bytearray(header)
    for names, imgs, message in blocks:
        raw = block_bytes(names, shape, message, weight8)
        crc = zlib.crc32(header + raw)                          # §3.5
        for a in imgs:
            crc = zlib.crc32(a.astype(np.uint8).tobytes(), crc)
        for n in names:
            crc = zlib.crc32(n.encode(), crc)
        out += raw + crc.to_bytes(4, "big")
    out += b"DDNE" + varint(len(files))
    open(out_path, "wb").write(out)


if __name__ == "__main__":
    main()
