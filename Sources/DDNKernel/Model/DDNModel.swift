import Foundation

/// A trained Discrete Distribution Network (recurrence layout; Spec/MODEL.md).
///
/// The coding path (`startImage`, `level`, `levelChosen`) is a deterministic single-image forward:
/// float32 with a fixed operation order, no fused multiply-add, no libm transcendental (the only
/// non-arithmetic operation is IEEE `squareRoot`, exactly rounded everywhere). Images are in
/// [-1, 1]: v = 2·s/maxValue − 1; `samples(from:)` maps back.
public struct DDNModel: Sendable {
    public let config: DDNConfig
    /// Flat float32 parameters in `ParamLayout` order.
    public internal(set) var parameters: [Float]
    /// x̂_0, [height·width·channels] in [-1, 1] (the training set's mean image).
    public internal(set) var start: [Float]
    /// Opaque residual statistics (filled by the codec's context coder; empty by default).
    public var residualStatistics: [UInt8] = []
    /// Optimiser and bookkeeping state, only in checkpoints (written if non-nil).
    public var trainingState: TrainingState?

    let layout: ParamLayout
    /// Single-shot layout offsets (layout 1), nil for the recurrence layout.
    let ss: SSLayout?
    var isSingleShot: Bool { ss != nil }
    /// The residual network's shapes and offsets (after the DDN's parameters), nil when the
    /// model has none (version 1 files; `config.residualHidden == 0`).
    let net: ResidualNetLayout?
    /// Whether the model carries a residual network (Spec/MODEL.md §8).
    public var hasResidualNetwork: Bool { net != nil }

    /// Number of float parameters of a configuration: the DDN's (§4), then the residual network's (§8).
    static func parameterCount(_ c: DDNConfig) -> Int {
        let ddn = c.layout == 1 ? SSLayout(c).total : ParamLayout(c).total
        return c.residualHidden > 0 ? ResidualNetLayout(c, offset: ddn).end : ddn
    }
    static func netLayout(_ c: DDNConfig) -> ResidualNetLayout? {
        c.residualHidden > 0 ? ResidualNetLayout(c, offset: c.layout == 1 ? SSLayout(c).total : ParamLayout(c).total) : nil
    }

    /// Adam moments plus everything needed to continue a run exactly where it stopped.
    public struct TrainingState: Sendable, Equatable {
        public var step: UInt64 = 0
        public var imagesSeen: UInt64 = 0
        public var elapsedSeconds: Double = 0
        public var rngState: UInt64 = 0
        public var m: [Float] = []
        public var v: [Float] = []
        /// Decayed choice counts, [levels·K].
        public var counts: [Float] = []
        public init() {}
    }

    /// A fresh model with seeded (SplitMix64) initialisation: He-uniform convolutions, unit norms,
    /// small-but-distinct heads. Same config and seed give identical bits.
    public init(config: DDNConfig, seed: UInt64, start: [Float]? = nil) {
        precondition(config.validationError() == nil, config.validationError() ?? "")
        self.config = config
        layout = ParamLayout(config)
        ss = config.layout == 1 ? SSLayout(config) : nil
        net = DDNModel.netLayout(config)
        parameters = [Float](repeating: 0, count: DDNModel.parameterCount(config))
        self.start = start ?? [Float](repeating: 0, count: config.subPixels)
        precondition(self.start.count == config.subPixels)
        var rng = SplitMix64(seed: seed)
        let lay = layout
        func he(_ off: Int, _ n: Int, fanIn: Int, gain: Float = 1) {
            let a = gain * (6 / Float(fanIn)).squareRoot()
            for i in 0..<n { parameters[off + i] = rng.uniform(a) }
        }
        // The residual network: He-uniform W1, small W2, zero position biases and output bias
        // (the trainer sets the output bias from the data's histogram).
        if let net {
            he(net.w1, net.F * net.hidden, fanIn: net.F)
            he(net.w2, net.hidden * net.hidden2, fanIn: net.hidden)
            he(net.w3, net.hidden2 * net.V, fanIn: net.hidden2, gain: 0.1)
        }
        if let ss {
            for v in ss.levels {
                he(v.c1W, 9 * ss.C * v.width, fanIn: 9 * ss.C)
                he(v.c2W, 9 * v.width * v.width, fanIn: 9 * v.width)
                he(v.hW, v.width * ss.K * ss.C, fanIn: v.width, gain: 0.2)
                he(v.sW, v.width * ss.K, fanIn: v.width, gain: 0.1)
                he(v.haltW, v.width, fanIn: v.width, gain: 0.1)
            }
            return
        }
        he(lay.conv0W, 9 * lay.C * lay.c, fanIn: 9 * lay.C)
        he(lay.conv1W, 9 * lay.c * lay.c, fanIn: 9 * lay.c)
        he(lay.conv2W, 9 * lay.c * lay.c2, fanIn: 9 * lay.c)
        he(lay.conv3W, 9 * lay.c2 * lay.c4, fanIn: 9 * lay.c2)
        he(lay.up2W, lay.c4 * lay.c2, fanIn: lay.c4)
        he(lay.conv4W, 9 * lay.c2 * lay.c2, fanIn: 9 * lay.c2)
        he(lay.up1W, lay.c2 * lay.c, fanIn: lay.c2)
        he(lay.conv5W, 9 * lay.c * lay.c, fanIn: 9 * lay.c)
        for i in 0..<lay.c2 { parameters[lay.norm2G + i] = 1 }
        for i in 0..<lay.c4 { parameters[lay.norm3G + i] = 1 }
        // heads: residuals start small but different, so candidates differ from the first step
        he(lay.headW, lay.L * lay.c * lay.KC, fanIn: lay.c, gain: 0.2)
        he(lay.selW, lay.L * lay.c4 * lay.K, fanIn: lay.c4, gain: 0.1)
        he(lay.haltW, lay.L * lay.c4, fanIn: lay.c4, gain: 0.1)
    }

