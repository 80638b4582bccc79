/// The DDN coder (archive coder id 2): an image as its path through the model's levels plus a
/// residual coded with the chosen reconstruction `x̂` as context.
///
/// Source: Spec/CODEC.md §6; DESIGN.md §4. Decode order, all through one range coder, with
/// `D = model.config.levels` the coding depth limit and x̂ the model's start image:
///
///     for l in 0..<D: run level l on x̂ → candidates c_1…c_K, selection logits s, halt logit h
///         flag ~ halting(h)          (1 = stop: the depth is l)
///         k    ~ selection(s)        (only when flag = 0, continue)
///         x̂    = c_k
///     (after level D − 1 the depth is D: no flag is coded)
///     residual ~ ClassicalCoder(image | reconstruction = samples(x̂ at full size), model statistics)
///
/// At depth 0 the residual stage gets no reconstruction (the start image carries no information
/// about this image): the DDN switched off is the classical coder with the model's statistics.
public struct DDNCoder: Sendable {
    /// The model; its coding path is deterministic (Spec/MODEL.md).
    public let model: DDNModel
    /// Starting statistics of the residual stage, read from the model file.
    public let statistics: ResidualStatistics?
    /// Coding depth limit `D`.
    public var depthLimit: Int { model.config.levels }

    /// Starting models of the residual stage without and with x̂ (for the encoder's depth search).
    let prepared: (plain: ClassicalCoder.PreparedModels, withReconstruction: ClassicalCoder.PreparedModels)

    /// - Throws: `ResidualStatistics.Error` when the model's statistics blob does not parse.
    public init(model: DDNModel) throws {
        self.model = model
        let statistics = model.residualStatistics.isEmpty ? nil : try ResidualStatistics(serialized: model.residualStatistics)
        self.statistics = statistics
        let c = model.config
        prepared = (.init(channels: c.channels, bitDepth: c.bitDepth, reconstruction: false, statistics: statistics),
                    .init(channels: c.channels, bitDepth: c.bitDepth, reconstruction: true, statistics: statistics))
    }

    /// Whether `image` has the shape the model was trained on (size, channels, bit depth; no palette).
    public func fits(_ image: PixelImage, isPalette: Bool) -> Bool {
        let c = model.config
        return !isPalette && image.width == c.width && image.height == c.height && image.channels == c.channels
            && image.bitDepth == c.bitDepth
    }

    /// What an encoded image costs in the model, in bits, by part (before the final flush).
    public struct Cost: Sendable {
        public var path = 0.0, halting = 0.0, residual = 0.0
        /// Number of levels taken.
        public var depth = 0
        public var total: Double { path + halting + residual }
        public init() {}
    }

    /// The model's view of one image: the greedy path and the tables to code it.
    struct Trace {
        var path: [Int] = []
        var flags: [FrequencyTable] = []
        var choices: [FrequencyTable] = []
        /// Reconstructions as samples after 0, 1, …, path.count levels (nil at depth 0).
        var reconstructions: [[UInt16]?] = []
    }

    /// Runs every level on `image`, choosing the nearest candidate (squared error) each time.
    func trace(_ image: PixelImage, scratch: DDNModel.Scratch) -> Trace {
        let target = DDNModel.floats(from: image.samples, bitDepth: image.bitDepth)
        var xhat = model.startImage()
        var t = Trace()
        t.reconstructions.append(nil)
        for l in 0..<depthLimit {
            let out = model.levelNearest(l, input: xhat, target: model.levelTarget(target, level: l), scratch: scratch)
            t.flags.append(SelectionTables.halting(logit: out.haltLogit))
            t.choices.append(SelectionTables.selection(logits: out.selectionLogits))
            t.path.append(out.k)
            xhat = out.candidate
            t.reconstructions.append(model.samples(from: model.fullResolution(xhat, depth: l + 1)))
        }
        return t
    }

    /// Cost of stopping at `depth` given a trace, residual excluded.
    static func pathCost(_ t: Trace, depth: Int) -> Cost {
        var c = Cost()
        c.depth = depth
        for l in 0..<depth {
            c.halting += t.flags[l].bits(0)
            c.path += t.choices[l].bits(t.path[l])
        }
        if depth < t.flags.count { c.halting += t.flags[depth].bits(1) }
        return c
    }

    /// Encodes `image` (which must `fit`) into `encoder`.
    ///
    /// The path is greedy (nearest candidate per level); the depth minimises path + halting +
    /// residual bits among 0 and D, D−1, … (walking up while the total falls); `depth` forces one
    /// (e.g. 0: DDN switched off).
    /// - Returns: the model's cost of what was written, by part.
    @discardableResult
    public func encode(_ image: PixelImage, depth forced: Int? = nil, scratch: DDNModel.Scratch,
                       into encoder: inout RangeEncoder) -> Cost {
        let t = trace(image, scratch: scratch)
        func cost(_ d: Int) -> Cost {
            var c = DDNCoder.pathCost(t, depth: d)
            let r = t.reconstructions[d]
            c.residual = ClassicalCoder.codeLength(image, reconstruction: r, prepared: r == nil ? prepared.plain : prepared.withReconstruction)
            return c
        }
        var best: Cost
        if let forced {
            best = cost(min(max(forced, 0), t.path.count))
        } else {
            // Depth 0, then from the deepest level upwards while the total keeps falling: the
            // cost is close to unimodal in depth and the deepest level is chosen most often.
            best = cost(0)
            var d = t.path.count
            var previous = Double.infinity
            while d > 0 {
                let c = cost(d)
                if c.total < best.total { best = c }
                if c.total >= previous { break }
                previous = c.total
                d -= 1
            }
        }
        for l in 0..<best.depth {
            t.flags[l].encode(0, &encoder)
            t.choices[l].encode(t.path[l], &encoder)
        }
        if best.depth < t.flags.count { t.flags[best.depth].encode(1, &encoder) }
        ClassicalCoder.encode(image, reconstruction: t.reconstructions[best.depth], statistics: statistics, into: &encoder)
        return best
    }

    /// Decodes the path and returns the reconstruction `x̂` as samples, stopping after at most
    /// `levels` levels (a preview) or where the payload says.
    /// - Returns: the reconstruction and the depth decoded.
    public func decodePath(from decoder: inout RangeDecoder, levels: Int = .max,
                           scratch: DDNModel.Scratch) -> (reconstruction: [UInt16]?, depth: Int) {
        var xhat = model.startImage()
        var depth = 0
        while depth < depthLimit && depth < levels {
            let out = model.levelLogits(depth, input: xhat, scratch: scratch)
            if SelectionTables.halting(logit: out.haltLogit).decode(&decoder) == 1 { break }
            let k = SelectionTables.selection(logits: out.selectionLogits).decode(&decoder)
            xhat = model.candidate(depth, k: k, scratch: scratch)
            depth += 1
        }
        return (depth == 0 ? nil : model.samples(from: model.fullResolution(xhat, depth: depth)), depth)
    }

    /// Decodes one image of the model's shape.
    /// - Throws: what the residual stage throws on a corrupt payload.
    public func decode(from decoder: inout RangeDecoder, scratch: DDNModel.Scratch) throws -> PixelImage {
        let (xhat, _) = decodePath(from: &decoder, scratch: scratch)
        let c = model.config
        return try ClassicalCoder.decode(width: c.width, height: c.height, channels: c.channels, bitDepth: c.bitDepth,
                                         reconstruction: xhat, statistics: statistics, from: &decoder)
    }
}
