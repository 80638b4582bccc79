import Foundation

// AdaptiveModelSet: one adaptive frequency table per context, integer counts only.
//
// Invariants (Spec/CODEC.md §3):
//   for every context c: counts[c][s] >= 1 for all s, totals[c] == Σ_s counts[c][s] <= limit,
//   limit + increment <= 2^16 (the range coder's largest total).
// Coding symbol s in context c: interval [Σ_{t<s} counts[c][t], + counts[c][s]) of totals[c],
// then update: counts[c][s] += increment; if totals[c] > limit, every count of c becomes
// (count + 1) >> 1 (stays >= 1) and the total is recomputed. Encoder and decoder run the same
// update after each symbol, so the tables stay identical.

/// A set of adaptive frequency tables (`contexts × alphabet`), for the classical coder.
///
/// - Complexity: coding a symbol is O(symbol) (linear cumulative scan; alphabets are small and
///   small symbols dominate).
public final class AdaptiveModelSet {
    /// Number of contexts and of symbols per context.
    public let contexts: Int, alphabet: Int
    /// Count added to a coded symbol.
    public let increment: UInt32
    /// Largest total before halving.
    public let limit: UInt32
    @usableFromInline let counts: UnsafeMutablePointer<UInt32>
    @usableFromInline let totals: UnsafeMutablePointer<UInt32>
    /// Token counts seen per context (`contexts × alphabet`), kept only for statistics learning.
    @usableFromInline var histogram: UnsafeMutablePointer<UInt32>?

    /// - Parameters:
    ///   - initial: `contexts × alphabet` starting counts (values < 1 are raised to 1), or nil for
    ///     all ones. Totals above `limit` are halved until they fit.
    /// - Precondition: `limit + increment <= 65536`, `alphabet >= 1`.
    public init(contexts: Int, alphabet: Int, increment: UInt32, limit: UInt32, initial: [UInt32]? = nil) {
        precondition(contexts >= 1 && alphabet >= 1 && increment >= 1 && limit + increment <= 1 << 16)
        precondition(UInt32(alphabet) <= limit)
        precondition(initial == nil || initial!.count == contexts * alphabet)
        self.contexts = contexts
        self.alphabet = alphabet
        self.increment = increment
        self.limit = limit
        counts = .allocate(capacity: contexts * alphabet)
        totals = .allocate(capacity: contexts)
        for c in 0..<contexts {
            var t: UInt32 = 0
            for s in 0..<alphabet {
                let v = max(1, initial?[c * alphabet + s] ?? 1)
                counts[c * alphabet + s] = v
                t &+= v
            }
            totals[c] = t
            while totals[c] > limit { halve(c) }
        }
    }

    /// A copy with the same counts (no histogram): a fresh start from prepared starting counts.
    /// - Complexity: O(contexts × alphabet), a memory copy.
    public func copy() -> AdaptiveModelSet {
        AdaptiveModelSet(copying: self)
    }

    private init(copying m: AdaptiveModelSet) {
        contexts = m.contexts
        alphabet = m.alphabet
        increment = m.increment
        limit = m.limit
        counts = .allocate(capacity: contexts * alphabet)
        counts.update(from: m.counts, count: contexts * alphabet)
        totals = .allocate(capacity: contexts)
        totals.update(from: m.totals, count: contexts)
    }

    deinit {
        counts.deallocate()
        totals.deallocate()
        histogram?.deallocate()
    }

    /// Checks the invariants (every count >= 1, totals exact and <= limit); debug builds only.
    func _checkInvariants() {
        #if DEBUG
        for c in 0..<contexts {
            var t: UInt32 = 0
            for s in 0..<alphabet {
                precondition(counts[c * alphabet + s] >= 1, "count below 1")
                t += counts[c * alphabet + s]
            }
            precondition(t == totals[c] && t <= limit, "total mismatch")
        }
        #endif
    }

    /// Starts recording a histogram of coded symbols (statistics learning).
    func recordHistogram() {
        if histogram == nil {
            histogram = .allocate(capacity: contexts * alphabet)
            histogram!.initialize(repeating: 0, count: contexts * alphabet)
        }
    }

    @inlinable
    func halve(_ c: Int) {
        let row = counts + c * alphabet
        var t: UInt32 = 0
        for s in 0..<alphabet {
            let v = (row[s] + 1) >> 1
            row[s] = v
            t += v
        }
        totals[c] = t
    }

    @inlinable
    func update(_ c: Int, _ s: Int) {
        counts[c * alphabet + s] += increment
        totals[c] += increment
        if totals[c] > limit { halve(c) }
    }

    /// Codes `s` in context `c` and adapts.
    @inlinable
    public func encode(_ s: Int, context c: Int, _ e: inout RangeEncoder) {
        let row = counts + c * alphabet
        var start: UInt32 = 0
        for t in 0..<s { start += row[t] }
        e.encode(start: start, frequency: row[s], total: totals[c])
        update(c, s)
    }

