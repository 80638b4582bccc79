/// SplitMix64 (Steele, Lea, Flood 2014): a tiny seeded generator for repeatable initialisation,
/// shuffling, sampling and perturbations. Same seed, same sequence, on every machine.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 24 random bits (exact in Float).
    public mutating func nextUnitFloat() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }
    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextUnitDouble() -> Double { Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0) }
    /// Uniform in [-a, a).
    public mutating func uniform(_ a: Float) -> Float { (nextUnitFloat() * 2 - 1) * a }
    /// Integer in [0, n), n ≥ 1 (multiply-shift; tiny bias irrelevant here).
    public mutating func below(_ n: Int) -> Int { Int((UInt64(UInt32(truncatingIfNeeded: next() >> 32)) &* UInt64(n)) >> 32) }

    /// Fisher–Yates shuffle driven by this generator.
    public mutating func shuffle(_ a: inout [Int]) {
        if a.count < 2 { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) {
            let j = below(i + 1)
            a.swapAt(i, j)
        }
    }
}
