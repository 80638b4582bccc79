import Foundation

/// Bits-back coding of the DDN's path (Spec/CODEC.md §9; BB-ANS, Townsend et al. 2019): a block
/// of images of the model's shape in one rANS message (`RANSStack`), each image's candidates
/// *sampled* from the posterior
///
///     q_l(k | x, k_<l) ∝ π_l(k) · 2^(−c · (N / P_l) · SE_l(k))
///
/// (SE_l(k) the squared error of candidate k against the image at level l's size, N / P_l the
/// number of full-size sub-pixels per level sub-pixel, c = `bitsBackBitsPerSquaredError`) with
/// bits already in the message, then paid for under π. The decoder rebuilds every q_l once it has
/// the image and pushes the same candidates back: a level costs −log2 π(k) + log2 q(k) on
/// average, its KL, not its full selection bits.
///
/// Per image, in decoding order (the encoder does the exact reverse):
///
///     for l in 0..<L: flag ← pop(halting_l); if flag = stop: break; k_l ← pop(π_l); x̂ ← c_{l,k_l}
///     samples ← pop each, raster order, under the residual network (Spec/CODEC.md §7)
///     if the image is not the block's last: for l = d−1 … 0: push(k_l, q_l)
///
/// The block's last image (the first the encoder codes, onto an empty message) gives nothing back:
/// its path and depth are the ones coder 5's search chooses (`DDNCoder.encode`), and it pays the
/// chain's initial bits. After
/// the last image the message must be empty with the state at L: a check of the whole block.
extension DDNCoder {
    /// The default c, the bits one unit of squared error (in [-1, 1] units, at full size) is worth
    /// in q: the best of those measured on Fashion-MNIST (Spec/CODEC.md §9.3). An archive block
    /// stores its own (Spec/ARCHIVE.md §3.4).
    public static let bitsBackBitsPerSquaredError: Float = 2

    /// What a block cost, in bits, by part. `pathBits − bitsBack` is what the paths cost net.
    public struct BlockCost: Sendable {
        public var path = 0.0, halting = 0.0, residual = 0.0
        /// −log2 q(k) of every sampled candidate: the bits the decoder gives back.
        public var bitsBack = 0.0
        /// The message's length in bits (what is written).
        public var messageBits = 0
        public var images = 0, depthSum = 0
        /// Each image's net bits (its path + halting + residual − bits back), in block order: what
        /// the block's message is attributed to its entries by (`ArchiveWriter.serializeBlocks`).
        public var imageBits: [Double] = []
        /// path + halting + residual − bits back.
        public var net: Double { path + halting + residual - bitsBack }
        public init() {}
    }

    /// q_l of one level (see the extension's description), as an integer table of the selection
    /// table's kind (`SelectionTables.selection`), from float logits ln π(k) − c·ln 2·(N/P_l)·SE(k).
    func posteriorTable(_ out: DDNModel.LevelDistances, weight: Float? = nil) -> FrequencyTable {
        let levelSubPixels = out.candidates?.first?.count ?? model.config.subPixels
        let w = Float(Double(weight ?? posteriorWeight) * log(2.0) * Double(model.config.subPixels) / Double(levelSubPixels))
        return SelectionTables.selection(logits: zip(out.selectionLogits, out.distances).map { s, d in s - w * d })
    }

    /// Encodes `images` (each must `fit`) into one message; `decodeBlock` returns them in this order.
    /// - Precondition: `residualStage == .network`.
    public func encodeBlock(_ images: [PixelImage], scratch: DDNModel.Scratch) -> (bytes: [UInt8], cost: BlockCost) {
        precondition(residualStage == .network)
        var stack = RANSStack()
        var total = BlockCost()
        total.imageBits = [Double](repeating: 0, count: images.count)
        for (i, image) in images.enumerated().reversed() {
            let c = encodeBitsBack(image, givesBack: i < images.count - 1, onto: &stack, scratch: scratch)
            total.imageBits[i] = c.net
            total.path += c.path; total.halting += c.halting; total.residual += c.residual; total.bitsBack += c.bitsBack
            total.depthSum += c.depthSum
        }
        total.images = images.count
        total.messageBits = stack.bitCount
        return (stack.serialized(), total)
    }

    /// One image onto `stack`: the full depth with its candidates sampled from q, or depth 0 (if
    /// `triesDepthZero`), whichever leaves the shorter message; when the image gives nothing
    /// back, coder 5's own search (`push(_:onto:scratch:)`).
    func encodeBitsBack(_ image: PixelImage, givesBack: Bool, onto stack: inout RANSStack, scratch: DDNModel.Scratch,
                        triesDepthZero: Bool = true) -> BlockCost {
        if !givesBack {   // nothing to sample q with: the encoder's own search, as coder 5 codes it
            let searched = push(image, onto: &stack, scratch: scratch)
            var c = BlockCost()
            (c.path, c.halting, c.residual, c.depthSum) = (searched.path, searched.halting, searched.residual, searched.depth)
            return c
        }
        let network = self.network!, L = depthLimit, n = image.samples.count
        let x = DDNModel.floats(from: image.samples, bitDepth: image.bitDepth)
        var deep = stack, c = BlockCost()
        var xhat = model.startImage(), path: [Int] = [], selections: [FrequencyTable] = [], flags: [FrequencyTable] = []
        for l in 0..<L {
            let out = model.levelDistances(l, input: xhat, target: model.levelTarget(x, level: l), scratch: scratch)
            let q = posteriorTable(out)
            let k = deep.pop(q)
            c.bitsBack += q.bits(k)
            path.append(k)
            selections.append(SelectionTables.selection(logits: out.selectionLogits))
            flags.append(SelectionTables.halting(logit: out.haltLogit))
            xhat = out.candidates?[k] ?? model.candidate(l, k: k, scratch: scratch)
        }
        c.residual = network.cost(image.samples, xhat: model.fullResolution(xhat, depth: L), path: path, scratch: scratch.network)
        network.push(count: n, intervalsIn: scratch.network, onto: &deep)
        for l in stride(from: L - 1, through: 0, by: -1) {
            deep.push(path[l], selections[l]); c.path += selections[l].bits(path[l])
            deep.push(0, flags[l]); c.halting += flags[l].bits(0)
        }
        c.depthSum = L
        if !triesDepthZero && L > 0 { stack = deep; return c }
        var shallow = stack, c0 = BlockCost()
        c0.residual = network.cost(image.samples, xhat: model.fullResolution(model.startImage(), depth: 0), path: [], scratch: scratch.network)
        network.push(count: n, intervalsIn: scratch.network, onto: &shallow)
        if L > 0 { shallow.push(1, flags[0]); c0.halting = flags[0].bits(1) }
        if L == 0 || shallow.preciseBits <= deep.preciseBits { stack = shallow; return c0 }
        stack = deep
        return c
    }

