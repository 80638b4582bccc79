import Foundation

/// How each level picks the candidate that is trained and fed on (DESIGN §3).
public enum SelectionRule: String, Sendable, CaseIterable {
    /// q_l(k) ∝ π_l(k)·exp(−β·d_k), d_k = ||c_k − x||²/(2σ²N): sampled.
    case proportional
    /// argmin_k d_k: the original DDN rule.
    case nearest
}

/// Knobs of a training run (the model's own shape is in DDNConfig).
public struct TrainOptions: Sendable {
    public var selection: SelectionRule = .proportional
    /// β schedule: geometric from betaStart to betaEnd over the run (by fraction of the budget).
    public var betaStart: Double = 1
    public var betaEnd: Double = 1000
    /// Adam (Kingma & Ba); lr warms up over `warmupSteps`, then cosine to lr·lrFinalFraction.
    public var lr: Float = 2e-3
    public var lrFinalFraction: Float = 0.05
    public var warmupSteps = 100
    public var beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8
    public var batchSize = 32
    /// Worker threads (≤ shards). Results do not depend on it: the batch is always cut into `shards`.
    public var threads = 2
    public var shards = 2
    /// Split-and-Prune: decayed choice counts (decay per step); split a head whose share exceeds
    /// splitHigh/K into the least chosen; replace a head whose share is under splitLow/K.
    public var countDecay: Float = 0.995
    public var splitHigh: Float = 2.0
    public var splitLow: Float = 0.5
    public var splitNoise: Float = 1e-3
    public var seed: UInt64 = 1
    /// With a residual network: weight of the Gaussian proxy kept on each level's candidate beside
    /// the description length (Spec/MODEL.md §6.2).
    public var proxyWeight: Float = 0.1
    /// With a residual network: one image in this many is also trained at depth 0 (the network
    /// alone), which teaches the first halting flag when the DDN does not pay.
    public var depthZeroEvery = 4
    /// With a residual network and proportional selection (single-shot layout): the last level's
    /// candidate is chosen among this many nearest by the network's own bits (one forward pass
    /// each; Spec/MODEL.md §6.2); 0 or 1: by the Gaussian proxy alone.
    public var realBitsCandidates = 0
    public init() {}
}

/// Statistics of one optimiser step (bits per sub-pixel are means over the batch).
public struct StepStats: Sendable {
    public var pathBpsp = 0.0, haltBpsp = 0.0, residualBpsp = 0.0   // residual: Gaussian proxy at best depth, w/o constant
    public var meanDepth = 0.0
    public var splits = 0
}

struct Ptr: @unchecked Sendable { let p: UnsafeMutablePointer<Float> }

/// The training loop's state: parameters, Adam moments, choice counts. Not thread-safe itself; it
/// runs the shards of a batch on `threads` threads and sums their gradients in shard order.
public final class Trainer: @unchecked Sendable {
    public let config: DDNConfig
    public var options: TrainOptions
    let lay: ParamLayout
    let n: Int
    let params, m, v: UnsafeMutablePointer<Float>
    let grads: [Ptr]                 // one per shard
    let workspaces: [Workspace]      // one per shard (recurrence)
    let ssWorkspaces: [[SSWorkspace]]  // one per shard and level (single-shot)
    /// The residual network (nil for version-1 models), its per-shard buffers and transposed weights.
    let netLayout: ResidualNetLayout?
    let netWorkspaces: [ResidualNetWorkspace]
    let netTransposed: ResidualNetTransposed?
    let tw: TransposedWeights
    let ss: SSLayout?
    /// A parameter-less model (start image, resampling, samples), and with the single-shot layout
    /// each level's cell areas.
    let template: DDNModel
    var ssArea: [[Double]] = []
    public private(set) var start: [Float]
    public var step: UInt64 = 0
    public var imagesSeen: UInt64 = 0
    public var elapsedSeconds: Double = 0
    /// Decayed choice counts [L·K].
    public var counts: [Float]
    var rng: SplitMix64
    public var residualStatistics: [UInt8] = []
    /// Last chosen-level record per shard (for per-level statistics).
    public private(set) var lastChoices: [[Int32]] = []

