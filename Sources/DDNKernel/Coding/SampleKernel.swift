// The sample coding loop of the classical coder (non-palette images). Spec/CODEC.md §4.1–4.4.
//
// One loop serves encoder, decoder, cost counter and statistics learner (`SymbolSink`): the
// encoder reads `px[i]`, the decoder writes it; everything the prediction uses is causal (already
// coded samples, in raster order, channels interleaved) or x̂ (known to both sides).

@usableFromInline enum SampleKernel {
    /// Largest number of subpredictors.
    @usableFromInline static let maxSub = 8

    /// Folds residual `e = x − p` into `0...maxValue` (`p` in `0...maxValue`):
    /// 0, +1, −1, +2, −2, … while both signs fit, then the remaining side in order.
    @inlinable static func fold(_ e: Int, _ p: Int, _ maxValue: Int) -> Int {
        let m = min(p, maxValue - p)
        if e > m || e < -m { return m + (e < 0 ? -e : e) }
        return e > 0 ? 2 * e - 1 : -2 * e
    }

    /// Inverse of `fold`.
    @inlinable static func unfold(_ u: Int, _ p: Int, _ maxValue: Int) -> Int {
        let lo = p, hi = maxValue - p
        let m = min(lo, hi)
        if u <= 2 * m { return (u & 1) != 0 ? (u + 1) >> 1 : -(u >> 1) }
        return hi > lo ? u - m : -(u - m)
    }

    /// Rounded division for a positive divisor, rounding half away from zero (integer only).
    @inlinable static func roundDiv(_ a: Int, _ b: Int) -> Int {
        a >= 0 ? (a + b / 2) / b : -((-a + b / 2) / b)
    }

