"""Coder 1, the classical coder (Spec/CODEC.md §4), decoder side, without x̂ (coder 1 never has
one); with the archive's statistics (§5) when the header carries them. Integer arithmetic only.
"""
import numpy as np

import archive
from rangecoder import RangeDecoder, AdaptiveModel
from statistics_ import read_statistics, dequantise

INCREMENT, LIMIT = 32, 8192
A_THRESHOLDS = [0, 1, 2, 4, 6, 9, 13, 18, 25, 35, 50, 70, 100, 140, 200]
L_THRESHOLDS = [0, 1, 2, 5, 12, 32, 96, 192, 254]


def token_count(max_value: int) -> int:
    """§4.1: the alphabet for values up to max_value (token(max_value) + 1)."""
    return hybrid_token(max_value) + 1


def hybrid_token(u: int) -> int:
    if u < 16:
        return u
    n = u.bit_length() - 1
    return 16 + 2 * (n - 4) + ((u >> (n - 1)) & 1)


def read_hybrid(rd: RangeDecoder, token: int) -> int:
    """§4.1 inverse: u = 2^n | bit << (n - 1) | (n - 1 raw bits)."""
    if token < 16:
        return token
    n = (token - 16) // 2 + 4
    return (1 << n) | (((token - 16) & 1) << (n - 1)) | rd.raw_bits(n - 1)


def exceeds(v: int, thresholds) -> int:
    return sum(1 for t in thresholds if v > t)