    public init(model: DDNModel, options: TrainOptions) {
        config = model.config
        self.options = options
        lay = ParamLayout(model.config)
        ss = model.config.layout == 1 ? SSLayout(model.config) : nil
        n = DDNModel.parameterCount(model.config)
        let pp = UnsafeMutablePointer<Float>.allocate(capacity: n)
        params = pp; m = .allocate(capacity: n); v = .allocate(capacity: n)
        let total = n
        model.parameters.withUnsafeBufferPointer { pp.initialize(from: $0.baseAddress!, count: total) }
        m.initialize(repeating: 0, count: n); v.initialize(repeating: 0, count: n)
        let layout = ParamLayout(model.config)
        grads = (0..<options.shards).map { _ in let g = UnsafeMutablePointer<Float>.allocate(capacity: total); g.initialize(repeating: 0, count: total); return Ptr(p: g) }
        let ssl = ss
        workspaces = ssl == nil ? (0..<options.shards).map { _ in Workspace(layout) } : []
        ssWorkspaces = ssl.map { l in (0..<options.shards).map { _ in (0..<l.L).map { _ in SSWorkspace(l) } } } ?? []
        netLayout = model.net
        netWorkspaces = model.net.map { n in (0..<options.shards).map { _ in ResidualNetWorkspace(n) } } ?? []
        netTransposed = model.net.map(ResidualNetTransposed.init)
        tw = TransposedWeights(layout)
        start = model.start
        residualStatistics = model.residualStatistics
        let expected = Float(options.batchSize) / Float(lay.K) / (1 - options.countDecay)
        counts = [Float](repeating: expected, count: lay.L * lay.K)
        rng = SplitMix64(seed: options.seed ^ 0x5DD1_7A1B)
        template = DDNModel(config: model.config, parameters: [], start: model.start, unchecked: true)
        if let ssl {
            let cf = model.config
            ssArea = ssl.levels.map { v in
                var a = [Double](repeating: 0, count: v.P)
                for y in 0..<cf.height { for xx in 0..<cf.width { a[(y * v.h / cf.height) * v.w + xx * v.w / cf.width] += 1 } }
                return a
            }
        }
        if let t = model.trainingState, t.m.count == n, t.v.count == n {
            t.m.withUnsafeBufferPointer { m.update(from: $0.baseAddress!, count: n) }
            t.v.withUnsafeBufferPointer { v.update(from: $0.baseAddress!, count: n) }
            step = t.step; imagesSeen = t.imagesSeen; elapsedSeconds = t.elapsedSeconds
            if t.counts.count == counts.count { counts = t.counts }
            rng = SplitMix64(seed: t.rngState)
        }
    }
    deinit { params.deallocate(); m.deallocate(); v.deallocate(); for g in grads { g.p.deallocate() } }

    /// The current model; with Adam moments and counts if `withState` (checkpoints).
    public func model(withState: Bool) -> DDNModel {
        var md = DDNModel(config: config, parameters: Array(UnsafeBufferPointer(start: params, count: n)), start: start)
        md.residualStatistics = residualStatistics
        if withState {
            var t = DDNModel.TrainingState()
            t.step = step; t.imagesSeen = imagesSeen; t.elapsedSeconds = elapsedSeconds; t.rngState = rng.state
            t.m = Array(UnsafeBufferPointer(start: m, count: n)); t.v = Array(UnsafeBufferPointer(start: v, count: n))
            t.counts = counts
            md.trainingState = t
        }
        return md
    }

    public var parameters: [Float] { Array(UnsafeBufferPointer(start: params, count: n)) }
    public var adamM: [Float] { Array(UnsafeBufferPointer(start: m, count: n)) }
    public var adamV: [Float] { Array(UnsafeBufferPointer(start: v, count: n)) }

