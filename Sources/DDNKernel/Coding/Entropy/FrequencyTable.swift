import Foundation

/// A static table of integer symbol frequencies for the range coder.
///
/// Invariants: `frequencies.count == n >= 1`, every frequency >= 1, and they sum to exactly
/// `1 << totalBits` (`totalBits` in 0...16, `n <= 1 << totalBits`).
///
/// Normalisation (deterministic, integer only; Spec/CODEC.md §2), with `M = 1 << totalBits`,
/// `S = Σ counts` (if `S == 0` every count is taken as 1) and `spare = M − n`:
/// 1. `f_i = 1 + floor(c_i · spare / S)` (64-bit arithmetic);
/// 2. the `M − Σ f_i` units still missing (fewer than `n`) go one each to the symbols with the
///    largest remainders `c_i · spare mod S`, ties to the lower symbol index.
public struct FrequencyTable: Sendable, Equatable {
    /// Frequencies, each >= 1, summing to `1 << totalBits`.
    public let frequencies: [UInt32]
    /// `cumulative[s]` = Σ frequencies[0..<s]; `n + 1` entries, last = `1 << totalBits`.
    public let cumulative: [UInt32]
    /// log2 of the total.
    public let totalBits: UInt32

    /// Normalises `counts` (any non-negative values) to a valid table.
    /// - Precondition: `1 <= counts.count <= 1 << totalBits`, `totalBits <= 16`.
    public init(counts: [UInt32], totalBits: UInt32) {
        let n = counts.count
        precondition(totalBits <= 16 && n >= 1 && n <= 1 << Int(totalBits), "bad table size")
        let m = UInt64(1) << UInt64(totalBits)
        var c = counts.map { UInt64($0) }
        var s = c.reduce(0, +)
        if s == 0 { c = Array(repeating: 1, count: n); s = UInt64(n) }
        let spare = m - UInt64(n)
        var f = [UInt32](repeating: 1, count: n)
        var rema = [UInt64](repeating: 0, count: n)
        var sum: UInt64 = 0
        for i in 0..<n {
            let p = c[i] * spare
            f[i] = UInt32(1 + p / s)
            rema[i] = p % s
            sum += UInt64(f[i])
        }
        var missing = Int(m - sum)
        if missing > 0 {
            let order = (0..<n).sorted { rema[$0] != rema[$1] ? rema[$0] > rema[$1] : $0 < $1 }
            for i in order where missing > 0 {
                f[i] += 1
                missing -= 1
            }
        }
        var cum = [UInt32](repeating: 0, count: n + 1)
        for i in 0..<n { cum[i + 1] = cum[i] + f[i] }
        precondition(UInt64(cum[n]) == m)
        frequencies = f
        cumulative = cum
        self.totalBits = totalBits
    }

    /// Number of symbols.
    public var count: Int { frequencies.count }

    /// Codes `symbol` (in `0..<count`).
    @inlinable
    public func encode(_ symbol: Int, _ e: inout RangeEncoder) {
        e.encode(start: cumulative[symbol], frequency: frequencies[symbol], totalBits: totalBits)
    }

    /// Decodes one symbol. Always returns a value in `0..<count`, whatever the input bytes.
    /// - Complexity: O(log count) (binary search over `cumulative`).
    @inlinable
    public func decode(_ d: inout RangeDecoder) -> Int {
        let t = d.target(totalBits: totalBits)  // < 1 << totalBits == cumulative[count]
        var lo = 0, hi = frequencies.count  // invariant: cumulative[lo] <= t < cumulative[hi]
        while hi - lo > 1 {
            let mid = (lo + hi) >> 1
            if cumulative[mid] <= t { lo = mid } else { hi = mid }
        }
        d.consume(start: cumulative[lo], frequency: frequencies[lo], totalBits: totalBits)
        return lo
    }

    /// Model cost of `symbol` in bits: `−log2(freq / 2^totalBits)`.
    public func bits(_ symbol: Int) -> Double {
        Double(totalBits) - log2(Double(frequencies[symbol]))
    }
}
