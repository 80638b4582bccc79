// The sample coding loop of the classical coder (non-palette images). Spec/CODEC.md §4.1–4.4.
//
// One loop serves encoder, decoder, cost counter and statistics learner (`SymbolSink`): the
// encoder reads `px[i]`, the decoder writes it; everything the prediction uses is causal (already
// coded samples, in raster order, channels interleaved) or x̂ (known to both sides).

// Integer min/max/abs the optimiser always inlines (the generic ones were left as calls in the
// large loop body, costing about 10% of its time).
@inlinable @inline(__always) func smin(_ a: Int, _ b: Int) -> Int { a < b ? a : b }
@inlinable @inline(__always) func smax(_ a: Int, _ b: Int) -> Int { a > b ? a : b }
@inlinable @inline(__always) func sabs(_ a: Int) -> Int { a < 0 ? -a : a }

@usableFromInline enum SampleKernel {
    /// Subpredictor slots: 8 causal ones, the inter-channel one, x̂.
    @usableFromInline static let slots = 10

    /// `weightTable[e] = max(1, 2^42 / (1 + e)^4)` for e in 0...2047 (larger e: weight 1).
    @usableFromInline static let weightTable: [Int] = (0..<2048).map { e in
        let q = (1 + e) * (1 + e)
        return max(1, (1 << 42) / (q * q))
    }

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

    /// Codes (or decodes into `px`) a `w × h × C` image of depth `bd`, optionally with x̂ `rec`.
    /// `models` as built by `ModelLayout.models` (index = channel role). Coder 1.
    /// - Complexity: O(w·h·C), about 10 subpredictors per sample.
    @inlinable
    static func code<S: SymbolSink>(_ sink: inout S, _ w: Int, _ h: Int, _ C: Int, _ bd: Int,
                                    _ px: UnsafeMutablePointer<UInt16>, _ rec: UnsafePointer<UInt16>?,
                                    _ models: [AdaptiveModelSet]) {
        code(&sink, w, h, C, SampleLayout.classic(bitDepth: bd), px, rec, models)
    }