    /// Floating-point operations of one training image (forward all K heads, backward trunk and
    /// one head, every level), for the GFLOP/s report.
    public var flopsPerImage: Double {
        // the network: forward and three backward products, at depth L and on a share at depth 0
        let net = netLayout.map { n in 2 * 3 * Double(n.macsPerImage) * (1 + 1 / Double(max(1, options.depthZeroEvery))) } ?? 0
        if let ss {
            return net + (0..<ss.L).reduce(0.0) { acc, l in
                let t = Double(ss.trunkMACs(l)), h = Double(ss.headMACs(l))
                return acc + 2 * (3 * t + Double(ss.K) * h + 2 * h)
            }
        }
        let t = Double(lay.trunkMACs), h = Double(lay.headMACs)
        return net + 2 * Double(lay.L) * (3 * t + Double(lay.K) * h + 2 * h)
    }

    // MARK: one image

    /// Per-image outcome recorded by a shard.
    struct ImageRecord { var choices: [Int32]; var path = 0.0, halt = 0.0, residual = 0.0; var depth = 0 }

    /// Halting, shared by both layouts (Spec/MODEL.md §6): among the `measured` depths the one
    /// with the fewest total bits (path and continue flags of the levels before it, its stop flag,
    /// its residual), then binary cross-entropy on the flags up to it — "continue" before the
    /// best depth, "stop" at it. `apply(l, ∂loss/∂haltLogit_l)` adds a flag's gradient to its
    /// head (skipped for flag 0 unless `trainFirstFlag`; zero unless `train`).
    /// - Returns: the best depth and the halting bits (not per sub-pixel).
    static func halting(resBits: [Double], pathBits: [Double], haltLogits: [Double], measured: [Int], trainFirstFlag: Bool,
                        invN: Double, train: Bool, apply: (Int, Float) -> Void) -> (best: Int, bits: Double) {
        let L = pathBits.count, ln2 = 0.6931471805599453
        func softplus(_ t: Double) -> Double { t > 0 ? t + log1p(exp(-t)) : log1p(exp(t)) }
        var best = L, bestBits = Double.infinity
        for depth in measured {
            var total = resBits[depth] + (depth < L ? softplus(-haltLogits[depth]) / ln2 : 0)
            for l in 0..<depth { total += pathBits[l] + softplus(haltLogits[l]) / ln2 }
            if total < bestBits { bestBits = total; best = depth }
        }
        var bits = 0.0
        for l in 0..<min(best + 1, L) where trainFirstFlag || l > 0 {
            let h = haltLogits[l], p = 1 / (1 + exp(-h)), target = l == best ? 1.0 : 0.0   // 1 = stop before level l
            bits += target == 1 ? softplus(-h) / ln2 : softplus(h) / ln2
            apply(l, train ? Float((p - target) / ln2 * invN) : 0)
        }
        return (best, bits)
    }

