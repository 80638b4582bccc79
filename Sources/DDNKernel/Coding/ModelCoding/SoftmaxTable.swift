/// The frequency table of one sub-pixel from the residual network's logits: a softmax in integer
/// arithmetic, without libm and without a sort (Spec/CODEC.md §7.1).
///
/// With `zMax` the largest logit (the first one on ties; NaN logits never are), for each symbol
///
///     t_v = (zMax − z_v) · 64                      (float32)
///     w_v = expTable[Int(t_v)] if t_v < 1280, else 1   (NaN included; Int() truncates)
///     S = Σ w_v,  spare = 2^16 − V,  mult = (spare << 32) / S      (64-bit integers)
///     f_v = 1 + (w_v · mult) >> 32
///     the remaining 2^16 − Σ f_v (≥ 0) goes to the first v with the largest logit
///
/// `expTable[i] = max(1, round(2^24 · step^i))`, `step` the double nearest exp(−1/64), built by
/// repeated IEEE-754 double multiplication (exactly rounded everywhere). So a logit is resolved to
/// 1/64 nat (truncated), which costs < 0.0001 bit per sample; every frequency is ≥ 1 and they sum
/// to exactly 2^16.
struct SoftmaxTable {
    /// Number of symbols V (2 … 256).
    let count: Int
    /// `frequency[v]`, and `cumulative[v]` = Σ_{u<v} frequency[u] (V + 1 entries, last 2^16).
    let frequency: UnsafeMutablePointer<UInt32>
    let cumulative: UnsafeMutablePointer<UInt32>
    private let exp = SoftmaxTable.expTable

    static let totalBits: UInt32 = 16
    /// Steps per nat, and the table's length (20 nats).
    static let stepsPerNat: Float = 64
    static let tableLength = 1280

    /// `expTable` (see the type's description), with one more entry, 1, for "beyond"; written once, read-only after.
    nonisolated(unsafe) static let expTable: UnsafeMutablePointer<UInt32> = {
        let t = UnsafeMutablePointer<UInt32>.allocate(capacity: tableLength + 1)
        var value = Double(1 << 24)
        for i in 0..<tableLength {
            t[i] = max(1, UInt32(value.rounded()))
            value *= 0.9844964370054085 // exp(-1/64), IEEE-754 double
        }
        t[tableLength] = 1
        return t
    }()

    init(count: Int) {
        precondition(count >= 2 && count <= 256)
        self.count = count
        frequency = .allocate(capacity: count)
        cumulative = .allocate(capacity: count + 1)
    }

    /// Frees the buffers (the table is a scratch owned by one coder loop).
    func deallocate() { frequency.deallocate(); cumulative.deallocate() }

    /// Fills the table from V logits (natural-log units).
    @inline(__always)
    func build(_ logits: UnsafePointer<Float>) {
        let V = count
        let (argMax, mult) = weights(logits)
        var c: UInt32 = 0
        for v in 0..<V {
            let f = UInt32(truncatingIfNeeded: 1 &+ (UInt64(frequency[v]) &* mult) &>> 32)
            frequency[v] = f
            cumulative[v] = c
            c &+= f
        }
        // the remainder to the most likely symbol; the cumulative sums after it move up
        let remainder = (1 << 16) &- c
        frequency[argMax] &+= remainder
        for v in (argMax + 1)..<V { cumulative[v] &+= remainder }
        cumulative[V] = 1 << 16
    }

    /// The weights w_v into `frequency`; returns the most likely symbol and `mult`.
    @inline(__always)
    private func weights(_ logits: UnsafePointer<Float>) -> (argMax: Int, mult: UInt64) {
        let V = count, table = exp
        var zMax = logits[0], argMax = 0
        for v in 1..<V where logits[v] > zMax { zMax = logits[v]; argMax = v }
        var s: UInt64 = 0
        for v in 0..<V {
            let t = (zMax - logits[v]) * SoftmaxTable.stepsPerNat
            let w = table[t < 1280 ? Int(t) : 1280]
            frequency[v] = w
            s &+= UInt64(w)
        }
        // s ≥ V ≥ 2 and every later product is < 2^48: the wrapping arithmetic never wraps
        return (argMax, (UInt64((1 << 16) - V) &<< 32) / s)
    }

    @inline(__always)
    func encode(_ v: Int, _ e: inout RangeEncoder) {
        e.encode(start: cumulative[v], frequency: frequency[v], totalBits: SoftmaxTable.totalBits)
    }

    /// Decodes one symbol from a range decoder or a rANS stack; always in 0..<count whatever the bytes.
    @inline(__always)
    func decode<S: SymbolSource>(_ d: inout S) -> Int {
        let t = d.slot16()
        var lo = 0, hi = count
        while hi - lo > 1 {
            let mid = (lo + hi) >> 1
            if cumulative[mid] <= t { lo = mid } else { hi = mid }
        }
        d.consume16(start: cumulative[lo], frequency: frequency[lo])
        return lo
    }
}
