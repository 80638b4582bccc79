/// The frequency table of one sub-pixel from the residual network's logits: softmax in integer
/// arithmetic, without libm and without a sort (Spec/CODEC.md §7.1).
///
/// With `q_v = SelectionTables.quantise(z_v)`, `qMax = max q`, weights
/// `w_v = SelectionTables.weight(q_v, qMax)` (1 … 2^24), `S = Σ w`, `spare = 2^16 − V`:
///
///     mult = (spare << 32) / S                       (64-bit)
///     f_v  = 1 + (w_v · mult) >> 32
///     the remaining 2^16 − Σ f (≥ 0) goes to the first v with q_v = qMax
///
/// Every frequency is ≥ 1 and they sum to exactly 2^16.
struct SoftmaxTable {
    /// Number of symbols V (2 … 256).
    let count: Int
    /// `frequency[v]`, and `cumulative[v]` = Σ_{u<v} frequency[u] (V + 1 entries, last 2^16).
    let frequency: UnsafeMutablePointer<UInt32>
    let cumulative: UnsafeMutablePointer<UInt32>
    private let q: UnsafeMutablePointer<Int>

    static let totalBits: UInt32 = 16

    init(count: Int) {
        precondition(count >= 2 && count <= 256)
        self.count = count
        frequency = .allocate(capacity: count)
        cumulative = .allocate(capacity: count + 1)
        q = .allocate(capacity: count)
    }

    /// Frees the buffers (the table is a scratch owned by one coder loop).
    func deallocate() { frequency.deallocate(); cumulative.deallocate(); q.deallocate() }

    /// Fills the table from V logits (natural-log units).
    @inline(__always)
    func build(_ logits: UnsafePointer<Float>) {
        let V = count
        var qMax = Int.min, argMax = 0
        for v in 0..<V {
            let t = SelectionTables.quantise(logits[v])
            q[v] = t
            if t > qMax { qMax = t; argMax = v }
        }
        var s: UInt64 = 0
        for v in 0..<V { s += UInt64(SelectionTables.weight(q[v], max: qMax)) }
        let spare = UInt64((1 << 16) - V)
        let mult = (spare << 32) / s
        var sum: UInt32 = 0
        for v in 0..<V {
            let f = UInt32(1 + (UInt64(SelectionTables.weight(q[v], max: qMax)) * mult) >> 32)
            frequency[v] = f
            sum += f
        }
        frequency[argMax] += (1 << 16) - sum
        var c: UInt32 = 0
        for v in 0..<V { cumulative[v] = c; c += frequency[v] }
        cumulative[V] = c
    }

    @inline(__always)
    func encode(_ v: Int, _ e: inout RangeEncoder) {
        e.encode(start: cumulative[v], frequency: frequency[v], totalBits: SoftmaxTable.totalBits)
    }

    /// Decodes one symbol; always in 0..<count whatever the bytes.
    @inline(__always)
    func decode(_ d: inout RangeDecoder) -> Int {
        let t = d.target(totalBits: SoftmaxTable.totalBits)
        var lo = 0, hi = count
        while hi - lo > 1 {
            let mid = (lo + hi) >> 1
            if cumulative[mid] <= t { lo = mid } else { hi = mid }
        }
        d.consume(start: cumulative[lo], frequency: frequency[lo], totalBits: SoftmaxTable.totalBits)
        return lo
    }
}