    /// Recurrence layout, one image: each level forward, its choice (`levelStep`) and its backward
    /// in turn (x̂_{l−1} is a constant input of level l), adding gradients into `d`.
    ///
    /// Without a residual network each level's loss is the Gaussian proxy of its candidate. With
    /// one (Spec/MODEL.md §6.2) the network's bits of x given x̂_L replace the proxy as the
    /// residual; their gradient reaches the last level's candidate (earlier levels keep the proxy
    /// at full weight: the recurrence does not carry ∂x̂ through its trunk), and with `depthZero`
    /// the network is also trained at depth 0, as in the single-shot layout.
    /// `x`: target [N] in [-1, 1]; `rng`: this image's generator (sampling); `beta`: annealing.
    func trainImage(_ x: UnsafePointer<Float>, ws: Workspace, netWS: ResidualNetWorkspace?, d: UnsafeMutablePointer<Float>,
                    beta: Double, rng: inout SplitMix64, trainHalting: Bool = true, depthZero: Bool = false) -> ImageRecord {
        let lay = self.lay, N = config.subPixels, K = lay.K, L = lay.L, C = lay.C, P = lay.P
        let sigma2 = Double(config.sigma) * Double(config.sigma)
        let ln2 = 0.6931471805599453
        let invN = 1 / Double(N)
        let network = netLayout == nil ? nil : netWS
        var rec = ImageRecord(choices: [Int32](repeating: 0, count: L))
        var xhat = start
        var resBits = [Double](repeating: 0, count: L + 1)   // Gaussian proxy bits (no constant) at depth d
        var pathBits = [Double](repeating: 0, count: L)
        var haltLogits = [Double](repeating: 0, count: L)
        var gs = [Float](repeating: 0, count: L * lay.c4)
        var dist = [Double](repeating: 0, count: K)
        var lq = [Double](repeating: 0, count: K)
        do {
            var s = 0.0
            for j in 0..<N { let e = Double(xhat[j] - x[j]); s += e * e }
            resBits[0] = s / (2 * sigma2) / ln2
        }
        var lastGradient: [Float] = []
        func backward(_ l: Int, k: Int, dr: [Float]) {
            dr.withUnsafeBufferPointer { DDNNet.headBackward(lay, params, level: l, k: k, dr: $0.baseAddress!, ws: ws, d: d) }
            DDNNet.trunkBackward(lay, params, level: l, leak: config.leak, ws: ws, wt: tw, d: d)
        }
        for l in 0..<L {
            let last = l == L - 1
            xhat.withUnsafeBufferPointer { ws.xin.update(from: $0.baseAddress!, count: N) }
            DDNNet.trunk(lay, params, level: l, leak: config.leak, ws: ws)
            DDNNet.allHeads(lay, params, level: l, ws: ws)
            let proxyWeight = network != nil && last ? Double(options.proxyWeight) : 1
            let choice = levelStep(LevelForward(input: ws.xin, heads: ws.heads, logits: ws.logits, target: x, area: nil),
                                   P: P, K: K, C: C, beta: beta, proxyWeight: proxyWeight, dist: &dist, lq: &lq, rng: &rng)
            rec.choices[l] = Int32(choice.k)
            pathBits[l] = choice.pathBits
            resBits[l + 1] = choice.distance / (2 * sigma2) / ln2
            haltLogits[l] = Double(ws.halt[0])
            for ch in 0..<lay.c4 { gs[l * lay.c4 + ch] = ws.g[ch] }
            xhat = choice.candidate
            lastGradient = choice.proxyGradient
            // with the network, the last level's backward waits for ∂bits/∂x̂ (ws keeps its forward)
            if !(last && network != nil) { backward(l, k: choice.k, dr: lastGradient) }
        }
        var measured = Array(0...L)
        if let nws = network {
            let loss = residualLoss(Array(UnsafeBufferPointer(start: x, count: N)), full: xhat, path: rec.choices.map { Int($0) },
                                    depthZero: depthZero, ws: nws, d: d)
            resBits[L] = loss.atL
            for j in 0..<N { lastGradient[j] += nws.dxhat[j] }
            backward(L - 1, k: Int(rec.choices[L - 1]), dr: lastGradient)
            measured = [L]
            if let z = loss.atZero { resBits[0] = z; measured = [0, L] }
        }
        let (best, hb) = Self.halting(resBits: resBits, pathBits: pathBits, haltLogits: haltLogits, measured: measured,
                                      trainFirstFlag: measured.first == 0, invN: invN, train: trainHalting) { l, dh in
            let dw = d + lay.haltW + l * lay.c4
            for ch in 0..<lay.c4 { dw[ch] += gs[l * lay.c4 + ch] * dh }
            d[lay.haltB + l] += dh
        }
        rec.path = pathBits[0..<best].reduce(0, +) * invN
        rec.halt = hb * invN
        rec.residual = resBits[best] * invN
        rec.depth = best
        return rec
    }

