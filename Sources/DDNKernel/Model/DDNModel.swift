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
        parameters = [Float](repeating: 0, count: layout.total)
        self.start = start ?? [Float](repeating: 0, count: config.subPixels)
        precondition(self.start.count == config.subPixels)
        var rng = SplitMix64(seed: seed)
        let lay = layout
        func he(_ off: Int, _ n: Int, fanIn: Int, gain: Float = 1) {
            let a = gain * (6 / Float(fanIn)).squareRoot()
            for i in 0..<n { parameters[off + i] = rng.uniform(a) }
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

    init(config: DDNConfig, parameters: [Float], start: [Float]) {
        self.config = config
        layout = ParamLayout(config)
        precondition(parameters.count == layout.total && start.count == config.subPixels)
        self.parameters = parameters
        self.start = start
    }

    /// Number of float parameters.
    public var parameterCount: Int { layout.total }
    /// Multiply-adds of one level for the decoder (trunk + one head) and for the encoder (trunk + K heads).
    public var decoderMACsPerLevel: Int { layout.trunkMACs + layout.headMACs }
    public var encoderMACsPerLevel: Int { layout.trunkMACs + layout.headMACs * config.candidates }

    // MARK: coding path

    /// Preallocated buffers for the coding path; one per thread, reusable across images and levels.
    public final class Scratch: @unchecked Sendable {
        let ws: Workspace
        init(_ lay: ParamLayout) { ws = Workspace(lay) }
    }
    public func makeScratch() -> Scratch { Scratch(layout) }

    /// x̂_0: the fixed start image, [height·width·channels] in [-1, 1].
    public func startImage() -> [Float] { start }

    /// Level `l` (0-based; l ≥ levels reuses the last level's weights) on x̂_{l−1}: all K candidates,
    /// the K selection logits (natural-log units, unnormalised) and the halting logit (logit of
    /// P(stop before this level)). Deterministic. Allocates a scratch; use the scratch variant in loops.
    public func level(_ l: Int, input xhat: [Float]) -> (candidates: [[Float]], selectionLogits: [Float], haltLogit: Float) {
        level(l, input: xhat, scratch: makeScratch())
    }

    public func level(_ l: Int, input xhat: [Float], scratch: Scratch) -> (candidates: [[Float]], selectionLogits: [Float], haltLogit: Float) {
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
