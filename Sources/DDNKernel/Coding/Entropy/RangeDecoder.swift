// RangeDecoder: the mirror of RangeEncoder (read RangeEncoder.swift's header first).
//
// State: `code` = (value of the stream so far) − low, i.e. the offset of the coded point inside
// the current interval, and `range`, both 32 bits. Invariant on a valid stream:
//     0 <= code < range,   2^24 <= range <= 2^32 − 1.
// Decoding one symbol of total T (FIFO, same order as encoded):
//     r = floor(range / T);  target = min(floor(code / r), T − 1)       -- `target`
//     find s with start(s) <= target < start(s) + freq(s)               -- caller's table
//     code −= r * start(s);  range = r * freq(s);  renormalise          -- `consume`
// Renormalise: while range < 2^24 { code = (code << 8) | nextByte; range <<= 8 }.
// Input starts with the encoder's second byte (the always-zero lead byte is never written).
//
// Hostile input: bytes past the end read as 0x00; all arithmetic wraps; `target` is clamped to
// [0, T), so a table lookup on it is always in bounds. A corrupt stream decodes to garbage but
// never traps; callers detect corruption by CRC (Spec/ARCHIVE.md).

/// Decodes symbols written by ``RangeEncoder``.
///
/// For each symbol: `let t = d.target(totalBits:)`, look up the symbol whose interval holds `t`,
/// then `d.consume(start:frequency:totalBits:)` with that symbol's interval.
/// Source: Spec/CODEC.md §1.
public struct RangeDecoder: Sendable {
    @usableFromInline let bytes: [UInt8]
    @usableFromInline var position: Int = 0
    @usableFromInline var code: UInt32 = 0
    @usableFromInline var range: UInt32 = 0xFFFF_FFFF
    /// `floor(range / total)` from the last `target(total:)`.
    @usableFromInline var r: UInt32 = 1

    /// Starts decoding `bytes` (any bytes: never traps).
    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        for _ in 0..<4 { code = (code << 8) | UInt32(nextByte()) }
    }

    /// Bytes consumed so far (may exceed `bytes.count` when zeros past the end were read).
    public var bytesRead: Int { position }

    @inlinable
    mutating func nextByte() -> UInt8 {
        let p = position
        position = p &+ 1
        return p < bytes.count ? bytes[p] : 0
    }

    @inlinable
    mutating func normalize() {
        while range < RangeEncoder.top {
            code = (code << 8) | UInt32(nextByte())
            range <<= 8
        }
    }

    /// The coded point's position in `[0, 1 << totalBits)` (`totalBits` in 0...16).
    @inlinable
    public mutating func target(totalBits: UInt32) -> UInt32 {
        precondition(totalBits <= 16)
        let rr = range >> totalBits
        r = rr
        return min(code / rr, (1 << totalBits) - 1)
    }

    /// Removes the symbol `[start, start + frequency)` of `1 << totalBits` found from `target`.
    @inlinable
    public mutating func consume(start: UInt32, frequency: UInt32, totalBits: UInt32) {
        precondition(totalBits <= 16 && frequency >= 1)
        let rr = range >> totalBits
        code = code &- start &* rr
        range = rr &* frequency
        normalize()
    }

    /// The coded point's position in `[0, total)` for any `total` in 1...65536.
    @inlinable
    public mutating func target(total: UInt32) -> UInt32 {
        precondition(total >= 1 && total <= 1 << 16)
        let rr = range / total
        r = rr
        return min(code / rr, total - 1)
    }

    /// Removes the symbol `[start, start + frequency)` of the `total` last given to `target(total:)`.
    @inlinable
    public mutating func consume(start: UInt32, frequency: UInt32) {
        precondition(frequency >= 1)
        code = code &- start &* r
        range = r &* frequency
        normalize()
    }

    /// Reads `count` (0...32) equiprobable bits written by ``RangeEncoder/encodeBits(_:count:)``.
    @inlinable
    public mutating func decodeBits(count: Int) -> UInt32 {
        precondition(count >= 0 && count <= 32)
        var value: UInt32 = 0
        var remaining = count
        while remaining > 0 {
            let n = UInt32(min(remaining, 16))
            remaining -= Int(n)
            let t = target(totalBits: n)
            consume(start: t, frequency: 1, totalBits: n)
            value = (value << n) | t
        }
        return value
    }
}