    /// Single-shot layout, one image: every level forward (its own resolution, its own workspace),
    /// the residual loss, then every level backward from the last to the first.
    ///
    /// Without a residual network (version-1 models): each level's loss is the Gaussian proxy
    /// ‖c_k − x‖²/(2σ² ln2 N), each level pixel weighted by its cell's area so it approximates the
    /// full-resolution squared error; x̂_{l−1} is a constant input of level l.
    ///
    /// With a residual network (Spec/MODEL.md §6.2): the loss is the description length, path bits
    /// + halting bits + the network's bits of x given x̂ after all L levels; its gradient flows from
    /// x̂ back through every chosen candidate (skip connection and trunk) to the first level, plus
    /// `proxyWeight` times the proxy above (it keeps each level's choice by distance consistent).
    /// With `depthZero`, the network is also trained at depth 0 (x̂ = the start image's mean) and
    /// the first halting flag learns whether stopping there is cheaper.
    func trainImageSingleShot(_ x: UnsafePointer<Float>, ws: [SSWorkspace], netWS: ResidualNetWorkspace?,
                              d: UnsafeMutablePointer<Float>, beta: Double, rng: inout SplitMix64,
                              trainHalting: Bool = true, depthZero: Bool = false) -> ImageRecord {
        let ss = self.ss!, N = config.subPixels, K = ss.K, L = ss.L, C = ss.C
        let sigma2 = Double(config.sigma) * Double(config.sigma), ln2 = 0.6931471805599453, invN = 1 / Double(N)
        let md = template
        let xa = Array(UnsafeBufferPointer(start: x, count: N))
        let network = netLayout == nil ? nil : netWS
        let proxyWeight = network == nil ? 1 : Double(options.proxyWeight)
        var rec = ImageRecord(choices: [Int32](repeating: 0, count: L))
        var xhat = md.startImage()
        var resBits = [Double](repeating: 0, count: L + 1), pathBits = [Double](repeating: 0, count: L)
        var haltLogits = [Double](repeating: 0, count: L)
        var proxyGrads: [[Float]] = []
        func fullBits(_ xh: [Float], _ depth: Int) -> Double {
            let f = md.fullResolution(xh, depth: depth)
            var s = 0.0
            for j in 0..<N { let e = Double(f[j] - xa[j]); s += e * e }
            return s / (2 * sigma2) / ln2
        }
        if network == nil { resBits[0] = fullBits(xhat, 0) }
        var dist = [Double](repeating: 0, count: K), lq = [Double](repeating: 0, count: K)
        // forward, level by level
        for l in 0..<L {
            let v = ss.levels[l], P = v.P, w = ws[l]
            let t = md.levelTarget(xa, level: l)
            let (h0, w0) = ss.inputSize(l)
            xhat.withUnsafeBufferPointer { SSLayout.resample($0.baseAddress!, h0, w0, v.h, v.w, C, w.u) }
            SSNet.trunk(ss, params, level: l, leak: config.leak, ws: w)
            SSNet.allHeads(ss, params, level: l, ws: w)
            // the last level with the network: candidates measured by its bits (`realBitsCandidates`)
            var realBits: ((Int) -> Double)? = nil
            if let nws = network, l == L - 1, options.realBitsCandidates > 1 {
                let net = netLayout!, samples = md.samples(from: xa), prefix = rec.choices[0..<l].map { Int($0) }
                realBits = { [self] k in
                    var c = [Float](repeating: 0, count: P * C)
                    for i in 0..<P { for ch in 0..<C { c[i * C + ch] = w.u[i * C + ch] + w.heads[i * K * C + k * C + ch] } }
                    let full = md.fullResolution(c, depth: L)
                    return samples.withUnsafeBufferPointer { sp in
                        full.withUnsafeBufferPointer { net.bits(samples: sp.baseAddress!, xhat: $0.baseAddress!, path: prefix + [k], p: params, ws: nws) }
                    }
                }
            }
            let choice = t.withUnsafeBufferPointer { tp in
                levelStep(LevelForward(input: w.u, heads: w.heads, logits: w.logits, target: tp.baseAddress!, area: ssArea[l]),
                          P: P, K: K, C: C, beta: beta, proxyWeight: proxyWeight, dist: &dist, lq: &lq, rng: &rng, realBits: realBits)
            }
            rec.choices[l] = Int32(choice.k)
            pathBits[l] = choice.pathBits
            haltLogits[l] = Double(w.halt[0])
            proxyGrads.append(choice.proxyGradient)
            xhat = choice.candidate
            if network == nil { resBits[l + 1] = fullBits(xhat, l + 1) }
        }
        // the residual network's bits at depth L (and 0); ∂bits/∂x̂ carried back to the last level
        var carried: [Float]? = nil
        var depthZeroBits: Double? = nil
        if let nws = network {
            let loss = residualLoss(xa, full: md.fullResolution(xhat, depth: L), path: rec.choices.map { Int($0) },
                                    depthZero: depthZero, ws: nws, d: d)
            resBits[L] = loss.atL
            let last = ss.levels[L - 1]
            var c = [Float](repeating: 0, count: last.P * C)
            SSNet.resampleBackward(nws.dxhat, last.h, last.w, config.height, config.width, C, &c)
            carried = c
            if let z = loss.atZero { depthZeroBits = z; resBits[0] = z }
        }
        // backward, last level first
        var du = [Float](repeating: 0, count: N)
        for l in stride(from: L - 1, through: 0, by: -1) {
            var dr = proxyGrads[l]
            if let c = carried { for j in 0..<dr.count { dr[j] += c[j] } }
            if carried != nil && l > 0 {
                let v = ss.levels[l], (h0, w0) = ss.inputSize(l)
                du.withUnsafeMutableBufferPointer { dp in
                    dr.withUnsafeBufferPointer { SSNet.backward(ss, params, level: l, k: Int(rec.choices[l]), dr: $0.baseAddress!, leak: config.leak,
                                                                ws: ws[l], d: d, du: dp.baseAddress!) }
                }
                var prev = [Float](repeating: 0, count: h0 * w0 * C)
                SSNet.resampleBackward(du, h0, w0, v.h, v.w, C, &prev)
                carried = prev
            } else {
                dr.withUnsafeBufferPointer { SSNet.backward(ss, params, level: l, k: Int(rec.choices[l]), dr: $0.baseAddress!, leak: config.leak,
                                                            ws: ws[l], d: d) }
            }
        }
        // with the network, the first flag is trained only where depth 0 was measured
        let measured: [Int] = network == nil ? Array(0...L) : (depthZeroBits == nil ? [L] : [0, L])
        let (best, hb) = Self.halting(resBits: resBits, pathBits: pathBits, haltLogits: haltLogits, measured: measured,
                                      trainFirstFlag: network == nil || depthZeroBits != nil, invN: invN, train: trainHalting) { l, dh in
            let v = ss.levels[l], g = ws[l].g
            for ch in 0..<v.width { d[v.haltW + ch] += g[ch] * dh }
            d[v.haltB] += dh
        }
        rec.path = pathBits[0..<best].reduce(0, +) * invN
        rec.halt = hb * invN
        rec.residual = resBits[best] * invN
        rec.depth = best
        return rec
    }

