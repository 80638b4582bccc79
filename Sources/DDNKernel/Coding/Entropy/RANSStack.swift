import Foundation

/// A range asymmetric numeral system (rANS; Duda 2013, in the shape of Giesen's ryg_rans
/// `rans_byte`) used as a stack: `push` codes a symbol onto the message, `pop` decodes the symbol
/// last pushed and removes it. A stack is what bits-back coding needs (Townsend et al., BB-ANS,
/// ICLR 2019; Craystack): an encoder may `pop` a symbol under any table it can rebuild in the
/// decoder, which takes bits already in the message, and the decoder gives them back by
/// `push`ing the same symbol under the same table. Spec/CODEC.md §9.
///
/// Invariants (ryg_rans's, for byte output and frequency totals M = 2^16):
/// - the state x lies in [L, 256·L), L = 2^23, between operations;
/// - `push(start, f)` first moves the low byte of x to the byte stack while x ≥ f·2^15
///   (= ((L >> 16) << 8)·f), so that x' = (x / f)·2^16 + x mod f + start lies in [L, 256·L) again;
/// - `pop` inverts it exactly: slot = x mod 2^16 names the symbol s with start_s ≤ slot <
///   start_s + f_s, x' = f_s·(x >> 16) + slot − start_s, then while x' < L a byte comes back;
/// - every table sums to exactly 2^16 with every frequency ≥ 1 (`FrequencyTable`, `SoftmaxTable`).
///   L / M = 2^7 keeps the coding loss of the division's truncation under 0.01 %.
///
/// A pop from an exhausted stack reads zero bytes (counted in `borrowedBytes`): a decoder that pops
/// past the start of its message gets symbols its caller's check refuses, never a trap.
public struct RANSStack: Sendable {
    /// The state x ∈ [L, 256·L).
    public private(set) var state: UInt32
    /// The byte stack; its last element is the top.
    public private(set) var bytes: [UInt8]
    /// Bytes popped while the stack was empty (each read as 0).
    public private(set) var borrowedBytes = 0

    /// L, the lower bound of the state.
    public static let lowerBound: UInt32 = 1 << 23

    /// An empty message: state L, no bytes.
    public init() { state = RANSStack.lowerBound; bytes = [] }

    /// The message written by `serialized()`. A message shorter than its 4 state bytes, or whose
    /// state is out of range, reads as an empty one (decoding then yields symbols a caller's
    /// check refuses).
    public init(serialized message: [UInt8]) {
        let x = message.count < 4 ? 0 : UInt32(message[0]) | UInt32(message[1]) << 8 | UInt32(message[2]) << 16 | UInt32(message[3]) << 24
        let valid = x >= RANSStack.lowerBound && x < RANSStack.lowerBound << 8
        state = valid ? x : RANSStack.lowerBound
        bytes = valid ? Array(message[4...].reversed()) : []
    }

    /// The message: the state (4 bytes, little-endian), then the bytes from the top of the stack
    /// down. Its length is 4 + (byte count).
    public func serialized() -> [UInt8] {
        var out: [UInt8] = [UInt8(truncatingIfNeeded: state), UInt8(truncatingIfNeeded: state >> 8),
                            UInt8(truncatingIfNeeded: state >> 16), UInt8(truncatingIfNeeded: state >> 24)]
        out.reserveCapacity(4 + bytes.count)
        out.append(contentsOf: bytes.reversed())
        return out
    }

    /// The message's size in bits (what `serialized()` writes).
    public var bitCount: Int { 32 + 8 * bytes.count }

    /// The message's information content in bits, fractions included: 8 per byte plus log2 of the
    /// state (what comparing two candidate encodings needs; `bitCount` rounds to bytes).
    public var preciseBits: Double { Double(8 * bytes.count) + log2(Double(state)) }

    /// Pushes the symbol with cumulative frequency `start` and frequency `f` (of 2^16).
    @inline(__always)
    public mutating func push(start: UInt32, frequency f: UInt32) {
        var x = state
        let xMax = f << 15   // ((L >> 16) << 8)·f; f ≤ 2^16, so no overflow
        while x >= xMax {
            bytes.append(UInt8(truncatingIfNeeded: x))
            x >>= 8
        }
        state = ((x / f) << 16) &+ (x % f) &+ start
    }

    /// The slot of the next symbol to pop: x mod 2^16, in [0, 2^16).
    @inline(__always)
    public var slot: UInt32 { state & 0xFFFF }

    /// Removes the symbol `(start, frequency)` that `slot` fell in.
    @inline(__always)
    public mutating func consume(start: UInt32, frequency f: UInt32) {
        var x = f &* (state >> 16) &+ slot &- start
        while x < RANSStack.lowerBound {
            if let b = bytes.popLast() { x = (x << 8) | UInt32(b) } else { x <<= 8; borrowedBytes += 1 }
        }
        state = x
    }

    /// Pushes `symbol` under `table` (total 2^16).
    @inline(__always)
    public mutating func push(_ symbol: Int, _ table: FrequencyTable) {
        precondition(table.totalBits == 16)
        push(start: table.cumulative[symbol], frequency: table.frequencies[symbol])
    }

    /// Pops a symbol under `table` (total 2^16); always in 0..<table.count.
    @inline(__always)
    public mutating func pop(_ table: FrequencyTable) -> Int {
        precondition(table.totalBits == 16)
        let t = slot
        var lo = 0, hi = table.count   // cumulative[lo] ≤ t < cumulative[hi]
        while hi - lo > 1 {
            let mid = (lo + hi) >> 1
            if table.cumulative[mid] <= t { lo = mid } else { hi = mid }
        }
        consume(start: table.cumulative[lo], frequency: table.frequencies[lo])
        return lo
    }
}

/// Where a decoder takes its symbols from, for tables that total 2^16: the range decoder
/// (a queue) or a rANS stack's pop. The residual network's sample loop is written once for both.
protocol SymbolSource {
    /// The next symbol's position in [0, 2^16).
    mutating func slot16() -> UInt32
    /// Removes the symbol `[start, start + frequency)` of 2^16 that `slot16` fell in.
    mutating func consume16(start: UInt32, frequency: UInt32)
}

extension RangeDecoder: SymbolSource {
    @inline(__always) mutating func slot16() -> UInt32 { target(totalBits: 16) }
    @inline(__always) mutating func consume16(start: UInt32, frequency: UInt32) { consume(start: start, frequency: frequency, totalBits: 16) }
}

extension RANSStack: SymbolSource {
    @inline(__always) mutating func slot16() -> UInt32 { slot }
    @inline(__always) mutating func consume16(start: UInt32, frequency: UInt32) { consume(start: start, frequency: frequency) }
}
