// Hybrid-uint tokenisation (after JPEG XL's HybridUintConfig(4, 1, 0)); Spec/CODEC.md §4.2.
//
//   u < 16:  token = u, no extra bits.
//   u >= 16: n = floor(log2 u) (n >= 4), token = 16 + 2·(n − 4) + ((u >> (n − 1)) & 1),
//            then the n − 1 low bits of u as raw (equiprobable) bits, most significant first.
// So 8-bit values (u <= 255) need 24 tokens, 16-bit values 40.

/// Splits non-negative integers into an entropy-coded token plus raw mantissa bits.
@usableFromInline enum HybridUint {
    /// Values below `1 << splitExponent` are their own token.
    @usableFromInline static let splitExponent = 4
    /// Bits below the leading one kept in the token.
    @usableFromInline static let msbInToken = 1

    /// Number of tokens needed for every value in `0...maxValue`.
    @inlinable static func alphabetSize(maxValue: Int) -> Int { token(maxValue).token + 1 }

    /// (token, number of raw bits, raw bits value) for `u >= 0`.
    @inlinable static func token(_ u: Int) -> (token: Int, extraCount: Int, extra: Int) {
        let se = splitExponent, m = msbInToken
        let split = 1 << se
        if u < split { return (u, 0, 0) }
        let n = (Int.bitWidth - 1) - u.leadingZeroBitCount
        let e = n - m
        return (split + ((n - se) << m) + ((u >> e) & ((1 << m) - 1)), e, u & ((1 << e) - 1))
    }

    /// Number of raw bits that follow `token`.
    @inlinable static func extraCount(_ token: Int) -> Int {
        let split = 1 << splitExponent
        if token < split { return 0 }
        return splitExponent + ((token - split) >> msbInToken) - msbInToken
    }

    /// The value of `token` with raw bits `extra`.
    @inlinable static func value(_ token: Int, extra: Int) -> Int {
        let se = splitExponent, m = msbInToken
        let split = 1 << se
        if token < split { return token }
        let n = se + ((token - split) >> m)
        let top = (token - split) & ((1 << m) - 1)
        return (1 << n) | (top << (n - m)) | extra
    }
}

/// Where coded symbols go: the encoder, the decoder or the cost counter run one model loop.
@usableFromInline protocol SymbolSink {
    /// True when symbols come from the stream (the value passed in is ignored).
    static var isDecoder: Bool { get }
    /// Codes symbol `s` (encoder/cost) or reads one (decoder) in context `ctx` of `m`; returns it.
    mutating func symbol(_ s: Int, _ m: AdaptiveModelSet, _ ctx: Int) -> Int
    /// Codes the low `n` bits of `v` raw, or reads them; returns them.
    mutating func bits(_ v: Int, _ n: Int) -> Int
    /// Like `symbol`, with the count sums of two contexts (`m` at `ctx`, `m2` at `ctx2`).
    mutating func symbol(_ s: Int, _ m: AdaptiveModelSet, _ ctx: Int, _ m2: AdaptiveModelSet, _ ctx2: Int) -> Int
}

extension SymbolSink {
    /// Hybrid-uint with the token coded by two mixed contexts.
    @inlinable mutating func uint(_ u: Int, _ m: AdaptiveModelSet, _ ctx: Int, _ m2: AdaptiveModelSet, _ ctx2: Int) -> Int {
        if Self.isDecoder {
            let t = symbol(0, m, ctx, m2, ctx2)
            let n = HybridUint.extraCount(t)
            return HybridUint.value(t, extra: n > 0 ? bits(0, n) : 0)
        } else {
            let (t, n, x) = HybridUint.token(u)
            _ = symbol(t, m, ctx, m2, ctx2)
            if n > 0 { _ = bits(x, n) }
            return u
        }
    }