    // MARK: one step

    /// One optimiser step on the images `batch` (indices into `data`, floats [count·N]).
    /// - Parameters: beta: current β; lrScale: multiplier of options.lr (schedule).
    @discardableResult
    public func trainStep(data: UnsafePointer<Float>, batch: [Int], beta: Double, lrScale: Float = 1) -> StepStats {
        let N = config.subPixels, S = options.shards, B = batch.count
        if ss == nil { tw.update(params) }
        if let net = netLayout { netTransposed!.update(net, params) }
        let stepSeed = options.seed &+ step &* 0x9E37_79B9_7F4A_7C15
        var records = [ImageRecord?](repeating: nil, count: B)
        let dataP = Ptr(p: UnsafeMutablePointer(mutating: data))
        let recs = UnsafeMutableBufferPointer<ImageRecord?>.allocate(capacity: B)
        recs.initialize(repeating: nil)
        defer { recs.deallocate() }
        struct RecPtr: @unchecked Sendable { let r: UnsafeMutableBufferPointer<ImageRecord?> }
        let rp = RecPtr(r: recs)
        let work: @Sendable (Int) -> Void = { [self] s in
            let g = self.grads[s].p
            g.update(repeating: 0, count: self.n)
            let lo = s * B / S, hi = (s + 1) * B / S
            for b in lo..<hi {
                var r = SplitMix64(seed: stepSeed ^ (UInt64(b) &* 0xD1B5_4A32_D192_ED03))
                let depthZero = b % max(1, self.options.depthZeroEvery) == 0
                if self.ss != nil {
                    rp.r[b] = self.trainImageSingleShot(dataP.p + batch[b] * N, ws: self.ssWorkspaces[s], netWS: self.netWorkspaces[safe: s],
                                                        d: g, beta: beta, rng: &r, depthZero: depthZero)
                } else {
                    rp.r[b] = self.trainImage(dataP.p + batch[b] * N, ws: self.workspaces[s], netWS: self.netWorkspaces[safe: s],
                                              d: g, beta: beta, rng: &r, depthZero: depthZero)
                }
            }
        }
        let threads = max(1, min(options.threads, S))
        if threads == 1 {
            for s in 0..<S { work(s) }
        } else {
            DispatchQueue.concurrentPerform(iterations: S, execute: work)
        }
        for b in 0..<B { records[b] = recs[b] }
        // sum gradients in shard order, mean over the batch
        let g0 = grads[0].p
        for s in 1..<S { let gs = grads[s].p; for i in 0..<n { g0[i] = g0[i] + gs[i] } }
        let invB = 1 / Float(B)
        for i in 0..<n { g0[i] = g0[i] * invB }
        step += 1
        Trainer.adam(params: params, m: m, v: v, grad: g0, count: n, step: step, lr: options.lr * lrScale,
                     beta1: options.beta1, beta2: options.beta2, eps: options.eps)
        imagesSeen += UInt64(B)
        // choice counts and Split-and-Prune
        var st = StepStats()
        let K = lay.K, L = lay.L
        for i in 0..<counts.count { counts[i] *= options.countDecay }
        lastChoices = records.map { $0!.choices }
        for r in records {
            let r = r!
            for l in 0..<L { counts[l * K + Int(r.choices[l])] += 1 }
            st.pathBpsp += r.path; st.haltBpsp += r.halt; st.residualBpsp += r.residual; st.meanDepth += Double(r.depth)
        }
        st.pathBpsp /= Double(B); st.haltBpsp /= Double(B); st.residualBpsp /= Double(B); st.meanDepth /= Double(B)
        for l in 0..<L { if splitAndPrune(level: l) { st.splits += 1 } }
        return st
    }