def sample_prior(t: int, a: int) -> int:
    return 1 + (32 >> min(31, t * 4 // (a + 1)))


def role_of(c: int, channels: int) -> int:
    if c == 0:
        return 0
    if channels == 2:
        return 2
    return 1 if c in (1, 2) else 2


T = [max(1, (1 << 42) // ((1 + e) ** 2) ** 2) for e in range(2048)]


def make_model(key, contexts, alphabet, prior, stats):
    """§4.5: starting counts from the statistics' table for key when it has this shape and the
    context was seen, else the neutral prior."""
    table = stats.get(key) if stats else None
    if table is not None and (table["contexts"] != contexts or table["alphabet"] != alphabet):
        table = None
    rows = []
    for ctx in range(contexts):
        if table is not None and table["seen"][ctx]:
            rows.append([max(1, (dequantise(q) * 4000 + 2048) >> 12) for q in table["rows"][ctx]])
        else:
            rows.append([prior(ctx, t) for t in range(alphabet)])
    return AdaptiveModel(rows, INCREMENT, LIMIT)


def decode_symbol(rd: RangeDecoder, a_row, b_row=None) -> int:
    """§3 (one row) or §3.1 (two rows mixed)."""
    counts = a_row if b_row is None else [x + y for x, y in zip(a_row, b_row)]
    total = sum(counts)
    t = rd.target(total)
    start = 0
    for s, f in enumerate(counts):
        if t < start + f:
            rd.consume(start, f)
            return s
        start += f
    raise AssertionError("target past the table")   # cannot happen: target <= total - 1


def decode_entry(entry, header):
    if entry.bit_depth not in (1, 2, 4, 8, 16):
        raise archive.ArchiveError("bad bit depth")
    stats = read_statistics(header.statistics) if header.statistics else {}
    rd = RangeDecoder(entry.payload)
    if entry.colour_type == 3:
        return decode_palette(rd, entry, stats)
    return decode_samples(rd, entry, stats)


def decode_palette(rd, entry, stats):
    """§4.6."""
    B, w, h = entry.bit_depth, entry.width, entry.height
    max_value = (1 << B) - 1
    alphabet = token_count(max_value)
    choice = make_model(1 << 24 | B << 16, 80, 5, lambda ctx, t: [8, 2, 2, 2, 2][t], stats)
    literal = make_model(2 << 24 | B << 16, 1, alphabet, lambda ctx, t: sample_prior(t, 6), stats)
    img = np.zeros((h, w), dtype=np.int64)
    for y in range(h):
        for x in range(w):
            W = img[y, x - 1] if x > 0 else -1
            N = img[y - 1, x] if y > 0 else -1
            NE = img[y - 1, x + 1] if y > 0 and x + 1 < w else -1
            NW = img[y - 1, x - 1] if y > 0 and x > 0 else -1
            cands = []
            for v in (W, N, NE, NW):
                if v >= 0 and v not in cands:
                    cands.append(v)
            k = len(cands)
            pattern = int(W == N) | int(N == NE) << 1 | int(W == NW) << 2 | int(N == NW) << 3
            ctx = pattern * 5 + k
            j = decode_symbol(rd, choice.counts[ctx])
            choice.update(ctx, j)
            if j < k:
                img[y, x] = cands[j]
            else:
                tok = decode_symbol(rd, literal.counts[0])
                literal.update(0, tok)
                img[y, x] = min(read_hybrid(rd, tok), max_value)
    return img.reshape(-1)


def decode_samples(rd, entry, stats):
    """§4.2-§4.5, no x̂."""
    B, w, h, C = entry.bit_depth, entry.width, entry.height, entry.channels
    M = (1 << B) - 1
    alphabet = token_count(M)
    up, down = max(0, 8 - B), max(0, B - 8)

    def scale(v):
        return (v << up) >> down

    def clamp(v):
        return min(max(v, 0), M)

    roles = [role_of(c, C) for c in range(C)]
    present = set(roles)
    token_models, second_models, use_second = [], [], []
    for role in range(3):
        key = B << 16 | role << 8
        contexts = 160 if role in present else 1
        token_models.append(make_model(key, contexts, alphabet, lambda ctx, t: sample_prior(t, ctx % 16), stats))
        in_use = role in present and key not in stats
        use_second.append(in_use)
        second_models.append(make_model(3 << 24 | key, 108 if in_use else 1, alphabet,
                                        lambda ctx, t: sample_prior(t, 4 * (ctx % 4) + 2), None))
    img = np.zeros((h, w, C), dtype=np.int64)
    n_slots = [9 if roles[c] == 1 else 8 for c in range(C)]
    err = [np.zeros((h, w, n_slots[c]), dtype=np.int64) for c in range(C)]
    shift_e = max(0, B - 8)
    for y in range(h):
        for x in range(w):
            ref_delta = 0                                    # x_ref - MED_ref of channel c - 1
            for c in range(C):
                px = img[:, :, c]
                if y == 0:
                    W = int(px[y, x - 1]) if x > 0 else 0
                    N = NW = NE = NN = W
                else:
                    N = int(px[y - 1, x])
                    W = int(px[y, x - 1]) if x > 0 else N
                    NW = int(px[y - 1, x - 1]) if x > 0 else N
                    NE = int(px[y - 1, x + 1]) if x + 1 < w else N
                    NN = int(px[y - 2, x]) if y >= 2 else N
                WW = int(px[y, x - 2]) if x >= 2 else W
                if NW >= max(N, W):
                    med = min(N, W)
                elif NW <= min(N, W):
                    med = max(N, W)
                else:
                    med = N + W - NW
                preds = [N + W - NW, N, W, W + NE - N, NE, (N + W + 1) >> 1, 2 * N - NN, 2 * W - WW]
                if roles[c] == 1:
                    preds.append(med + ref_delta)
                er = err[c]
                es = []
                for j in range(n_slots[c]):
                    eN = int(er[y - 1, x, j]) if y > 0 else 0
                    eW = int(er[y, x - 1, j]) if x > 0 else 0
                    eNW = int(er[y - 1, x - 1, j]) if y > 0 and x > 0 else 0
                    eNE = int(er[y - 1, x + 1, j]) if y > 0 and x + 1 < w else 0
                    es.append((3 * eN + 3 * eW + eNW + eNE) >> shift_e)
                ws = [T[min(e, 2047)] for e in es]
                sw = sum(ws)
                P = (sum(wj * clamp(pj) for wj, pj in zip(ws, preds)) + sw // 2) // sw
                A = scale(min(es) + (abs(N - NW) + abs(W - NW) + abs(NE - N)) // 2)
                a = exceeds(A, A_THRESHOLDS)
                l = exceeds(scale(P), L_THRESHOLDS)
                ctx = l * 16 + a
                role = roles[c]
                tm = token_models[role]
                if use_second[role]:
                    sgn = lambda v: 0 if v < 0 else (1 if v == 0 else 2)
                    ctx2 = (9 * sgn(N - NW) + 3 * sgn(W - NW) + sgn(NE - N)) * 4 + (a >> 2)
                    sm = second_models[role]
                    tok = decode_symbol(rd, tm.counts[ctx], sm.counts[ctx2])
                    tm.update(ctx, tok)
                    sm.update(ctx2, tok)
                else:
                    tok = decode_symbol(rd, tm.counts[ctx])
                    tm.update(ctx, tok)
                u = read_hybrid(rd, tok)
                p = P
                m = min(p, M - p)
                if u <= 2 * m:
                    e = (u + 1) // 2 if u & 1 else -(u // 2)
                else:
                    e = u - m if M - p > p else -(u - m)
                v = clamp(p + e)
                px[y, x] = v
                for j in range(n_slots[c]):
                    er[y, x, j] = abs(v - clamp(preds[j]))
                ref_delta = v - med
    return img.reshape(-1)
