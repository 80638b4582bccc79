import Foundation

// One model loop, four uses: the encoder, the decoder, the cost counter (`codeLength`) and the
// statistics learner all run the same kernel code with a different `SymbolSink` (craystack-style
// push/pop pairs: the encoder pushes the value it is given, the decoder pops one and returns it).

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
    /// Like `symbol`, with the count sums of three contexts (coder 6).
    mutating func symbol(_ s: Int, _ m: AdaptiveModelSet, _ ctx: Int, _ m2: AdaptiveModelSet, _ ctx2: Int,
                         _ m3: AdaptiveModelSet, _ ctx3: Int) -> Int
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

    /// Hybrid-uint with the token coded by three mixed contexts.
    @inlinable mutating func uint(_ u: Int, _ m: AdaptiveModelSet, _ ctx: Int, _ m2: AdaptiveModelSet, _ ctx2: Int,
                                  _ m3: AdaptiveModelSet, _ ctx3: Int) -> Int {
        if Self.isDecoder {
            let t = symbol(0, m, ctx, m2, ctx2, m3, ctx3)
            let n = HybridUint.extraCount(t)
            return HybridUint.value(t, extra: n > 0 ? bits(0, n) : 0)
        } else {
            let (t, n, x) = HybridUint.token(u)
            _ = symbol(t, m, ctx, m2, ctx2, m3, ctx3)
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
    @inlinable mutating func symbol(_ s: Int, _ m: AdaptiveModelSet, _ ctx: Int, _ m2: AdaptiveModelSet, _ ctx2: Int,
                                    _ m3: AdaptiveModelSet, _ ctx3: Int) -> Int {
        m.encode(s, context: ctx, with: m2, context: ctx2, and: m3, context: ctx3, &e); return s
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
    @inlinable mutating func symbol(_ s: Int, _ m: AdaptiveModelSet, _ ctx: Int, _ m2: AdaptiveModelSet, _ ctx2: Int,
                                    _ m3: AdaptiveModelSet, _ ctx3: Int) -> Int {
        m.decode(context: ctx, with: m2, context: ctx2, and: m3, context: ctx3, &d)
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
    @inlinable mutating func symbol(_ s: Int, _ m: AdaptiveModelSet, _ ctx: Int, _ m2: AdaptiveModelSet, _ ctx2: Int,
                                    _ m3: AdaptiveModelSet, _ ctx3: Int) -> Int {
        bitsSpent += m.cost(s, context: ctx, with: m2, context: ctx2, and: m3, context: ctx3); return s
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
    @inlinable mutating func symbol(_ s: Int, _ m: AdaptiveModelSet, _ ctx: Int, _ m2: AdaptiveModelSet, _ ctx2: Int,
                                    _ m3: AdaptiveModelSet, _ ctx3: Int) -> Int {
        _ = symbol(s, m, ctx, m2, ctx2)
        return symbol(s, m3, ctx3)
    }
    @inlinable mutating func bits(_ v: Int, _ n: Int) -> Int { v }
}
