// RangeEncoder: a carry-propagating byte-wise range coder (Subbotin/LZMA "cache + carry" style).
//
// READ ME FIRST (invariants; Spec/CODEC.md §1 is the normative text)
//
//   State: `low` (64-bit register, only bits 0..32 ever set: 32 bits of interval base plus one carry
//   bit), `range` (32 bits), `cache` (the last byte not yet written, because a carry may still
//   change it), `pending` (how many 0xFF bytes follow `cache`, also still exposed to a carry).
//
//   Interval invariant between calls:  2^24 <= range <= 2^32 - 1,  and the coded interval is
//   [low, low + range) scaled by 2^-32 relative to the bytes already emitted.
//
//   Symbols are coded FIFO (first encoded = first decoded), one stream per encoder.
//
//   Every symbol is given as (start, frequency, total) with
//       frequency >= 1,  start + frequency <= total,  1 <= total <= 2^16
//   (`totalBits` entry points: total = 1 << totalBits, totalBits in 0...16). The step is
//       r = floor(range / total);  low += r * start;  range = r * frequency
//   then renormalise: while range < 2^24 { shiftLow(); range <<= 8 }.
//   Since range >= 2^24 and total <= 2^16, r >= 2^8, so range stays >= 2^8 before renormalising
//   and the code space lost to the floor is < total / range <= 2^-8 of the interval per symbol
//   (at most 0.0056 bits; typically far less).
//
//   Byte order: bytes come out most significant first (big-endian arithmetic code).
//   The classical LZMA coder emits a leading byte that is always 0; it is not written here.
//
//   Flush rule (`finish`): choose the value v in [low, low + range) with the most trailing zero
//   bits (a multiple of 2^32, 2^24, 2^16, 2^8 or any value, tried in that order), push it out
//   with five shifts, then drop every trailing 0x00 byte. The decoder reads 0x00 past the end of
//   its input, so the dropped bytes are implied. Overhead: at most about 1 byte over the model cost.

/// Encodes symbols given as `(start, frequency, total)` into bytes. Decode with ``RangeDecoder``.
///
/// Usage: call `encode` for each symbol in order, then `finish()` once, which returns the bytes.
/// Source: Spec/CODEC.md §1; G. N. N. Martin 1979, D. Subbotin's carry-less coder, LZMA's rc.
public struct RangeEncoder: Sendable {
    /// 2^24: the renormalisation threshold ("TOP" in LZMA).
    @usableFromInline static let top: UInt32 = 1 << 24

    @usableFromInline var low: UInt64 = 0
    @usableFromInline var range: UInt32 = 0xFFFF_FFFF
    @usableFromInline var cache: UInt8 = 0
    /// Bytes held back: `cache` plus `pending - 1` bytes of 0xFF. The very first held byte is the
    /// always-zero LZMA lead byte, which `skipLead` suppresses.
    @usableFromInline var pending: Int = 1
    @usableFromInline var skipLead: Bool = true
    @usableFromInline var bytes: [UInt8] = []

    /// Creates an empty encoder.
    public init() { bytes.reserveCapacity(256) }

    /// Number of bytes written so far (excluding held-back cache bytes and the final flush).
    public var bytesWritten: Int { bytes.count }

    /// Codes one symbol: `x = C(s, x)` with the interval `[start, start + frequency)` of `1 << totalBits`.
    /// - Precondition: `frequency >= 1`, `start + frequency <= 1 << totalBits`, `totalBits <= 16`.
    @inlinable
    public mutating func encode(start: UInt32, frequency: UInt32, totalBits: UInt32) {
        precondition(totalBits <= 16 && frequency >= 1 && start &+ frequency <= (1 << totalBits), "bad symbol interval")
        let r = range >> totalBits
        low &+= UInt64(r) &* UInt64(start)
        range = r &* frequency
        normalize()
    }

    /// Codes one symbol with the interval `[start, start + frequency)` of `total` (any total, not
    /// only a power of two; used by adaptive models).
    /// - Precondition: `frequency >= 1`, `start + frequency <= total`, `total <= 1 << 16`.
    @inlinable
    public mutating func encode(start: UInt32, frequency: UInt32, total: UInt32) {
        precondition(total <= 1 << 16 && frequency >= 1 && start &+ frequency <= total, "bad symbol interval")
        let r = range / total
        low &+= UInt64(r) &* UInt64(start)
        range = r &* frequency
        normalize()
    }

    /// Writes the low `count` bits of `value` with equal probability (escape/mantissa bits).
    /// Any `count` in 0...32; bits are sent most significant chunk first, 16 bits at a time.
    /// Cost: exactly `count` bits of model cost.
    @inlinable
    public mutating func encodeBits(_ value: UInt32, count: Int) {
        precondition(count >= 0 && count <= 32)
        var remaining = count
        while remaining > 0 {
            let n = min(remaining, 16)
            remaining -= n
            let chunk = (value >> UInt32(remaining)) & ((1 << UInt32(n)) - 1)
            encode(start: chunk, frequency: 1, totalBits: UInt32(n))
        }
    }

    @inlinable
    mutating func normalize() {
        while range < RangeEncoder.top {
            shiftLow()
            range <<= 8
        }
    }

    /// Moves the top byte of `low` into the output, resolving a carry into held-back bytes.
    @usableFromInline
    mutating func shiftLow() {
        if low < 0xFF00_0000 || low >= (1 << 32) {
            let carry = UInt8(truncatingIfNeeded: low >> 32)
            var b = cache
            while pending > 0 {
                if skipLead { skipLead = false } else { bytes.append(b &+ carry) }
                b = 0xFF
                pending -= 1
            }
            cache = UInt8(truncatingIfNeeded: low >> 24)
        }
        pending += 1
        low = (low & 0x00FF_FFFF) << 8
    }

    /// Checks the interval invariant (2^24 <= range, low < 2^33); debug builds only.
    func _checkInvariants() {
        #if DEBUG
        precondition(range >= RangeEncoder.top && low < (1 << 33), "range coder state out of bounds")
        #endif
    }

    /// Ends the stream (flush rule above) and returns all bytes. The encoder must not be used after.
    public mutating func finish() -> [UInt8] {
        let hi = low &+ UInt64(range)  // exclusive upper end of the interval
        for shift: UInt64 in [32, 24, 16, 8, 0] {
            let mask: UInt64 = (1 << shift) &- 1
            let v = (low &+ mask) & ~mask
            if v < hi { low = v; break }
        }
        for _ in 0..<5 { shiftLow() }
        while let last = bytes.last, last == 0 { bytes.removeLast() }
        return bytes
    }
}