    /// Adam (Kingma & Ba 2015) with bias correction, step t ≥ 1:
    /// m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g², θ ← θ − lr·(m/(1−β1^t)) / (√(v/(1−β2^t)) + ε).
    public static func adam(params: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
                            grad: UnsafePointer<Float>, count n: Int, step: UInt64, lr: Float,
                            beta1 b1: Float = 0.9, beta2 b2: Float = 0.999, eps: Float = 1e-8) {
        let t = Float(step)
        let c1 = 1 - pow(b1, t), c2 = 1 - pow(b2, t)
        for i in 0..<n {
            let gi = grad[i]
            m[i] = b1 * m[i] + (1 - b1) * gi
            v[i] = b2 * v[i] + (1 - b2) * gi * gi
            params[i] -= lr * (m[i] / c1) / ((v[i] / c2).squareRoot() + eps)
        }
    }

    /// Split-and-Prune of level l (DESIGN §2): if the busiest head's share exceeds splitHigh/K, or
    /// the idlest head's share is under splitLow/K, copy the busiest head (candidate head and
    /// selection-head column, weights and Adam moments, plus a small perturbation of the copy's
    /// weights) over the idlest, halve the busy count between both, and lower both selection
    /// biases by ln 2 so π keeps its total. Returns whether it acted.
    @discardableResult
    public func splitAndPrune(level l: Int) -> Bool {
        let K = lay.K
        var total: Float = 0, hi = 0, lo = 0
        for k in 0..<K {
            let c = counts[l * K + k]
            total += c
            if c > counts[l * K + hi] { hi = k }
            if c < counts[l * K + lo] { lo = k }
        }
        if total <= 0 || hi == lo { return false }
        let shareHi = counts[l * K + hi] / total, shareLo = counts[l * K + lo] / total
        guard shareHi > options.splitHigh / Float(K) || shareLo < options.splitLow / Float(K) else { return false }
        copyHead(level: l, from: hi, to: lo)
        let half = counts[l * K + hi] / 2
        counts[l * K + hi] = half; counts[l * K + lo] = half
        return true
    }

