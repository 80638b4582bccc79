// The sample coding loop of the classical coder (non-palette images). Spec/CODEC.md §4.1–4.4.
//
// One loop serves encoder, decoder, cost counter and statistics learner (`SymbolSink`): the
// encoder reads `px[i]`, the decoder writes it; everything the prediction uses is causal (already
// coded samples, in raster order, channels interleaved) or x̂ (known to both sides).

// Integer min/max/abs the optimiser always inlines (the generic ones were left as calls in the
// large loop body, costing about 10% of its time).
@inlinable @inline(__always) func smin(_ a: Int, _ b: Int) -> Int { a < b ? a : b }
@inlinable @inline(__always) func smax(_ a: Int, _ b: Int) -> Int { a > b ? a : b }
@inlinable @inline(__always) func sabs(_ a: Int) -> Int { a < 0 ? 0 &- a : a }

@usableFromInline enum SampleKernel {
    /// Subpredictor slots at most: 8 causal ones, the inter-channel one, x̂.
    @usableFromInline static let slots = 10

    /// `weightTable[e] = max(1, 2^42 / (1 + e)^4)` for e in 0...2047 (larger e: weight 1).
    @usableFromInline static let weightTable: [Int] = (0..<2048).map { e in
        let q = (1 + e) * (1 + e)
        return max(1, (1 << 42) / (q * q))
    }
    /// Coder 6's soft weights (Spec/CODEC.md §8.3, W = 1): `softWeightTable[e] = 2^42 / (2 + e)^2`.
    @usableFromInline static let softWeightTable: [Int] = (0..<2048).map { e in (1 << 42) / ((2 + e) * (2 + e)) }

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
    /// Dispatches to a copy of the loop specialised for the options (`KernelShape`), so the
    /// per-sample work has no option tests.
    @inlinable
    static func code<S: SymbolSink, T: FixedWidthInteger>(_ sink: inout S, _ w: Int, _ h: Int, _ C: Int,
                                                          _ layout: SampleLayout,
                                                          _ px: UnsafeMutablePointer<T>, _ rec: UnsafePointer<UInt16>?,
                                                          _ models: [AdaptiveModelSet]) {
        switch (layout.extendedModel, layout.smoothPredictors, layout.lmsPredictors, rec != nil) {
        case (false, false, false, false): code(&sink, w, h, C, layout, px, rec, models, ShapeClassic.self)
        case (false, false, false, true): code(&sink, w, h, C, layout, px, rec, models, ShapeReconstruction.self)
        case (true, true, false, false): code(&sink, w, h, C, layout, px, rec, models, ShapeExtendedSmooth.self)
        case (true, false, false, false): code(&sink, w, h, C, layout, px, rec, models, ShapeExtended.self)
        case (true, true, true, false): code(&sink, w, h, C, layout, px, rec, models, ShapeExtendedSmoothLMS.self)
        case (true, false, true, false): code(&sink, w, h, C, layout, px, rec, models, ShapeExtendedLMS.self)
        default: code(&sink, w, h, C, layout, px, rec, models, ShapeGeneral.self)
        }
    }

    /// Quantiser lookup table: entry v = number of `thresholds` below v, for v in `0..<size`.
    @usableFromInline static func levelTable(_ thresholds: [Int], size: Int) -> [UInt8] {
        (0..<size).map { v in UInt8(thresholds.filter { v > $0 }.count) }
    }
    /// Activity class for activity `min(A, 255)` (Spec/CODEC.md §4.3).
    @usableFromInline static let activityTable = levelTable(Tuning.activityThresholds, size: 256)
    /// Level class for a scaled prediction (always 0...255).
    @usableFromInline static let levelTable = levelTable(Tuning.levelThresholds, size: 256)
    /// x̂ class for a scaled x̂ (0...255).
    @usableFromInline static let reconstructionTable = levelTable(Tuning.reconstructionThresholds, size: 256)
    /// Coder 6's error class for `min(r, 31)`.
    @usableFromInline static let errorTable = levelTable(Tuning.errorThresholds, size: 32)