    /// The one sample loop: coder 1 with `SampleLayout.classic`, coder 6 with its options
    /// (Spec/CODEC.md §4.2–4.4, §8). `px` holds samples in `0...layout.maxValue(c)` of channel c.
    @inlinable
    static func code<S: SymbolSink, T: FixedWidthInteger>(_ sink: inout S, _ w: Int, _ h: Int, _ C: Int,
                                                          _ layout: SampleLayout,
                                                          _ px: UnsafeMutablePointer<T>, _ rec: UnsafePointer<UInt16>?,
                                                          _ models: [AdaptiveModelSet]) {
        let rowLen = w * C
        let hasRec = rec != nil
        let extended = layout.extendedModel, smooth = layout.smoothPredictors
        // Per channel: largest value, and the shifts that scale its differences to 8-bit units.
        var chMax = (0, 0, 0, 0), chUp = (0, 0, 0, 0), chDown = (0, 0, 0, 0), chWShift = (0, 0, 0, 0)
        for c in 0..<C {
            let m = layout.maxValue(c), bits = Int.bitWidth - m.leadingZeroBitCount
            let u = bits < 8 ? 8 - bits : 0, d = bits > 8 ? bits - 8 : 0, ws = bits > 16 ? 2 : 0
            switch c {
            case 0: chMax.0 = m; chUp.0 = u; chDown.0 = d; chWShift.0 = ws
            case 1: chMax.1 = m; chUp.1 = u; chDown.1 = d; chWShift.1 = ws
            case 2: chMax.2 = m; chUp.2 = u; chDown.2 = d; chWShift.2 = ws
            default: chMax.3 = m; chUp.3 = u; chDown.3 = d; chWShift.3 = ws
            }
        }
        let nAct = Tuning.activityLevels, nLevel = Tuning.predictionLevels
        let K = slots
        // Subpredictor absolute errors for the current and previous row: [2][w][C][K].
        let subErr = UnsafeMutablePointer<Int32>.allocate(capacity: 2 * rowLen * K)
        subErr.initialize(repeating: 0, count: 2 * rowLen * K)
        let sp = UnsafeMutablePointer<Int>.allocate(capacity: K)
        sp.initialize(repeating: 0, count: K)
        let thresholds = UnsafeMutablePointer<Int>.allocate(capacity: 4 * 32)
        for (j, t) in Tuning.activityThresholds.enumerated() { thresholds[j] = t }
        for (j, t) in Tuning.levelThresholds.enumerated() { thresholds[32 + j] = t }
        for (j, t) in Tuning.reconstructionThresholds.enumerated() { thresholds[64 + j] = t }
        for (j, t) in Tuning.errorThresholds.enumerated() { thresholds[96 + j] = t }
        defer {
            subErr.deallocate()
            sp.deallocate(); thresholds.deallocate()
        }
        let nRecT = Tuning.reconstructionThresholds.count
        // Extended model: signed error x − P of the final prediction, current and previous row.
        let predErr = UnsafeMutablePointer<Int32>.allocate(capacity: extended ? 2 * rowLen : 1)
        predErr.initialize(repeating: 0, count: extended ? 2 * rowLen : 1)
        defer { predErr.deallocate() }
        precondition(!extended || models.count == 9, "the extended model has a third context model per role")
        var mix = 0
        for r in 0..<3 where models[3 + r].contexts > 1 { mix |= 1 << r }
        // The models by role, held in locals (an array subscript per sample costs a retain/release).
        let tok = (models[0], models[1], models[2]), sec = (models[3], models[4], models[5])
        let third = extended ? (models[6], models[7], models[8]) : sec
        weightTable.withUnsafeBufferPointer { wtab in
            // Residual of each channel at the current pixel with respect to its MED prediction.
            var refResidual = (0, 0, 0, 0)
            // Extended model: |x − P| (8-bit units) of channels 0 and 1 at the current pixel, and
            // the signed x − P of the channel just coded.
            var pixResidual = (0, 0), lastSigned = 0

            for y in 0..<h {
                let cur = (y & 1) * rowLen, prev = ((y + 1) & 1) * rowLen
                for x in 0..<w {
                    for c in 0..<C {
                        let i = (y * w + x) * C + c
                        let xi = x * C + c
                        let role = ModelLayout.role(c, channels: C)
                        let maxV: Int, up: Int, down: Int, wshift: Int
                        switch c {
                        case 0: maxV = chMax.0; up = chUp.0; down = chDown.0; wshift = chWShift.0
                        case 1: maxV = chMax.1; up = chUp.1; down = chDown.1; wshift = chWShift.1
                        case 2: maxV = chMax.2; up = chUp.2; down = chDown.2; wshift = chWShift.2
                        default: maxV = chMax.3; up = chUp.3; down = chDown.3; wshift = chWShift.3
                        }
                        // Causal neighbours of the same channel, replicated at the borders.
                        let W: Int, N: Int, NW: Int, NE: Int, NN: Int
                        if y == 0 {
                            W = x > 0 ? Int(px[i - C]) : 0
                            N = W; NW = W; NE = W; NN = W
                        } else {
                            N = Int(px[i - rowLen])
                            W = x > 0 ? Int(px[i - C]) : N
                            NW = x > 0 ? Int(px[i - rowLen - C]) : N
                            NE = x + 1 < w ? Int(px[i - rowLen + C]) : N
                            NN = y > 1 ? Int(px[i - 2 * rowLen]) : N
                        }
                        let WW = x > 1 ? Int(px[i - 2 * C]) : W
                        let med = NW >= smax(N, W) ? smin(N, W) : (NW <= smin(N, W) ? smax(N, W) : N + W - NW)
                        // Subpredictors (Spec/CODEC.md §4.2).
                        sp[0] = N + W - NW; sp[1] = N; sp[2] = W; sp[3] = W + NE - N
                        sp[4] = NE; sp[5] = (N + W + 1) >> 1; sp[6] = 2 * N - NN; sp[7] = 2 * W - WW
                        var k = 8
                        if smooth {
                            // Coder 6's smooth set (photographs): no extrapolation.
                            sp[3] = (N + W + 1) >> 1; sp[4] = med; sp[5] = (W + NE + 1) >> 1; sp[6] = (N + 2 * W + NE + 2) >> 2
                            k = 7
                        }
                        if role == 1 && !extended {
                            let rr: Int
                            switch c { case 1: rr = refResidual.0; case 2: rr = refResidual.1; default: rr = refResidual.2 }
                            sp[k] = med + rr
                            k += 1
                        }
                        var recAct = 0, rvv = 0  // x̂ level for the context, x̂
                        if let rec {
                            let r = Int(rec[i])
                            rvv = r
                            sp[k] = r
                            k += 1
                            recAct = r
                        }
                        // Error-weighted blend: e_j = (3·err_N + 3·err_W + err_NW + err_NE) >> down,
                        // weight_j = max(1, 2^42 / (1 + e_j)^4) (>> 2 for channels wider than 16
                        // bits, so Σ w·p fits 63 bits);
                        // prediction = Σ w·clamp(p) / Σ w, rounded.
                        var wsum = 0, psum = 0, ebest = Int.max
                        let hasW = x > 0, hasNE = x + 1 < w
                        let sn = subErr + (prev + xi) * K
                        for j in 0..<k {
                            var e = 3 * Int(sn[j])
                            if hasW { e += 3 * Int(subErr[(cur + xi - C) * K + j]) + Int(sn[j - C * K]) }
                            if hasNE { e += Int(sn[j + C * K]) }
                            e >>= down
                            ebest = smin(ebest, e)
                            let wt = smax(1, wtab[smin(e, 2047)] >> wshift)
                            wsum += wt
                            psum += wt * smin(smax(sp[j], 0), maxV)
                        }
                        let blended = (psum + wsum / 2) / wsum
                        // Context: best subpredictor's local error plus half the local gradient sum,
                        // in 8-bit units; predicted level; with x̂, the level of x̂.
                        let gsum = sabs(N - NW) + sabs(W - NW) + sabs(NE - N)
                        let activity = ((ebest + gsum / 2) << up) >> down
                        var aq = 0
                        while aq < nAct - 1 && activity > thresholds[aq] { aq += 1 }
                        let p8 = (blended << up) >> down
                        var pq = 0
                        while pq < nLevel - 1 && p8 > thresholds[32 + pq] { pq += 1 }
                        if extended && role == 1 {
                            // The level class of a colour channel: how surprising the channels
                            // before it were at this pixel (its own level is centred, uninformative).
                            let r = c == 1 ? pixResidual.0 : (pixResidual.0 + pixResidual.1 + 1) >> 1
                            pq = 0
                            while pq < nLevel - 1 && r > thresholds[96 + pq] { pq += 1 }
                        }
                        var ctx = pq * nAct + aq
                        if hasRec {
                            let ra = (recAct << up) >> down
                            var rq = 0
                            while rq < nRecT && ra > thresholds[64 + rq] { rq += 1 }
                            ctx += rq * nAct * nLevel
                        }
                        // No bias correction: on images with flat black or white areas the mean
                        // residual of a context is far from its mode, and correcting by it (LOCO-I
                        // style, mean or sign-step) cost 4–18% on Fashion-MNIST.
                        // (Nor for coder 6: on Kodak it cost 0.2–1%.)
                        let pred = blended
                        // Code the folded residual.
                        let u = S.isDecoder ? 0 : fold(Int(px[i]) - pred, pred, maxV)
                        // Second context: local texture signs × coarse activity [× x̂ side].
                        let t1 = N > NW ? 2 : (N < NW ? 0 : 1), t2 = W > NW ? 2 : (W < NW ? 0 : 1), t3 = NE > N ? 2 : (NE < N ? 0 : 1)
                        var ctx2 = (t1 * 9 + t2 * 3 + t3) * 4 + (aq >> 2)
                        if hasRec {
                            let d = rvv - blended
                            ctx2 += 108 * ((d > 0 ? 2 : (d < 0 ? 0 : 1)) + 3 * smin(3, ((sabs(d) << up) >> down) >> 3))
                        }
                        let v: Int
                        if extended {
                            // Third context: recent error size of the final prediction (2|e_N| +
                            // 2|e_W| + |e_NW| + |e_NE|, halved, 8-bit units; 10 classes), the signs of
                            // e_W and e_N, and for colour channels the sign of the previous channel's
                            // e at this pixel. Positions outside the image count as e = 0.
                            let pe = predErr + cur + xi, pn = predErr + prev + xi
                            let eW = hasW ? Int(pe[-C]) : 0, eN = y > 0 ? Int(pn[0]) : 0
                            let eNW = y > 0 && hasW ? Int(pn[-C]) : 0, eNE = y > 0 && hasNE ? Int(pn[C]) : 0
                            let ee = 2 * sabs(eN) + 2 * sabs(eW) + sabs(eNW) + sabs(eNE)
                            let r = ((ee << up) >> down) >> 1
                            var eq = 0
                            while eq < nLevel - 1 && r > thresholds[96 + eq] { eq += 1 }
                            let sW = eW > 0 ? 2 : (eW < 0 ? 0 : 1), sN = eN > 0 ? 2 : (eN < 0 ? 0 : 1)
                            let sC = role != 1 ? 1 : (lastSigned > 0 ? 2 : (lastSigned < 0 ? 0 : 1))
                            let ctx3 = eq * 27 + sW * 9 + sN * 3 + sC
                            switch role {
                            case 0: v = sink.uint(u, tok.0, ctx, sec.0, ctx2, third.0, ctx3)
                            case 1: v = sink.uint(u, tok.1, ctx, sec.1, ctx2, third.1, ctx3)
                            default: v = sink.uint(u, tok.2, ctx, sec.2, ctx2, third.2, ctx3)
                            }
                        } else if mix & (1 << role) != 0 {
                            switch role {
                            case 0: v = sink.uint(u, tok.0, ctx, sec.0, ctx2)
                            case 1: v = sink.uint(u, tok.1, ctx, sec.1, ctx2)
                            default: v = sink.uint(u, tok.2, ctx, sec.2, ctx2)
                            }
                        } else {
                            switch role {
                            case 0: v = sink.uint(u, tok.0, ctx)
                            case 1: v = sink.uint(u, tok.1, ctx)
                            default: v = sink.uint(u, tok.2, ctx)
                            }
                        }
                        let xv = S.isDecoder ? smin(smax(pred + unfold(v, pred, maxV), 0), maxV) : Int(px[i])
                        if S.isDecoder { px[i] = T(truncatingIfNeeded: xv) }
                        // Updates.
                        let se = subErr + (cur + xi) * K
                        for j in 0..<k { se[j] = Int32(sabs(xv - smin(smax(sp[j], 0), maxV))) }
                        switch c {
                        case 0: refResidual.0 = xv - med
                        case 1: refResidual.1 = xv - med
                        case 2: refResidual.2 = xv - med
                        default: refResidual.3 = xv - med
                        }
                        if extended {
                            lastSigned = xv - pred
                            predErr[cur + xi] = Int32(lastSigned)
                            let r = (sabs(lastSigned) << up) >> down
                            if c == 0 { pixResidual.0 = r } else if c == 1 { pixResidual.1 = r }
                        }
                    }
                }
            }
        }
    }
}
