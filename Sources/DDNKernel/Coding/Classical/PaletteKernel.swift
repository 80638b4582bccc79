// Palette indices (Spec/CODEC.md §4.6): no arithmetic prediction. The distinct values among the
// causal neighbours W, N, NE, NW (in that order, those that exist) form a candidate list of
// length k <= 4. Token j < 4 means "the j-th candidate", token 4 is an escape followed by the
// index itself as a hybrid-uint literal (its own single-context model). The choice token's
// context is the equality pattern (W==N, N==NE, W==NW, N==NW: 4 bits) times 5 + k.

@usableFromInline enum PaletteKernel {
    @inlinable
    static func code<S: SymbolSink>(_ sink: inout S, _ w: Int, _ h: Int, _ bd: Int,
                                    _ px: UnsafeMutablePointer<UInt16>, _ models: [AdaptiveModelSet]) {
        let choice = models[0], literal = models[1]
        let escape = Tuning.paletteCandidates
        let maxV = (1 << bd) - 1
        var cand = (0, 0, 0, 0)
        for y in 0..<h {
            for x in 0..<w {
                let i = y * w + x
                let W = x > 0 ? Int(px[i - 1]) : -1
                let N = y > 0 ? Int(px[i - w]) : -1
                let NE = y > 0 && x + 1 < w ? Int(px[i - w + 1]) : -1
                let NW = y > 0 && x > 0 ? Int(px[i - w - 1]) : -1
                var k = 0
                withUnsafeMutableBytes(of: &cand) { raw in
                    let cp = raw.baseAddress!.assumingMemoryBound(to: Int.self)
                    for v in [W, N, NE, NW] where v >= 0 {
                        var seen = false
                        for j in 0..<k where cp[j] == v { seen = true }
                        if !seen { cp[k] = v; k += 1 }
                    }
                }
                var pattern = 0
                if W == N { pattern |= 1 }
                if N == NE { pattern |= 2 }
                if W == NW { pattern |= 4 }
                if N == NW { pattern |= 8 }
                let ctx = pattern * (escape + 1) + k
                var token = escape
                let xv0 = S.isDecoder ? 0 : Int(px[i])
                if !S.isDecoder {
                    withUnsafeBytes(of: &cand) { raw in
                        let cp = raw.baseAddress!.assumingMemoryBound(to: Int.self)
                        for j in 0..<k where cp[j] == xv0 { token = j; break }
                    }
                }
                token = sink.symbol(token, choice, ctx)
                var xv: Int
                if token < k {
                    xv = withUnsafeBytes(of: &cand) { $0.baseAddress!.assumingMemoryBound(to: Int.self)[token] }
                } else {
                    // Escape (also any impossible token j >= k a corrupt stream may give).
                    xv = min(sink.uint(xv0, literal, 0), maxV)
                }
                if S.isDecoder { px[i] = UInt16(truncatingIfNeeded: xv) }
                _ = xv
            }
        }
    }
}