    /// Decodes a symbol in context `c` and adapts. Always in `0..<alphabet`.
    @inlinable
    public func decode(context c: Int, _ d: inout RangeDecoder) -> Int {
        let row = counts + c * alphabet
        let target = d.target(total: totals[c])
        var start: UInt32 = 0
        var s = 0
        // target < totals[c] == Σ row, so the scan stops inside the row.
        while s < alphabet - 1 && start + row[s] <= target {
            start += row[s]
            s += 1
        }
        d.consume(start: start, frequency: row[s])
        update(c, s)
        return s
    }

    /// Model cost of `s` in context `c` in bits, then adapts (as if coded).
    @inlinable
    public func cost(_ s: Int, context c: Int) -> Double {
        let b = log2(Double(totals[c])) - log2(Double(counts[c * alphabet + s]))
        update(c, s)
        return b
    }

    // MARK: Two-context mixing by count sums (Spec/CODEC.md §3.1)
    //
    // A symbol can be coded with the sum of two rows (this model's context `c`, `other`'s
    // context `c2`, same alphabet): frequency = counts[c][s] + other.counts[c2][s], total =
    // totals[c] + other.totals[c2] (<= 2^16 when both limits are <= 2^15 − increment); both rows
    // are then updated as usual.

    @inlinable
    public func encode(_ s: Int, context c: Int, with other: AdaptiveModelSet, context c2: Int, _ e: inout RangeEncoder) {
        let row = counts + c * alphabet, row2 = other.counts + c2 * alphabet
        var start: UInt32 = 0
        for t in 0..<s { start += row[t] + row2[t] }
        e.encode(start: start, frequency: row[s] + row2[s], total: totals[c] + other.totals[c2])
        update(c, s)
        other.update(c2, s)
    }

    @inlinable
    public func decode(context c: Int, with other: AdaptiveModelSet, context c2: Int, _ d: inout RangeDecoder) -> Int {
        let row = counts + c * alphabet, row2 = other.counts + c2 * alphabet
        let target = d.target(total: totals[c] + other.totals[c2])
        var start: UInt32 = 0
        var s = 0
        while s < alphabet - 1 && start + row[s] + row2[s] <= target {
            start += row[s] + row2[s]
            s += 1
        }
        d.consume(start: start, frequency: row[s] + row2[s])
        update(c, s)
        other.update(c2, s)
        return s
    }

    @inlinable
    public func cost(_ s: Int, context c: Int, with other: AdaptiveModelSet, context c2: Int) -> Double {
        let b = log2(Double(totals[c] + other.totals[c2])) - log2(Double(counts[c * alphabet + s] + other.counts[c2 * alphabet + s]))
        update(c, s)
        other.update(c2, s)
        return b
    }

    // MARK: Three-context mixing by count sums (coder 6, Spec/CODEC.md §8.4)

    @inlinable
    public func encode(_ s: Int, context c: Int, with o2: AdaptiveModelSet, context c2: Int,
                       and o3: AdaptiveModelSet, context c3: Int, _ e: inout RangeEncoder) {
        let row = counts + c * alphabet, row2 = o2.counts + c2 * alphabet, row3 = o3.counts + c3 * alphabet
        var start: UInt32 = 0
        for t in 0..<s { start += row[t] + row2[t] + row3[t] }
        e.encode(start: start, frequency: row[s] + row2[s] + row3[s], total: totals[c] + o2.totals[c2] + o3.totals[c3])
        update(c, s); o2.update(c2, s); o3.update(c3, s)
    }

    @inlinable
    public func decode(context c: Int, with o2: AdaptiveModelSet, context c2: Int,
                       and o3: AdaptiveModelSet, context c3: Int, _ d: inout RangeDecoder) -> Int {
        let row = counts + c * alphabet, row2 = o2.counts + c2 * alphabet, row3 = o3.counts + c3 * alphabet
        let target = d.target(total: totals[c] + o2.totals[c2] + o3.totals[c3])
        var start: UInt32 = 0
        var s = 0
        while s < alphabet - 1 && start + row[s] + row2[s] + row3[s] <= target {
            start += row[s] + row2[s] + row3[s]
            s += 1
        }
        d.consume(start: start, frequency: row[s] + row2[s] + row3[s])
        update(c, s); o2.update(c2, s); o3.update(c3, s)
        return s
    }

    @inlinable
    public func cost(_ s: Int, context c: Int, with o2: AdaptiveModelSet, context c2: Int,
                     and o3: AdaptiveModelSet, context c3: Int) -> Double {
        let b = log2(Double(totals[c] + o2.totals[c2] + o3.totals[c3]))
            - log2(Double(counts[c * alphabet + s] + o2.counts[c2 * alphabet + s] + o3.counts[c3 * alphabet + s]))
        update(c, s); o2.update(c2, s); o3.update(c3, s)
        return b
    }
}
