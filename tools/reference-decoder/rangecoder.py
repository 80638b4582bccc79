"""Range decoder and frequency tables: Spec/CODEC.md §1 (decoder), §2, §3, §6.1, §7.1.

Integer arithmetic only (Python ints), except where a table is built from float32 logits: those
steps use NumPy float32 scalars, one exactly rounded operation at a time.

Invariants (Spec/CODEC.md §1): between symbols 2^24 <= range <= 2^32 - 1; every symbol is
(start, freq, total) with freq >= 1, start + freq <= total, 1 <= total <= 2^16. Symbols come out
in the order they were encoded (FIFO). Bytes past the end of the input read as 0x00.
"""
import math

import numpy as np

MASK32 = 0xFFFFFFFF


class RangeDecoder:
    """Spec/CODEC.md §1 "Decoder"."""

    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0
        self.range = 0xFFFFFFFF
        self.code = 0
        for _ in range(4):                      # code = the first four bytes, big-endian
            self.code = (self.code << 8) | self._next_byte()
        self.r = 0

    def _next_byte(self) -> int:
        b = self.data[self.pos] if self.pos < len(self.data) else 0
        self.pos += 1
        return b

    def target(self, total: int) -> int:
        self.r = self.range // total
        return min(self.code // self.r, total - 1)

    def consume(self, start: int, freq: int) -> None:
        self.code = (self.code - self.r * start) & MASK32
        self.range = self.r * freq
        while self.range < (1 << 24):
            self.code = ((self.code << 8) | self._next_byte()) & MASK32
            self.range <<= 8

    def decode(self, starts) -> int:
        """Decode one symbol of a table given as cumulative starts (len n + 1, starts[n] = total)."""
        total = int(starts[-1])
        t = self.target(total)
        s = int(np.searchsorted(starts, t, side="right")) - 1   # starts[s] <= t < starts[s + 1]
        self.consume(int(starts[s]), int(starts[s + 1] - starts[s]))
        return s

    def raw_bits(self, n: int) -> int:
        """§1 "Raw bits": chunks of min(remaining, 16) bits, most significant chunk first."""
        v = 0
        while n > 0:
            m = min(n, 16)
            t = self.target(1 << m)
            self.consume(t, 1)
            v = (v << m) | t
            n -= m
        return v


def cumulative(freqs) -> np.ndarray:
    """Starts of a table: [0, f0, f0 + f1, ..., total] as int64."""
    out = np.zeros(len(freqs) + 1, dtype=np.int64)
    np.cumsum(np.asarray(freqs, dtype=np.int64), out=out[1:])
    return out


def frequency_table(counts, total_bits: int) -> list:
    """Spec/CODEC.md §2: counts c_i >= 0 normalised to M = 2^total_bits, every f_i >= 1."""
    n = len(counts)
    M = 1 << total_bits
    c = [int(x) for x in counts]
    if all(x == 0 for x in c):
        c = [1] * n
    S = sum(c)
    spare = M - n
    f = [1 + (ci * spare) // S for ci in c]
    left = M - sum(f)
    order = sorted(range(n), key=lambda i: (-((c[i] * spare) % S), i))   # largest remainder, lower index
    for i in order[:left]:
        f[i] += 1
    return f


def _round_half_away(v: float) -> int:
    """Round a non-negative or negative double to nearest, ties away from zero (exactly)."""
    a = abs(v)
    fl = math.floor(a)
    r = fl + (1 if a - fl >= 0.5 else 0)
    return r if v >= 0 else -r


def exp_table(n: int, step: float) -> list:
    """§6.1 / §7.1: v = 2^24, table[i] = max(1, round_half_away(v)), then v = v * step (double)."""
    table = []
    v = float(1 << 24)
    for _ in range(n):
        table.append(max(1, _round_half_away(v)))
        v = v * step
    return table


EXP_SELECT = exp_table(20 * 256, 0.9961013694701175)    # §6.1, F = 8 fraction bits
EXP_SOFTMAX = exp_table(1280, 0.9844964370054085)       # §7.1, 1/64 nat


def quantise(z) -> int:
    """§6.1 quantise: round(z * 256) in float32, half away from zero, clamped to [-2^20, 2^20]."""
    p = np.float32(z) * np.float32(256)
    if np.isnan(p):
        return -(1 << 20)
    if np.isinf(p):
        return (1 << 20) if p > 0 else -(1 << 20)
    q = _round_half_away(float(p))
    return max(-(1 << 20), min(1 << 20, q))


def _weight(q: int, q_max: int) -> int:
    d = q_max - q
    return EXP_SELECT[d] if d < 20 * 256 else 1


def selection_table(logits) -> np.ndarray:
    """§6.1 selection table of K float32 logits, as cumulative starts."""
    q = [quantise(z) for z in logits]
    q_max = max(q)
    return cumulative(frequency_table([_weight(x, q_max) for x in q], 16))


def halting_table(h) -> np.ndarray:
    """§6.1 halting table: symbol 0 continue, 1 stop."""
    q = quantise(h)
    q_max = max(q, 0)
    return cumulative(frequency_table([_weight(0, q_max), _weight(q, q_max)], 16))


_EXP_SOFTMAX_NP = np.array(EXP_SOFTMAX, dtype=np.uint64)


def softmax_table(z: np.ndarray) -> np.ndarray:
    """§7.1: V float32 logits -> cumulative starts of a table totalling 2^16."""
    V = len(z)
    z_max = z[0]
    arg_max = 0
    for v in range(1, V):                       # first strict maximum; NaN compares false
        if z[v] > z_max:
            z_max = z[v]
            arg_max = v
    t = (np.float32(z_max) - z.astype(np.float32)) * np.float32(64)        # float32, exactly rounded
    ok = t < np.float32(1280)                   # NaN: False -> weight 1
    idx = np.zeros(V, dtype=np.int64)
    idx[ok] = np.trunc(t[ok]).astype(np.int64)
    w = np.ones(V, dtype=np.uint64)
    w[ok] = _EXP_SOFTMAX_NP[idx[ok]]
    S = int(w.sum())
    mult = (((1 << 16) - V) << 32) // S
    f = np.uint64(1) + ((w * np.uint64(mult)) >> np.uint64(32))
    f = f.astype(np.int64)
    f[arg_max] += (1 << 16) - int(f.sum())
    return cumulative(f)


class AdaptiveModel:
    """Spec/CODEC.md §3: contexts x alphabet counts, increment, limit (halving above it)."""

    def __init__(self, rows, increment: int, limit: int):
        self.counts = []
        for row in rows:
            row = [max(1, int(x)) for x in row]
            while sum(row) > limit:
                row = [(x + 1) >> 1 for x in row]
            self.counts.append(row)
        self.increment = increment
        self.limit = limit

    def update(self, c: int, s: int) -> None:
        row = self.counts[c]
        row[s] += self.increment
        if sum(row) > self.limit:
            self.counts[c] = [(x + 1) >> 1 for x in row]


class RansMessage:
    """Spec/CODEC.md §9.1: the rANS stack of a block's shared message (ryg_rans's rans_byte with
    totals M = 2^16), read from its serialised form: the state x (4 bytes, little-endian), then
    the stack's bytes from the top down. `decode` (a pop) has RangeDecoder.decode's interface, so
    the DDN path and the residual network decode from either; `push` puts a symbol back (bits-back,
    §9.2). Every table must total 2^16."""

    L = 1 << 23                                 # the state stays in [L, 2^31)

    def __init__(self, data: bytes):
        if len(data) < 4:
            raise ValueError("message shorter than its 4-byte state")
        self.x = int.from_bytes(data[:4], "little")
        if not self.L <= self.x < 1 << 31:
            raise ValueError("message state outside [2^23, 2^31)")
        self.stack = list(reversed(data[4:]))   # the top of the stack is the list's end
        self.underflow = False                  # a byte was taken from an empty stack (damage)

    def decode(self, starts) -> int:
        """pop(table): slot = x mod 2^16, s the symbol whose [start, start + f) holds it,
        x = f * (x >> 16) + slot - start, then bytes in while x < L."""
        if int(starts[-1]) != 1 << 16:
            raise ValueError("a rANS table must total 2^16")
        slot = self.x & 0xFFFF
        s = int(np.searchsorted(starts, slot, side="right")) - 1    # starts[s] <= slot < starts[s + 1]
        start, f = int(starts[s]), int(starts[s + 1] - starts[s])
        self.x = f * (self.x >> 16) + slot - start
        while self.x < self.L:
            if self.stack:
                b = self.stack.pop()
            else:
                b, self.underflow = 0, True
            self.x = (self.x << 8) | b
        return s

    def push(self, starts, s: int) -> None:
        """push(start, f) of symbol s: bytes out while x >= f * 2^15, then
        x = (x div f) * 2^16 + (x mod f) + start."""
        start, f = int(starts[s]), int(starts[s + 1] - starts[s])
        while self.x >= f << 15:
            self.stack.append(self.x & 0xFF)
            self.x >>= 8
        self.x = ((self.x // f) << 16) + (self.x % f) + start

    def empty(self) -> bool:
        """§9.2: after the block's last image the message must be x = L, no bytes, and no byte
        may have been taken from an empty stack."""
        return self.x == self.L and not self.stack and not self.underflow