    init(config: DDNConfig, parameters: [Float], start: [Float], unchecked: Bool = false) {
        self.config = config
        layout = ParamLayout(config)
        ss = config.layout == 1 ? SSLayout(config) : nil
        net = DDNModel.netLayout(config)
        precondition(unchecked || (parameters.count == DDNModel.parameterCount(config) && start.count == config.subPixels))
        self.parameters = parameters
        self.start = start
    }

    /// Number of float parameters.
    public var parameterCount: Int { DDNModel.parameterCount(config) }
    /// Multiply-adds of one level for the decoder (trunk + one head) and for the encoder (trunk + K heads);
    /// single-shot: the mean over its levels.
    public var decoderMACsPerLevel: Int { ss.map { $0.decoderMACs / $0.L } ?? layout.trunkMACs + layout.headMACs }
    public var encoderMACsPerLevel: Int { ss.map { $0.encoderMACs / $0.L } ?? layout.trunkMACs + layout.headMACs * config.candidates }
    /// Multiply-adds of all `levels` levels of one image (decoder, encoder).
    public var decoderMACsPerImage: Int { ss?.decoderMACs ?? config.levels * decoderMACsPerLevel }
    public var encoderMACsPerImage: Int { ss?.encoderMACs ?? config.levels * encoderMACsPerLevel }

    /// Height and width of level l's candidates (the full image size for the recurrence layout).
    public func levelSize(_ l: Int) -> (height: Int, width: Int) {
        guard let ss else { return (config.height, config.width) }
        let v = ss.levels[min(l, ss.L - 1)]; return (v.h, v.w)
    }

    /// x̂ after `depth` levels (depth 0: the start image) brought to the full image size, as the
    /// residual coder sees it: identity for the recurrence layout, nearest upsampling for single-shot.
    public func fullResolution(_ xhat: [Float], depth: Int) -> [Float] {
        guard let ss else { return xhat }
        let (h0, w0) = depth == 0 ? (1, 1) : levelSize(depth - 1)
        precondition(xhat.count == h0 * w0 * ss.C)
        var out = [Float](repeating: 0, count: config.subPixels)
        xhat.withUnsafeBufferPointer { SSLayout.resample($0.baseAddress!, h0, w0, config.height, config.width, ss.C, &out) }
        return out
    }