    /// The sample loop for one option set `L`.
    ///
    /// Buffers: subpredictor errors and (extended model) signed prediction errors for the current
    /// and previous row, each row padded with two zero pixels on both sides, so neighbours outside
    /// the image read 0 without a test (Spec/CODEC.md §4.2: such terms are 0; row 0's N terms read
    /// the still-zero other row).
    @inlinable
    static func code<S: SymbolSink, T: FixedWidthInteger, L: KernelShape>(_ sink: inout S, _ w: Int, _ h: Int, _ C: Int,
                                                                          _ layout: SampleLayout,
                                                                          _ px: UnsafeMutablePointer<T>, _ rec: UnsafePointer<UInt16>?,
                                                                          _ models: [AdaptiveModelSet], _: L.Type) {
        let rowLen = w * C
        let extended = L.general ? layout.extendedModel : L.extended
        let smooth = L.general ? layout.smoothPredictors : L.smooth, soft = layout.softWeights
        precondition(L.general || (L.hasReconstruction == (rec != nil) && L.lms == layout.lmsPredictors))
        let hasRec = L.general ? rec != nil : L.hasReconstruction
        let lms = L.general ? layout.lmsPredictors : L.lms
        precondition(!(lms && hasRec), "the NLMS slots and x̂ share the last slots")
        // Per channel (stride 8): largest value, up and down shifts to 8-bit units, weight shift,
        // role, and the number of subpredictor slots.
        let par = UnsafeMutablePointer<Int>.allocate(capacity: 32)
        par.initialize(repeating: 0, count: 32)
        for c in 0..<C {
            let m = layout.maxValue(c), bits = Int.bitWidth - m.leadingZeroBitCount
            let role = ModelLayout.role(c, channels: C)
            par[8 * c] = m
            par[8 * c + 1] = bits < 8 ? 8 - bits : 0
            par[8 * c + 2] = bits > 8 ? bits - 8 : 0
            par[8 * c + 3] = bits > 16 ? 2 : 0
            par[8 * c + 4] = role
            par[8 * c + 5] = (smooth ? 7 : 8) + (role == 1 && !extended ? 1 : 0) + (hasRec ? 1 : 0)
        }
        let nAct = Tuning.activityLevels, nLevel = Tuning.predictionLevels
        let K = slots
        // Subpredictor absolute errors, current and previous row: [2][w + 4][C][K] (padded).
        let padRow = (w + 4) * C
        let subErr = UnsafeMutablePointer<Int32>.allocate(capacity: 2 * padRow * K)
        subErr.initialize(repeating: 0, count: 2 * padRow * K)
        let sp = UnsafeMutablePointer<Int>.allocate(capacity: K)
        sp.initialize(repeating: 0, count: K)
        // Residual of each channel at the current pixel with respect to its MED prediction.
        let refResidual = UnsafeMutablePointer<Int>.allocate(capacity: 4)
        refResidual.initialize(repeating: 0, count: 4)
        // Extended model: signed error x − P of the final prediction, current and previous row (padded).
        let predErr = UnsafeMutablePointer<Int32>.allocate(capacity: extended ? 2 * padRow : 1)
        predErr.initialize(repeating: 0, count: extended ? 2 * padRow : 1)
        var nlms = NLMSPredictors(channels: lms ? C : 0)
        defer { subErr.deallocate(); sp.deallocate(); par.deallocate(); refResidual.deallocate(); predErr.deallocate(); nlms.deallocate() }
        precondition(!extended || models.count == 9, "the extended model has a third context model per role")
        var mix = 0
        for r in 0..<3 where models[3 + r].contexts > 1 { mix |= 1 << r }
        // The models by role, held in locals (an array subscript per sample costs a retain/release).
        let tok = (models[0], models[1], models[2]), sec = (models[3], models[4], models[5])
        let third = extended ? (models[6], models[7], models[8]) : sec
        let KC = K * C
        (soft ? softWeightTable : weightTable).withUnsafeBufferPointer { wtabBuffer in
        activityTable.withUnsafeBufferPointer { actBuffer in
        levelTable.withUnsafeBufferPointer { levelBuffer in
        reconstructionTable.withUnsafeBufferPointer { recBuffer in
        errorTable.withUnsafeBufferPointer { errBuffer in
            let wtab = wtabBuffer.baseAddress!, actT = actBuffer.baseAddress!, levelT = levelBuffer.baseAddress!
            let recT = recBuffer.baseAddress!, errT = errBuffer.baseAddress!
            // Extended model: |x − P| (8-bit units) of channels 0 and 1 at the current pixel, and
            // the signed x − P of the channel just coded.
            var pixResidual0 = 0, pixResidual1 = 0, lastSigned = 0
            var i = 0
            for y in 0..<h {
                let cur = (y & 1) * padRow + 2 * C, prev = ((y + 1) & 1) * padRow + 2 * C
                for x in 0..<w {
                    for c in 0..<C {
                        defer { i &+= 1 }
                        let xi = x &* C &+ c
                        let cp = par + 8 &* c
                        let maxV = cp[0], up = cp[1], down = cp[2], wshift = cp[3], role = cp[4], k = cp[5]
                        // Causal neighbours of the same channel, replicated at the borders.
                        let W: Int, N: Int, NW: Int, NE: Int, NN: Int
                        if y == 0 {
                            W = x > 0 ? Int(px[i &- C]) : 0
                            N = W; NW = W; NE = W; NN = W
                        } else {
                            N = Int(px[i &- rowLen])
                            W = x > 0 ? Int(px[i &- C]) : N
                            NW = x > 0 ? Int(px[i &- rowLen &- C]) : N
                            NE = x &+ 1 < w ? Int(px[i &- rowLen &+ C]) : N
                            NN = y > 1 ? Int(px[i &- 2 &* rowLen]) : N
                        }
                        let WW = x > 1 ? Int(px[i &- 2 &* C]) : W
                        let mn = smin(N, W), mx = smax(N, W)
                        let grad = N &+ W &- NW
                        let med = NW >= mx ? mn : (NW <= mn ? mx : grad)
                        // Subpredictors (Spec/CODEC.md §4.2), clamped to 0...maxV.
                        sp[0] = smin(smax(grad, 0), maxV); sp[1] = N; sp[2] = W
                        // (Coder 6's NLMS slots take the place of each set's last two.)
                        if smooth {
                            // Coder 6's smooth set (photographs): no extrapolation.
                            sp[3] = (N &+ W &+ 1) &>> 1; sp[4] = med
                            if !lms { sp[5] = (W &+ NE &+ 1) &>> 1; sp[6] = (N &+ 2 &* W &+ NE &+ 2) &>> 2 }
                        } else {
                            sp[3] = smin(smax(W &+ NE &- N, 0), maxV); sp[4] = NE; sp[5] = (N &+ W &+ 1) &>> 1
                            if !lms { sp[6] = smin(smax(2 &* N &- NN, 0), maxV); sp[7] = smin(smax(2 &* W &- WW, 0), maxV) }
                        }
                        var recAct = 0
                        if !extended || hasRec || lms {
                            var j = (smooth ? 7 : 8) &- (lms ? 2 : 0)
                            if !extended && role == 1 {
                                sp[j] = smin(smax(med &+ refResidual[c &- 1], 0), maxV)
                                j &+= 1
                            }
                            if let rec {
                                recAct = Int(rec[i])
                                sp[j] = smin(recAct, maxV)
                            }
                            if lms {
                                // Coder 6's NLMS slots (Spec/CODEC.md §8.3): four more neighbours,
                                // replaced by the nearest of §4.2's where they fall outside the image.
                                let NNE = y > 1 && x &+ 1 < w ? Int(px[i &- 2 &* rowLen &+ C]) : NE
                                let NWW = y > 0 && x > 1 ? Int(px[i &- rowLen &- 2 &* C]) : NW
                                let NNW = y > 1 && x > 0 ? Int(px[i &- 2 &* rowLen &- C]) : NN
                                let NEE = y > 0 && x &+ 2 < w ? Int(px[i &- rowLen &+ 2 &* C]) : NE
                                nlms.setFeatures(c, W: W, N: N, NW: NW, NE: NE, NN: NN, WW: WW, NNE: NNE, NWW: NWW, NNW: NNW, NEE: NEE)
                                (sp[j], sp[j &+ 1]) = nlms.predictions(c, W: W, maxValue: maxV)
                            }
                        }
                        // Error-weighted blend: e_j = (3·err_N + 3·err_W + err_NW + err_NE) >> down,
                        // weight_j = max(1, 2^42 / (1 + e_j)^4) (>> 2 for channels wider than 16
                        // bits, so Σ w·p fits 63 bits);
                        // prediction = Σ w·clamp(p) / Σ w, rounded.
                        var wsum = 0, psum = 0, ebest = Int.max
                        let sn = subErr + (prev &+ xi) &* K, sw = subErr + (cur &+ xi &- C) &* K
                        for j in 0..<k {
                            let e0 = Int(sn[j]) &+ Int(sw[j])
                            let e1 = Int(sn[j &- KC]) &+ Int(sn[j &+ KC])
                            let e = (soft ? 2 &* e0 &+ e1 &+ Int(sw[j &- KC]) &+ Int(sn[j &+ 2 &* KC]) : 3 &* e0 &+ e1) &>> down
                            ebest = smin(ebest, e)
                            let wt = smax(1, wtab[smin(e, 2047)] &>> wshift)
                            wsum &+= wt
                            psum &+= wt &* sp[j]
                        }
                        let blended = (psum &+ wsum / 2) / wsum
                        // Context: best subpredictor's local error plus half the local gradient sum,
                        // in 8-bit units; predicted level; with x̂, the level of x̂.
                        let gsum = sabs(N &- NW) &+ sabs(W &- NW) &+ sabs(NE &- N)
                        let activity = ((ebest &+ gsum &>> 1) &<< up) &>> down
                        let aq = Int(actT[smin(activity, 255)])
                        var pq = Int(levelT[(blended &<< up) &>> down])
                        if extended && role == 1 {
                            // The level class of a colour channel: how surprising the channels
                            // before it were at this pixel (its own level is centred, uninformative).
                            let r = c == 1 ? pixResidual0 : (pixResidual0 &+ pixResidual1 &+ 1) &>> 1
                            pq = Int(errT[smin(r, 31)])
                        }
                        var ctx = pq &* nAct &+ aq
                        if hasRec {
                            ctx &+= Int(recT[smin((recAct &<< up) &>> down, 255)]) &* (nAct &* nLevel)
                        }
                        // No bias correction: on images with flat black or white areas the mean
                        // residual of a context is far from its mode, and correcting by it (LOCO-I
                        // style, mean or sign-step) cost 4–18% on Fashion-MNIST.
                        // (Nor for coder 6: on Kodak it cost 0.2–1%.)
                        let pred = blended
                        // Code the folded residual.
                        let u = S.isDecoder ? 0 : fold(Int(px[i]) &- pred, pred, maxV)
                        // Second context: local texture signs × coarse activity [× x̂ side].
                        let t1 = N > NW ? 2 : (N < NW ? 0 : 1), t2 = W > NW ? 2 : (W < NW ? 0 : 1), t3 = NE > N ? 2 : (NE < N ? 0 : 1)
                        var ctx2 = (t1 &* 9 &+ t2 &* 3 &+ t3) &* 4 &+ (aq &>> 2)
                        if hasRec {
                            let d = recAct &- blended
                            ctx2 &+= 108 &* ((d > 0 ? 2 : (d < 0 ? 0 : 1)) &+ 3 &* smin(3, ((sabs(d) &<< up) &>> down) &>> 3))
                        }
                        let v: Int
                        let pe = predErr + (cur &+ xi), pn = predErr + (prev &+ xi)
                        if extended {
                            // Third context: recent error size of the final prediction (2|e_N| +
                            // 2|e_W| + |e_NW| + |e_NE|, halved, 8-bit units; 10 classes), the signs of
                            // e_W and e_N, and for colour channels the sign of the previous channel's
                            // e at this pixel. Positions outside the image count as e = 0.
                            let eW = Int(pe[-C]), eN = Int(pn[0])
                            let ee = 2 &* (sabs(eN) &+ sabs(eW)) &+ sabs(Int(pn[-C])) &+ sabs(Int(pn[C]))
                            let r = ((ee &<< up) &>> down) &>> 1
                            let eq = Int(errT[smin(r, 31)])
                            let sW = eW > 0 ? 2 : (eW < 0 ? 0 : 1), sN = eN > 0 ? 2 : (eN < 0 ? 0 : 1)
                            let sC = role != 1 ? 1 : (lastSigned > 0 ? 2 : (lastSigned < 0 ? 0 : 1))
                            let ctx3 = eq &* 27 &+ sW &* 9 &+ sN &* 3 &+ sC
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
                        let xv = S.isDecoder ? smin(smax(pred &+ unfold(v, pred, maxV), 0), maxV) : Int(px[i])
                        if S.isDecoder { px[i] = T(truncatingIfNeeded: xv) }
                        // Updates.
                        let se = subErr + (cur &+ xi) &* K
                        for j in 0..<k { se[j] = Int32(truncatingIfNeeded: sabs(xv &- sp[j])) }
                        refResidual[c] = xv &- med
                        if lms { nlms.update(c, x: xv, W: W) }
                        if extended {
                            lastSigned = xv &- pred
                            pe[0] = Int32(truncatingIfNeeded: lastSigned)
                            let r = (sabs(lastSigned) &<< up) &>> down
                            if c == 0 { pixResidual0 = r } else if c == 1 { pixResidual1 = r }
                        }
                    }
                }
            }
        }
        }
        }
        }
        }
    }
}

/// The option set of one specialised copy of the sample loop (compile-time constants).
@usableFromInline protocol KernelShape {
    static var extended: Bool { get }
    static var smooth: Bool { get }
    static var hasReconstruction: Bool { get }
    static var lms: Bool { get }
    /// True for the copy that reads every option from the layout at run time (the other statics
    /// are then not used).
    static var general: Bool { get }
}

/// Coder 1 without x̂ (and coder 6 with both options off).
@usableFromInline enum ShapeClassic: KernelShape {
    @inlinable static var extended: Bool { false }
    @inlinable static var smooth: Bool { false }
    @inlinable static var hasReconstruction: Bool { false }
    @inlinable static var lms: Bool { false }
    @inlinable static var general: Bool { false }
}

/// Coder 1 with x̂ (the DDN coders' residual).
@usableFromInline enum ShapeReconstruction: KernelShape {
    @inlinable static var extended: Bool { false }
    @inlinable static var smooth: Bool { false }
    @inlinable static var hasReconstruction: Bool { true }
    @inlinable static var lms: Bool { false }
    @inlinable static var general: Bool { false }
}

/// Coder 6, extended model, §4.2's subpredictors.
@usableFromInline enum ShapeExtended: KernelShape {
    @inlinable static var extended: Bool { true }
    @inlinable static var smooth: Bool { false }
    @inlinable static var hasReconstruction: Bool { false }
    @inlinable static var lms: Bool { false }
    @inlinable static var general: Bool { false }
}

/// Coder 6, extended model, smooth subpredictors (photographs).
@usableFromInline enum ShapeExtendedSmooth: KernelShape {
    @inlinable static var extended: Bool { true }
    @inlinable static var smooth: Bool { true }
    @inlinable static var hasReconstruction: Bool { false }
    @inlinable static var lms: Bool { false }
    @inlinable static var general: Bool { false }
}

/// Coder 6, extended model, §4.2's subpredictors and the NLMS slots.
@usableFromInline enum ShapeExtendedLMS: KernelShape {
    @inlinable static var extended: Bool { true }
    @inlinable static var smooth: Bool { false }
    @inlinable static var hasReconstruction: Bool { false }
    @inlinable static var lms: Bool { true }
    @inlinable static var general: Bool { false }
}

/// Coder 6, extended model, smooth subpredictors and the NLMS slots (photographs).
@usableFromInline enum ShapeExtendedSmoothLMS: KernelShape {
    @inlinable static var extended: Bool { true }
    @inlinable static var smooth: Bool { true }
    @inlinable static var hasReconstruction: Bool { false }
    @inlinable static var lms: Bool { true }
    @inlinable static var general: Bool { false }
}

/// Every option set no other copy serves (coder 6 without the extended model but with the smooth
/// set or the NLMS slots: not chosen by the encoder; decodes). Tests the options at run time.
@usableFromInline enum ShapeGeneral: KernelShape {
    @inlinable static var extended: Bool { false }
    @inlinable static var smooth: Bool { false }
    @inlinable static var hasReconstruction: Bool { false }
    @inlinable static var lms: Bool { false }
    @inlinable static var general: Bool { true }
}