    /// Codes a non-negative integer as a hybrid-uint token in context `ctx` plus raw bits.
    @inlinable mutating func uint(_ u: Int, _ m: AdaptiveModelSet, _ ctx: Int) -> Int {
        if Self.isDecoder {
            let t = symbol(0, m, ctx)
            let n = HybridUint.extraCount(t)
            return HybridUint.value(t, extra: n > 0 ? bits(0, n) : 0)
        } else {
            let (t, n, x) = HybridUint.token(u)
            _ = symbol(t, m, ctx)
            if n > 0 { _ = bits(x, n) }
            return u
        }
    }
}

@usableFromInline struct EncoderSink: SymbolSink {
    @usableFromInline var e: RangeEncoder
    @inlinable init(_ e: RangeEncoder) { self.e = e }
    @inlinable static var isDecoder: Bool { false }
    @inlinable mutating func symbol(_ s: Int, _ m: AdaptiveModelSet, _ ctx: Int) -> Int {
        m.encode(s, context: ctx, &e); return s
    }
    @inlinable mutating func symbol(_ s: Int, _ m: AdaptiveModelSet, _ ctx: Int, _ m2: AdaptiveModelSet, _ ctx2: Int) -> Int {
        m.encode(s, context: ctx, with: m2, context: ctx2, &e); return s
    }
    @inlinable mutating func bits(_ v: Int, _ n: Int) -> Int { e.encodeBits(UInt32(v), count: n); return v }
}

@usableFromInline struct DecoderSink: SymbolSink {
    @usableFromInline var d: RangeDecoder
    @inlinable init(_ d: RangeDecoder) { self.d = d }
    @inlinable static var isDecoder: Bool { true }
    @inlinable mutating func symbol(_ s: Int, _ m: AdaptiveModelSet, _ ctx: Int) -> Int { m.decode(context: ctx, &d) }
    @inlinable mutating func symbol(_ s: Int, _ m: AdaptiveModelSet, _ ctx: Int, _ m2: AdaptiveModelSet, _ ctx2: Int) -> Int {
        m.decode(context: ctx, with: m2, context: ctx2, &d)
    }
    @inlinable mutating func bits(_ v: Int, _ n: Int) -> Int { Int(d.decodeBits(count: n)) }
}

/// Sums model cost in bits (`−log2 p` per symbol plus raw bits); codes nothing.
@usableFromInline struct CostSink: SymbolSink {
    @usableFromInline var bitsSpent: Double = 0
    @inlinable init() {}
    @inlinable static var isDecoder: Bool { false }
    @inlinable mutating func symbol(_ s: Int, _ m: AdaptiveModelSet, _ ctx: Int) -> Int {
        bitsSpent += m.cost(s, context: ctx); return s
    }
    @inlinable mutating func symbol(_ s: Int, _ m: AdaptiveModelSet, _ ctx: Int, _ m2: AdaptiveModelSet, _ ctx2: Int) -> Int {
        bitsSpent += m.cost(s, context: ctx, with: m2, context: ctx2); return s
    }
    @inlinable mutating func bits(_ v: Int, _ n: Int) -> Int { bitsSpent += Double(n); return v }
}

/// Records the tokens each context sees (first pass of `ResidualStatistics.learn`) into the
/// models' histograms (`AdaptiveModelSet.recordHistogram()` must have been called).
@usableFromInline struct HistogramSink: SymbolSink {
    @inlinable init() {}
    @inlinable static var isDecoder: Bool { false }
    @inlinable mutating func symbol(_ s: Int, _ m: AdaptiveModelSet, _ ctx: Int) -> Int {
        m.histogram![ctx * m.alphabet + s] += 1
        return s
    }
    @inlinable mutating func symbol(_ s: Int, _ m: AdaptiveModelSet, _ ctx: Int, _ m2: AdaptiveModelSet, _ ctx2: Int) -> Int {
        _ = symbol(s, m, ctx)
        return symbol(s, m2, ctx2)
    }
    @inlinable mutating func bits(_ v: Int, _ n: Int) -> Int { v }
}