    /// What level l's candidates are compared with: x itself (recurrence) or x area-averaged to the
    /// level's size (single-shot; cells ⌊y·h/H⌋, ⌊x·w/W⌋, sums in raster order).
    public func levelTarget(_ x: [Float], level l: Int) -> [Float] {
        guard let ss else { return x }
        let (h, w) = levelSize(l), C = ss.C, H = config.height, W = config.width
        var sum = [Float](repeating: 0, count: h * w * C), cnt = [Float](repeating: 0, count: h * w)
        for y in 0..<H { for xx in 0..<W {
            let cell = (y * h / H) * w + xx * w / W
            cnt[cell] += 1
            for c in 0..<C { sum[cell * C + c] += x[(y * W + xx) * C + c] }
        } }
        for i in 0..<(h * w) { for c in 0..<C { sum[i * C + c] = sum[i * C + c] / cnt[i] } }
        return sum
    }

    // MARK: coding path

    /// Preallocated buffers for the coding path; one per thread, reusable across images and levels.
    public final class Scratch: @unchecked Sendable {
        let wsR: Workspace?
        let wsS: SSWorkspace?
        var ws: Workspace { wsR! }
        /// The residual network's buffers, made on first use.
        let netLayout: ResidualNetLayout?
        lazy var network: NetworkResidualCoder.Scratch = NetworkResidualCoder.Scratch(netLayout!)
        init(_ lay: ParamLayout, net: ResidualNetLayout?) { wsR = Workspace(lay); wsS = nil; netLayout = net }
        init(_ lay: SSLayout, net: ResidualNetLayout?) { wsR = nil; wsS = SSWorkspace(lay); netLayout = net }
    }
    public func makeScratch() -> Scratch { ss.map { Scratch($0, net: net) } ?? Scratch(layout, net: net) }

    /// x̂_0: the fixed start image in [-1, 1]: [height·width·channels] (recurrence), or the start
    /// image's per-channel mean as one pixel [channels] (single-shot; sum in raster order, then
    /// multiplied by the float32 reciprocal of the pixel count).
    public func startImage() -> [Float] {
        guard ss != nil else { return start }
        let C = config.channels, P = config.width * config.height
        var m = [Float](repeating: 0, count: C)
        for i in 0..<P { for c in 0..<C { m[c] = m[c] + start[i * C + c] } }
        let r = 1 / Float(P)
        return m.map { $0 * r }
    }

    /// Single-shot: resample the input and run the trunk of level l.
    private func ssTrunk(_ l: Int, _ xhat: [Float], _ ws: SSWorkspace, _ p: UnsafePointer<Float>) {
        let ss = self.ss!
        precondition(l >= 0 && l < ss.L, "single-shot models have exactly `levels` levels")
        let (h0, w0) = ss.inputSize(l), v = ss.levels[l]
        precondition(xhat.count == h0 * w0 * ss.C)
        xhat.withUnsafeBufferPointer { SSLayout.resample($0.baseAddress!, h0, w0, v.h, v.w, ss.C, ws.u) }
        SSNet.trunk(ss, p, level: l, leak: config.leak, ws: ws)
    }

    /// Level `l` (0-based; recurrence: l ≥ levels reuses the last level's weights; single-shot:
    /// l < levels, input at level l−1's size `levelSize(l − 1)`, 1×1 for l = 0) on x̂_{l−1}: all K candidates,
    /// the K selection logits (natural-log units, unnormalised) and the halting logit (logit of
    /// P(stop before this level)). Deterministic. Allocates a scratch; use the scratch variant in loops.
    public func level(_ l: Int, input xhat: [Float]) -> (candidates: [[Float]], selectionLogits: [Float], haltLogit: Float) {
        level(l, input: xhat, scratch: makeScratch())
    }

    public func level(_ l: Int, input xhat: [Float], scratch: Scratch) -> (candidates: [[Float]], selectionLogits: [Float], haltLogit: Float) {
        if let ss, let ws = scratch.wsS {
            return parameters.withUnsafeBufferPointer { pb in
                ssTrunk(l, xhat, ws, pb.baseAddress!)
                SSNet.allHeads(ss, pb.baseAddress!, level: l, ws: ws)
                let C = ss.C, KC = ss.K * C, P = ss.levels[l].P
                let cands = (0..<ss.K).map { k in
                    [Float](unsafeUninitializedCapacity: P * C) { b, n in
                        for i in 0..<P { for ch in 0..<C { b[i * C + ch] = ws.u[i * C + ch] + ws.heads[i * KC + k * C + ch] } }
                        n = P * C
                    }
                }
                return (cands, Array(UnsafeBufferPointer(start: ws.logits, count: ss.K)), ws.halt[0])
            }
        }
        let lay = layout
        precondition(xhat.count == config.subPixels)
        let ws = scratch.ws
        return parameters.withUnsafeBufferPointer { pb in
            let p = pb.baseAddress!
            xhat.withUnsafeBufferPointer { ws.xin.update(from: $0.baseAddress!, count: xhat.count) }
            DDNNet.trunk(lay, p, level: l, leak: config.leak, ws: ws)
            DDNNet.allHeads(lay, p, level: l, ws: ws)
            let C = lay.C, KC = lay.KC
            var cands: [[Float]] = []
            cands.reserveCapacity(lay.K)
            for k in 0..<lay.K {
                cands.append([Float](unsafeUninitializedCapacity: lay.P * C) { b, n in
                    for i in 0..<lay.P { for ch in 0..<C { b[i * C + ch] = ws.xin[i * C + ch] + ws.heads[i * KC + k * C + ch] } }
                    n = lay.P * C
                })
            }
            return (cands, Array(UnsafeBufferPointer(start: ws.logits, count: lay.K)), ws.halt[0])
        }
    }

