/// The DDN coder: an image as its path through the model's levels plus a residual coded with the
/// chosen reconstruction `x̂` as context. Two residual stages (archive coder ids 2 and 5):
///
/// - `.contextCoder` (coder 2, Spec/CODEC.md §6): the classical context coder given x̂ as samples
///   and the model's residual statistics;
/// - `.network` (coder 5, Spec/CODEC.md §7): the model's residual network given x̂ as floats.
///
/// Source: DESIGN.md §4. Decode order, all through one range coder, with `D = model.config.levels`
/// the coding depth limit and x̂ the model's start image:
///
///     for l in 0..<D: run level l on x̂ → candidates c_1…c_K, selection logits s, halt logit h
///         flag ~ halting(h)          (1 = stop: the depth is l)
///         k    ~ selection(s)        (only when flag = 0, continue)
///         x̂    = c_k
///     (after level D − 1 the depth is D: no flag is coded)
///     residual ~ the residual stage given x̂ at full size
///
/// At depth 0 the context coder gets no reconstruction (the DDN switched off is the classical coder
/// with the model's statistics); the network gets the start image's mean at every pixel.
public struct DDNCoder: Sendable {
    /// How the residual (the samples given x̂) is coded.
    public enum ResidualStage: Sendable {
        /// The classical context coder with x̂ as one more predictor (coder 2).
        case contextCoder
        /// The model's residual network (coder 5; models with `hasResidualNetwork`).
        case network
    }

    /// The model; its coding path is deterministic (Spec/MODEL.md).
    public let model: DDNModel
    /// The residual stage this coder uses.
    public let residualStage: ResidualStage
    /// Starting statistics of the context coder, read from the model file.
    public let statistics: ResidualStatistics?
    /// Coding depth limit `D`.
    public var depthLimit: Int { model.config.levels }

    /// Starting models of the context coder without and with x̂ (for the encoder's depth search).
    let prepared: (plain: ClassicalCoder.PreparedModels, withReconstruction: ClassicalCoder.PreparedModels)
    /// The network stage (`.network` only).
    let network: NetworkResidualCoder?
    /// How hard the encoder looks for a cheap path (`DDNCoder+Encoder.swift`); decoding ignores it.
    public var search = Search()
    /// c of the bits-back posterior q (`DDNCoder+BitsBack.swift`); encoder and decoder must agree.
    public var posteriorWeight = DDNCoder.bitsBackBitsPerSquaredError

    /// - Throws: `ResidualStatistics.Error` when the model's statistics blob does not parse.
    /// - Precondition: `.network` only for a model with a residual network.
    public init(model: DDNModel, residual: ResidualStage = .contextCoder) throws {
        self.model = model
        residualStage = residual
        let statistics = model.residualStatistics.isEmpty ? nil : try ResidualStatistics(serialized: model.residualStatistics)
        self.statistics = statistics
        let c = model.config
        prepared = (.init(channels: c.channels, bitDepth: c.bitDepth, reconstruction: false, statistics: statistics),
                    .init(channels: c.channels, bitDepth: c.bitDepth, reconstruction: true, statistics: statistics))
        if residual == .network {
            precondition(model.net != nil, "the network residual stage needs a model with a residual network")
            network = NetworkResidualCoder(net: model.net!, parameters: model.parameters)
            search = Search(networkEffort: Search.defaultEffort)
        } else {
            network = nil
        }
    }

    /// Whether `image` has the shape the model was trained on (size, channels, bit depth; no palette).
    public func fits(_ image: PixelImage, isPalette: Bool) -> Bool {
        let c = model.config
        return !isPalette && image.width == c.width && image.height == c.height && image.channels == c.channels
            && image.bitDepth == c.bitDepth
    }

    /// Decodes the path and returns the reconstruction `x̂` at full size in [-1, 1] (depth 0: the
    /// start image's mean), stopping after at most `levels` levels (a preview) or where the payload says.
    /// - Returns: the reconstruction, the depth decoded and the path (its candidates, one per level).
    public func decodePath(from decoder: inout RangeDecoder, levels: Int = .max,
                           scratch: DDNModel.Scratch) -> (reconstruction: [Float], depth: Int, path: [Int]) {
        var xhat = model.startImage()
        var path: [Int] = []
        while path.count < depthLimit && path.count < levels {
            let out = model.levelLogits(path.count, input: xhat, scratch: scratch)
            if SelectionTables.halting(logit: out.haltLogit).decode(&decoder) == 1 { break }
            let k = SelectionTables.selection(logits: out.selectionLogits).decode(&decoder)
            xhat = model.candidate(path.count, k: k, scratch: scratch)
            path.append(k)
        }
        return (model.fullResolution(xhat, depth: path.count), path.count, path)
    }

    /// Decodes one image of the model's shape.
    /// - Throws: what the residual stage throws on a corrupt payload.
    public func decode(from decoder: inout RangeDecoder, scratch: DDNModel.Scratch) throws -> PixelImage {
        let (xhat, depth, path) = decodePath(from: &decoder, scratch: scratch)
        let c = model.config
        switch residualStage {
        case .contextCoder:
            return try ClassicalCoder.decode(width: c.width, height: c.height, channels: c.channels, bitDepth: c.bitDepth,
                                             reconstruction: depth == 0 ? nil : model.samples(from: xhat), statistics: statistics,
                                             from: &decoder)
        case .network:
            let samples = network!.decode(xhat: xhat, path: path, scratch: scratch.network, from: &decoder)
            return PixelImage(width: c.width, height: c.height, channels: c.channels, bitDepth: c.bitDepth, samples: samples)
        }
    }

    /// Decodes several payloads of coder 5 with the residual network in lockstep (one matrix
    /// product per sub-pixel over all of them); identical to decoding each alone.
    /// - Precondition: `residualStage == .network`.
    public func decode(payloads: [[UInt8]], scratch: DDNModel.Scratch) -> [PixelImage] {
        precondition(residualStage == .network)
        var decoders = payloads.map { RangeDecoder($0) }
        var xhats: [[Float]] = [], paths: [[Int]] = []
        for i in decoders.indices {
            let decoded = decodePath(from: &decoders[i], scratch: scratch)
            xhats.append(decoded.reconstruction); paths.append(decoded.path)
        }
        let c = model.config
        return network!.decode(xhats: xhats, paths: paths, decoders: &decoders).map {
            PixelImage(width: c.width, height: c.height, channels: c.channels, bitDepth: c.bitDepth, samples: $0)
        }
    }
}
