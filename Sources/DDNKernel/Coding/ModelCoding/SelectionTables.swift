/// Integer frequency tables for the DDN's path symbols, built from the model's float logits
/// without any libm transcendental, so that encoder and decoder agree on every machine.
///
/// Source: Spec/CODEC.md §3 ("selection and halting tables"); DESIGN.md §4 (determinism rule).
///
/// A logit `z` (natural-log units) is quantised to `q = round(z · 2^fractionBits)`; the weight of
/// a symbol is `expTable[qMax − q]`, where `expTable[i] ≈ 2^weightBits · exp(−i / 2^fractionBits)`
/// is built by repeated IEEE-754 double multiplication (correctly rounded on every target, so
/// bit-identical everywhere). Weights are then normalised by `FrequencyTable(counts:totalBits:)`.
public enum SelectionTables {
    /// Fraction bits of a quantised logit: 1/256 nat resolution.
    public static let fractionBits = 8
    /// Scale of a weight: the largest weight is `1 << weightBits`.
    public static let weightBits = 24
    /// Total of every path frequency table: `1 << totalBits`.
    public static let totalBits: UInt32 = 16
    /// Logit differences beyond this many nats all get the smallest weight, 1.
    public static let rangeNats = 20

    /// `expTable[i] = max(1, round(2^24 · step^i))`, `step = exp(−1/256)` written as a literal.
    public static let expTable: [UInt32] = {
        let step = 0.9961013694701175 // exp(-1/256), IEEE-754 double
        let count = rangeNats << fractionBits
        var table = [UInt32](repeating: 1, count: count)
        var value = Double(1 << weightBits)
        for i in 0..<count {
            table[i] = max(1, UInt32(value.rounded()))
            value *= step
        }
        return table
    }()

    /// A logit in fixed point; NaN and infinities are clamped so hostile weights cannot trap.
    @inlinable
    public static func quantise(_ logit: Float) -> Int {
        guard logit.isFinite else { return logit == .infinity ? (1 << 20) : -(1 << 20) }
        let scaled = (logit * Float(1 << fractionBits)).rounded()
        return Int(max(-Float(1 << 20), min(Float(1 << 20), scaled)))
    }

    /// Weight of a quantised logit `q` given the largest quantised logit `qMax`.
    @inlinable
    public static func weight(_ q: Int, max qMax: Int) -> UInt32 {
        let i = qMax - q
        return i < expTable.count ? expTable[i] : 1
    }

    /// The selection table of one level: symbol k has frequency ∝ softmax(logits)[k].
    /// - Parameter logits: [K] selection logits `π_l` in natural-log units.
    /// - Returns: a table over K symbols summing to `1 << totalBits`, every frequency ≥ 1.
    public static func selection(logits: [Float]) -> FrequencyTable {
        let q = logits.map(quantise)
        let qMax = q.max() ?? 0
        return FrequencyTable(counts: q.map { weight($0, max: qMax) }, totalBits: totalBits)
    }

    /// The halting table: symbol 0 = continue, 1 = stop, with P(stop) = sigmoid(haltLogit).
    public static func halting(logit: Float) -> FrequencyTable {
        let q = quantise(logit)
        let qMax = max(q, 0)
        return FrequencyTable(counts: [weight(0, max: qMax), weight(q, max: qMax)], totalBits: totalBits)
    }
}