    /// Selection and halting logits of level `l` only (no candidates): the decoder's first half.
    /// Leaves the features in `scratch` for `candidate(k:scratch:)`.
    public func levelLogits(_ l: Int, input xhat: [Float], scratch: Scratch) -> (selectionLogits: [Float], haltLogit: Float) {
        if let ss, let ws = scratch.wsS {
            return parameters.withUnsafeBufferPointer { pb in
                ssTrunk(l, xhat, ws, pb.baseAddress!)
                return (Array(UnsafeBufferPointer(start: ws.logits, count: ss.K)), ws.halt[0])
            }
        }
        let lay = layout
        precondition(xhat.count == config.subPixels)
        let ws = scratch.ws
        return parameters.withUnsafeBufferPointer { pb in
            xhat.withUnsafeBufferPointer { ws.xin.update(from: $0.baseAddress!, count: xhat.count) }
            DDNNet.trunk(lay, pb.baseAddress!, level: l, leak: config.leak, ws: ws)
            return (Array(UnsafeBufferPointer(start: ws.logits, count: lay.K)), ws.halt[0])
        }
    }

    /// Candidate k of level `l` after `levelLogits(l, …)` on the same scratch: bit-identical to
    /// `level(l, …).candidates[k]`.
    public func candidate(_ l: Int, k: Int, scratch: Scratch) -> [Float] {
        if let ss, let ws = scratch.wsS {
            precondition(k >= 0 && k < ss.K)
            let n = ss.levels[l].P * ss.C
            return parameters.withUnsafeBufferPointer { pb in
                [Float](unsafeUninitializedCapacity: n) { b, c in
                    SSNet.candidate(ss, pb.baseAddress!, level: l, k: k, ws: ws, out: b.baseAddress!); c = n
                }
            }
        }
        let lay = layout
        precondition(k >= 0 && k < lay.K)
        return parameters.withUnsafeBufferPointer { pb in
            [Float](unsafeUninitializedCapacity: lay.P * lay.C) { b, n in
                DDNNet.candidate(lay, pb.baseAddress!, level: l, k: k, ws: scratch.ws, out: b.baseAddress!)
                n = lay.P * lay.C
            }
        }
    }

    /// The decoder's level: logits and only the chosen candidate.
    public func levelChosen(_ l: Int, input xhat: [Float], k: Int, scratch: Scratch) -> (candidate: [Float], selectionLogits: [Float], haltLogit: Float) {
        let r = levelLogits(l, input: xhat, scratch: scratch)
        return (candidate(l, k: k, scratch: scratch), r.selectionLogits, r.haltLogit)
    }

    /// Float image in [-1, 1] → samples: round((v + 1)·maxValue/2) clamped to [0, maxValue]
    /// (round half away from zero; deterministic).
    public func samples(from v: [Float]) -> [UInt16] {
        let m = Float((1 << config.bitDepth) - 1)
        return v.map { x in
            let s = ((x + 1) * (m * 0.5)).rounded(.toNearestOrAwayFromZero)
            return UInt16(min(max(s, 0), m))
        }
    }

    /// Samples → float image in [-1, 1]: v = s·(2/maxValue) − 1.
    public static func floats(from s: [UInt16], bitDepth: Int) -> [Float] {
        let k = 2 / Float((1 << bitDepth) - 1)
        return s.map { Float($0) * k - 1 }
    }
}
