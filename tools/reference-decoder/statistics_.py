"""Residual statistics, serialised form: Spec/CODEC.md §5 (decoder side)."""
import struct

import archive
from rangecoder import RangeDecoder, AdaptiveModel


def dequantise(q: int) -> int:
    return ((16 + (q & 15)) << (q >> 4)) >> 4


def read_statistics(blob: bytes) -> dict:
    """{key: {"contexts", "alphabet", "seen": [bool], "rows": {ctx: [q per token]}}}."""
    import classical as cl
    r = archive.Reader(blob)
    if r.take(2) != b"RS" or r.u8() != 1:
        raise archive.ArchiveError("statistics: bad magic or version")
    out = {}
    last = -1
    for _ in range(r.u8()):
        key = struct.unpack("<I", r.take(4))[0]
        contexts = struct.unpack("<H", r.take(2))[0]
        alphabet = r.u8()
        if key <= last:
            raise archive.ArchiveError("statistics: keys not ascending")
        last = key
        bitmap = r.take((contexts + 7) // 8)
        seen = [bool(bitmap[c >> 3] >> (c & 7) & 1) for c in range(contexts)]
        payload = r.take(struct.unpack("<I", r.take(4))[0])
        rd = RangeDecoder(payload)
        model = AdaptiveModel([[1] * 24 for _ in range(4)], 32, 8192)
        rows = {}
        up = None
        for ctx in range(contexts):
            if not seen[ctx]:
                continue
            row = []
            for t in range(alphabet):
                if t == 0:
                    pred = up[0] if up is not None else 96
                else:
                    pred = (up[t] + row[t - 1] + 1) // 2 if up is not None else row[t - 1]
                mc = min(t, 3)
                tok = cl.decode_symbol(rd, model.counts[mc])
                model.update(mc, tok)
                u = cl.read_hybrid(rd, tok)
                m = min(pred, 192 - pred)
                if u <= 2 * m:
                    e = (u + 1) // 2 if u & 1 else -(u // 2)
                else:
                    e = u - m if 192 - pred > pred else -(u - m)
                row.append(min(max(pred + e, 0), 192))
            rows[ctx] = row
            up = row
        out[key] = {"contexts": contexts, "alphabet": alphabet, "seen": seen, "rows": rows}
    if r.pos != len(blob):
        raise archive.ArchiveError("statistics: trailing bytes")
    return out