    @inlinable
    static func code<S: SymbolSink>(_ sink: inout S, _ w: Int, _ h: Int, _ C: Int, _ bd: Int,
                                    _ px: UnsafeMutablePointer<UInt16>, _ rec: UnsafePointer<UInt16>?,
                                    _ models: [AdaptiveModelSet]) {
        let maxV = (1 << bd) - 1
        let rowLen = w * C
        let hasRec = rec != nil
        // Scale differences to 8-bit units for context quantisation.
        let up = bd < 8 ? 8 - bd : 0, down = bd > 8 ? bd - 8 : 0
        let nAct = Tuning.activityLevels
        let ctxPerRole = ModelLayout.sampleContexts(reconstruction: hasRec)
        let K = maxSub
        // Subpredictor absolute errors for the current and previous row: [2][w][C][K].
        let subErr = UnsafeMutablePointer<Int32>.allocate(capacity: 2 * rowLen * K)
        subErr.initialize(repeating: 0, count: 2 * rowLen * K)
        // Final absolute errors, same two rows: [2][w][C].
        let finErr = UnsafeMutablePointer<Int32>.allocate(capacity: 2 * rowLen)
        finErr.initialize(repeating: 0, count: 2 * rowLen)
        // Bias correction per role and context: running error sum and count.
        let biasSum = UnsafeMutablePointer<Int>.allocate(capacity: 3 * ctxPerRole)
        biasSum.initialize(repeating: 0, count: 3 * ctxPerRole)
        let biasCount = UnsafeMutablePointer<Int>.allocate(capacity: 3 * ctxPerRole)
        biasCount.initialize(repeating: 0, count: 3 * ctxPerRole)
        defer { subErr.deallocate(); finErr.deallocate(); biasSum.deallocate(); biasCount.deallocate() }
        // Per-pixel residual of channel 0..3 with respect to its MED (for inter-channel prediction).
        var refResidual = (0, 0, 0, 0)
        var sub = (0, 0, 0, 0, 0, 0, 0, 0)
        let thresholds = Tuning.activityThresholds
        let recThresholds = Tuning.reconstructionThresholds

        for y in 0..<h {
            let cur = (y & 1) * rowLen, prev = ((y + 1) & 1) * rowLen
            for x in 0..<w {
                for c in 0..<C {
                    let i = (y * w + x) * C + c
                    let xi = x * C + c
                    let role = ModelLayout.role(c, channels: C)
                    // Causal neighbours, replicated at the borders.
                    let W: Int, N: Int, NW: Int, NE: Int
                    if y == 0 {
                        W = x > 0 ? Int(px[i - C]) : 0
                        N = W; NW = W; NE = W
                    } else {
                        N = Int(px[i - rowLen])
                        W = x > 0 ? Int(px[i - C]) : N
                        NW = x > 0 ? Int(px[i - rowLen - C]) : N
                        NE = x + 1 < w ? Int(px[i - rowLen + C]) : N
                    }
                    let grad = N + W - NW
                    let med = NW >= max(N, W) ? min(N, W) : (NW <= min(N, W) ? max(N, W) : grad)
                    // Subpredictors.
                    var k = 5
                    sub.0 = grad; sub.1 = med; sub.2 = N; sub.3 = W; sub.4 = W + NE - N
                    if role == 1 {
                        let rr: Int
                        switch c { case 1: rr = refResidual.0; case 2: rr = refResidual.1; default: rr = refResidual.2 }
                        sub.5 = med + rr
                        k = 6
                    }
                    var r = 0, recAct = 0
                    if let rec {
                        r = Int(rec[i])
                        let rW = x > 0 ? Int(rec[i - C]) : r
                        let rN = y > 0 ? Int(rec[i - rowLen]) : r
                        let nW = x > 0 ? W : r, nN = y > 0 ? N : r
                        let corr = (nW - rW) + (nN - rN)
                        if k == 5 { sub.5 = r + (corr >> 1); sub.6 = r } else { sub.6 = r + (corr >> 1); sub.7 = r }
                        k += 2
                        recAct = r > med ? r - med : med - r
                    }
                    // Error-weighted blend: weight_k = 2^40 / (1 + e_k)^2, e_k = Σ of the
                    // subpredictor's errors at N, W, NW, NE (2 rows kept).
                    var wsum = 0, psum = 0
                    let sw = subErr + cur * K + (x - 1) * C * K + c * K
                    let sn = subErr + prev * K + x * C * K + c * K
                    let hasW = x > 0, hasNE = x + 1 < w
                    withUnsafeBytes(of: &sub) { raw in
                        let sp = raw.baseAddress!.assumingMemoryBound(to: Int.self)
                        for j in 0..<k {
                            var e = Int(sn[j])
                            if hasW { e += Int(sw[j]) + Int(sn[j - C * K]) }
                            if hasNE { e += Int(sn[j + C * K]) }
                            e >>= down
                            let wt = max(1, (1 << 40) / ((1 + e) * (1 + e)))
                            wsum += wt
                            psum += wt * min(max(sp[j], 0), maxV)
                        }
                    }
                    let blended = (psum + wsum / 2) / wsum
                    // Context: activity from final errors around and the local gradients.
                    let fw = hasW ? Int(finErr[cur + xi - C]) : 0
                    let fn = Int(finErr[prev + xi])
                    let fnw = hasW ? Int(finErr[prev + xi - C]) : 0
                    let fne = hasNE ? Int(finErr[prev + xi + C]) : 0
                    var act = fw + fn + ((fnw + fne) >> 1) + (abs(N - NW) + abs(W - NW) + abs(NE - N)) / 2
                    act = (act << up) >> down
                    var aq = 0
                    while aq < nAct - 1 && act > thresholds[aq] { aq += 1 }
                    let p8 = (blended << up) >> down
                    let pq = p8 == 0 ? 0 : (blended == maxV ? 2 : 1)
                    var ctx = pq * nAct + aq
                    if hasRec {
                        let ra = (recAct << up) >> down
                        var rq = 0
                        while rq < recThresholds.count && ra > recThresholds[rq] { rq += 1 }
                        ctx += rq * nAct * Tuning.predictionLevels
                    }
                    // Bias correction.
                    let bi = role * ctxPerRole + ctx
                    let bc = biasCount[bi]
                    let corrn = bc > 0 ? roundDiv(biasSum[bi], bc) : 0
                    let pred = min(max(blended + corrn, 0), maxV)
                    // Code the folded residual.
                    let u = S.isDecoder ? 0 : fold(Int(px[i]) - pred, pred, maxV)
                    let v = sink.uint(u, models[role], ctx)
                    let xv = S.isDecoder ? min(max(pred + unfold(v, pred, maxV), 0), maxV) : Int(px[i])
                    if S.isDecoder { px[i] = UInt16(truncatingIfNeeded: xv) }
                    // Updates.
                    let err = xv - pred
                    finErr[cur + xi] = Int32(abs(err))
                    biasSum[bi] += err
                    biasCount[bi] = bc + 1
                    if bc + 1 >= 32 { biasSum[bi] /= 2; biasCount[bi] = (bc + 1) / 2 }
                    let se = subErr + cur * K + x * C * K + c * K
                    withUnsafeBytes(of: &sub) { raw in
                        let sp = raw.baseAddress!.assumingMemoryBound(to: Int.self)
                        for j in 0..<k { se[j] = Int32(min(abs(xv - min(max(sp[j], 0), maxV)), 1 << 20)) }
                    }
                    switch c {
                    case 0: refResidual.0 = xv - med
                    case 1: refResidual.1 = xv - med
                    case 2: refResidual.2 = xv - med
                    default: refResidual.3 = xv - med
                    }
                    _ = r
                }
            }
        }
    }
}