    /// Copies head `src` of level l onto head `dst` (weights, Adam moments), perturbs the copy.
    public func copyHead(level l: Int, from src: Int, to dst: Int) {
        let C = lay.C, KC = lay.KC, K = lay.K
        var idx: [(Int, Int, Bool)] = []   // (srcIndex, dstIndex, perturb)
        let sl = ss?.levels[l]
        let hw = sl?.hW ?? lay.headWOffset(l), hb = sl?.hB ?? lay.headBOffset(l)
        let featW = sl?.width ?? lay.c, selIn = sl?.width ?? lay.c4
        for ci in 0..<featW { for ch in 0..<C { idx.append((hw + ci * KC + src * C + ch, hw + ci * KC + dst * C + ch, true)) } }
        for ch in 0..<C { idx.append((hb + src * C + ch, hb + dst * C + ch, true)) }
        let sw = sl?.sW ?? lay.selWOffset(l), sb = sl?.sB ?? lay.selBOffset(l)
        for i in 0..<selIn { idx.append((sw + i * K + src, sw + i * K + dst, false)) }
        idx.append((sb + src, sb + dst, false))
        for (s, d, perturb) in idx {
            params[d] = params[s] + (perturb ? rng.uniform(options.splitNoise) : 0)
            m[d] = m[s]; v[d] = v[s]
        }
        let ln2: Float = 0.693147182
        params[sb + src] -= ln2; params[sb + dst] = params[sb + src]
    }

    // MARK: run schedule helpers

    /// β at fraction t ∈ [0, 1] of the budget: geometric from betaStart to betaEnd.
    public func beta(at t: Double) -> Double {
        let t = min(max(t, 0), 1)
        return options.betaStart * pow(options.betaEnd / options.betaStart, t)
    }
    /// lr multiplier: linear warm-up, then cosine to lrFinalFraction at t = 1.
    public func lrScale(at t: Double) -> Float {
        if step < UInt64(options.warmupSteps) { return Float(step + 1) / Float(options.warmupSteps) }
        let c = 0.5 * (1 + cos(Double.pi * min(max(t, 0), 1)))
        return options.lrFinalFraction + (1 - options.lrFinalFraction) * Float(c)
    }

    /// Next `count` shuffled indices of an epoch order over `n` images (seeded, resumable through
    /// the generator state).
    public func shuffledOrder(_ n: Int) -> [Int] {
        var a = Array(0..<n)
        rng.shuffle(&a)
        return a
    }

    /// Heads per level whose decayed share is under 0.1/K ("dead").
    public func deadHeads() -> [Int] {
        let K = lay.K
        return (0..<lay.L).map { l in
            var total: Float = 0
            for k in 0..<K { total += counts[l * K + k] }
            return (0..<K).filter { counts[l * K + $0] / total < 0.1 / Float(K) }.count
        }
    }
}