    /// Decodes `count` images of the model's shape from a message of `encodeBlock`.
    /// - Throws: `DDNCoderError.corruptBlock` when the message does not end where it should.
    public func decodeBlock(_ bytes: [UInt8], count: Int, scratch: DDNModel.Scratch) throws -> [PixelImage] {
        try decodeBlocks([bytes], counts: [count], weights: [posteriorWeight], scratch: scratch)[0].get()
    }

    /// Decodes several messages of `encodeBlock` in lockstep: the i-th image of every message at
    /// once, so that the residual network's sample loop is one matrix product over the messages
    /// (`NetworkResidualCoder.decode(xhats:paths:decoders:)`). Each result is what
    /// `decodeBlock` gives for that message alone: the rows of a product are independent.
    /// - Parameters: weights: each message's posterior weight c.
    /// - Returns: per message, its `counts[m]` images or `DDNCoderError.corruptBlock`.
    public func decodeBlocks(_ messages: [[UInt8]], counts: [Int], weights: [Float], scratch: DDNModel.Scratch) -> [Result<[PixelImage], Error>] {
        precondition(residualStage == .network && messages.count == counts.count && weights.count == counts.count)
        var stacks = messages.map { RANSStack(serialized: $0) }
        let cfg = model.config
        var images = [[PixelImage]](repeating: [], count: messages.count)
        for i in 0..<(counts.max() ?? 0) {
            let active = messages.indices.filter { i < counts[$0] }
            var xhats: [[Float]] = [], paths: [[Int]] = []
            var levels: [[(candidates: [[Float]], selectionLogits: [Float], haltLogit: Float)]] = []
            for m in active {
                // an image that gives bits back keeps its levels' candidates (single-shot layout),
                // so that its posterior below measures them without running the levels again
                let keeps = i < counts[m] - 1 && model.isSingleShot
                var xhat = model.startImage(), path: [Int] = [], kept: [(candidates: [[Float]], selectionLogits: [Float], haltLogit: Float)] = []
                while path.count < depthLimit {
                    let l = path.count
                    let run = keeps ? model.level(l, input: xhat, scratch: scratch) : nil
                    let (selection, halt) = run.map { ($0.selectionLogits, $0.haltLogit) } ?? model.levelLogits(l, input: xhat, scratch: scratch)
                    if stacks[m].pop(SelectionTables.halting(logit: halt)) == 1 { break }
                    let k = stacks[m].pop(SelectionTables.selection(logits: selection))
                    xhat = run?.candidates[k] ?? model.candidate(l, k: k, scratch: scratch)
                    if let run { kept.append(run) }
                    path.append(k)
                }
                xhats.append(model.fullResolution(xhat, depth: path.count))
                paths.append(path)
                levels.append(kept)
            }
            // moved out (not copied), so that popping does not copy each message's bytes
            var decoders = active.map { m in defer { stacks[m] = RANSStack() }; return stacks[m] }
            let decoded = network!.decode(xhats: xhats, paths: paths, decoders: &decoders)
            for (j, m) in active.enumerated() {
                stacks[m] = decoders[j]
                let path = paths[j]
                if i < counts[m] - 1 && !path.isEmpty {
                    let x = DDNModel.floats(from: decoded[j], bitDepth: cfg.bitDepth)
                    var xh = model.startImage(), posteriors: [FrequencyTable] = []
                    for (l, k) in path.enumerated() {
                        let target = model.levelTarget(x, level: l)
                        let out = l < levels[j].count ? model.levelDistances(of: levels[j][l], target: target)
                            : model.levelDistances(l, input: xh, target: target, scratch: scratch)
                        posteriors.append(posteriorTable(out, weight: weights[m]))
                        xh = out.candidates?[k] ?? model.candidate(l, k: k, scratch: scratch)
                    }
                    for l in stride(from: path.count - 1, through: 0, by: -1) { stacks[m].push(path[l], posteriors[l]) }
                }
                images[m].append(PixelImage(width: cfg.width, height: cfg.height, channels: cfg.channels, bitDepth: cfg.bitDepth, samples: decoded[j]))
            }
        }
        return messages.indices.map { m in
            let s = stacks[m]
            guard s.state == RANSStack.lowerBound && s.bytes.isEmpty && s.borrowedBytes == 0 else { return .failure(DDNCoderError.corruptBlock) }
            return .success(images[m])
        }
    }
}

/// Errors of the DDN coder's block decoding.
public enum DDNCoderError: Error, CustomStringConvertible {
    /// A bits-back block did not end with the empty message its encoder started from.
    case corruptBlock
    public var description: String { "a bits-back block does not decode to its end (damaged)" }
}
