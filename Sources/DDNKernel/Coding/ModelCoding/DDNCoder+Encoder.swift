/// The DDN coder's encoder: which path and depth it writes (Spec/CODEC.md §6.3 and §7.3; any
/// choice decodes, so this is the encoder's freedom, not part of the format).
///
/// At every level the encoder takes the candidate with the least score
///
///     score(k) = w · Σ_i (c_k,i − x_i)²  +  (−log2 of k's frequency in the selection table)
///
/// (squared error in [-1, 1] units at the level's size, first on ties): the nearest candidate,
/// unless a nearly as near one is cheaper to name. `w` = `Search.bitsPerSquaredError`; with the
/// residual network 300 (measured, Spec/CODEC.md §7.3), with the context coder ∞ (the nearest).
/// The depth is then chosen by the real cost (path + halting + residual bits).
extension DDNCoder {
    /// How hard the encoder looks for a cheap path: a matter of speed against size only.
    public struct Search: Sendable, Equatable {
        /// Path bits one unit of squared error is worth in the level score (`.infinity`: the
        /// nearest candidate, as the context coder's stage has always chosen).
        public var bitsPerSquaredError: Double = .infinity
        /// With the residual network: whether depth 0 (the network alone) is measured beside the
        /// full depth. One network evaluation per image.
        public var measuresDepthZero = true
        /// With the residual network: how many last-level candidates, best score first, are
        /// measured by their real cost (1: only the best). One network evaluation each.
        public var lastLevelCandidates = 1

        /// Only the nearest candidate, both depths measured (the context coder's search).
        public init() {}

        /// The encoder effort `ddnzip` uses unless told otherwise.
        public static let defaultEffort = 5

        /// The search of encoder effort `effort` (1…9, clamped; 5 the default) for a coder with
        /// the residual network: 1–2 measure the full depth only; 3–6 also depth 0; 7, 8 and 9
        /// also the 4, 8 and 16 best last-level candidates (Spec/CODEC.md §7.3 has the measured
        /// sizes and speeds).
        public init(networkEffort effort: Int) {
            let e = min(max(effort, 1), 9)
            bitsPerSquaredError = 300
            measuresDepthZero = e >= 3
            lastLevelCandidates = e >= 7 ? [4, 8, 16][e - 7] : 1
        }
    }

    /// What an encoded image costs in the model, in bits, by part (before the final flush).
    public struct Cost: Sendable {
        public var path = 0.0, halting = 0.0, residual = 0.0
        /// Number of levels taken.
        public var depth = 0
        public var total: Double { path + halting + residual }
        public init() {}
    }

    /// The model's view of one image: the path the level scores choose and the tables to code it.
    struct Trace {
        var path: [Int] = []
        var flags: [FrequencyTable] = []
        var choices: [FrequencyTable] = []
        /// Reconstructions at full size after 0, 1, …, path.count levels, in [-1, 1].
        var reconstructions: [[Float]] = []
        /// The last level's runners-up, best score first, with their candidates at the level's
        /// size (`Search.lastLevelCandidates − 1` of them).
        var lastLevelAlternatives: [(k: Int, candidate: [Float])] = []
    }

    /// Runs every level on `image`, choosing the candidate of least score each time.
    func trace(_ image: PixelImage, scratch: DDNModel.Scratch) -> Trace {
        let target = DDNModel.floats(from: image.samples, bitDepth: image.bitDepth)
        var xhat = model.startImage()
        var t = Trace()
        t.reconstructions.append(model.fullResolution(xhat, depth: 0))
        for l in 0..<depthLimit {
            let out = model.levelDistances(l, input: xhat, target: model.levelTarget(target, level: l), scratch: scratch)
            let table = SelectionTables.selection(logits: out.selectionLogits)
            let score: [Double] = search.bitsPerSquaredError.isFinite
                ? out.distances.indices.map { search.bitsPerSquaredError * Double(out.distances[$0]) + table.bits($0) }
                : out.distances.map { Double($0) }
            let kept = l == depthLimit - 1 ? max(search.lastLevelCandidates, 1) : 1
            let ranked = score.indices.sorted { (score[$0], $0) < (score[$1], $1) }.prefix(kept)
            let candidates = ranked.map { out.candidates?[$0] ?? model.candidate(l, k: $0, scratch: scratch) }
            t.flags.append(SelectionTables.halting(logit: out.haltLogit))
            t.choices.append(table)
            t.path.append(ranked.first!)
            xhat = candidates[0]
            t.reconstructions.append(model.fullResolution(xhat, depth: l + 1))
            t.lastLevelAlternatives = Array(zip(ranked, candidates).dropFirst().map { (k: $0.0, candidate: $0.1) })
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
    /// The path follows the level scores (see the file's description); the depth minimises path +
    /// halting + residual bits. With the residual network: among 0 (if `search.measuresDepthZero`)
    /// and D, and at D among the last level's `search.lastLevelCandidates` best candidates; with
    /// the context coder: among 0 and D, D−1, … (walking up while the total falls). `depth` forces
    /// one (e.g. 0: DDN switched off).
    /// - Returns: the model's cost of what was written, by part.
    @discardableResult
    public func encode(_ image: PixelImage, depth forced: Int? = nil, scratch: DDNModel.Scratch,
                       into encoder: inout RangeEncoder) -> Cost {
        var t = trace(image, scratch: scratch)
        func cost(_ t: Trace, _ d: Int) -> Cost {
            var c = DDNCoder.pathCost(t, depth: d)
            switch residualStage {
            case .contextCoder:
                let r = d == 0 ? nil : model.samples(from: t.reconstructions[d])
                c.residual = ClassicalCoder.codeLength(image, reconstruction: r, prepared: r == nil ? prepared.plain : prepared.withReconstruction)
            case .network:
                c.residual = network!.cost(image.samples, xhat: t.reconstructions[d], path: Array(t.path[0..<d]), scratch: scratch.network)
            }
            return c
        }
        var best: Cost
        if let forced {
            best = cost(t, min(max(forced, 0), t.path.count))
        } else if residualStage == .network {
            best = networkSearch(&t, cost: cost, scratch: scratch.network)
        } else {
            // Depth 0, then from the deepest level upwards while the total keeps falling: the
            // cost is close to unimodal in depth and the deepest level is chosen most often.
            best = cost(t, 0)
            var d = t.path.count
            var previous = Double.infinity
            while d > 0 {
                let c = cost(t, d)
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
        switch residualStage {
        case .contextCoder:
            let r = best.depth == 0 ? nil : model.samples(from: t.reconstructions[best.depth])
            ClassicalCoder.encode(image, reconstruction: r, statistics: statistics, into: &encoder)
        case .network:
            // every branch above left the chosen depth's intervals in the scratch
            network!.encode(count: image.samples.count, intervalsIn: scratch.network, into: &encoder)
        }
        return best
    }

    /// Pushes `image` onto a rANS stack as `encode` would write it with the residual network
    /// (the same search of path and depth), so that popping yields flags, candidates and samples
    /// in decoding order: the block's image that gives no bits back (Spec/CODEC.md §9.3).
    /// - Precondition: `residualStage == .network`.
    func push(_ image: PixelImage, onto stack: inout RANSStack, scratch: DDNModel.Scratch) -> Cost {
        precondition(residualStage == .network)
        var t = trace(image, scratch: scratch)
        let best = networkSearch(&t, cost: { t, d in
            var c = DDNCoder.pathCost(t, depth: d)
            c.residual = network!.cost(image.samples, xhat: t.reconstructions[d], path: Array(t.path[0..<d]), scratch: scratch.network)
            return c
        }, scratch: scratch.network)
        network!.push(count: image.samples.count, intervalsIn: scratch.network, onto: &stack)
        if best.depth < t.flags.count { stack.push(1, t.flags[best.depth]) }
        for l in stride(from: best.depth - 1, through: 0, by: -1) {
            stack.push(t.path[l], t.choices[l])
            stack.push(0, t.flags[l])
        }
        return best
    }

    /// The network's search (see `encode`): measures the choices `search` allows, leaves the
    /// cheapest one's path in `t` and its intervals in `scratch.intervals`, and returns its cost. The
    /// network is trained at depths 0 and D only (Spec/MODEL.md §6.2), so no other depth is tried.
    private func networkSearch(_ t: inout Trace, cost: (Trace, Int) -> Cost, scratch: NetworkResidualCoder.Scratch) -> Cost {
        let D = t.path.count
        // Each measurement writes `scratch.intervals`; a new best is swapped into `otherIntervals`.
        var best = Cost(), first = true
        func measure(_ c: Cost) -> Bool {
            defer { first = false }
            guard first || c.total < best.total else { return false }
            best = c
            scratch.swapIntervals()
            return true
        }
        if search.measuresDepthZero || D == 0 { _ = measure(cost(t, 0)) }
        if D > 0 {
            _ = measure(cost(t, D))
            var winner = (k: t.path[D - 1], reconstruction: t.reconstructions[D])
            for alternative in t.lastLevelAlternatives {
                t.path[D - 1] = alternative.k
                t.reconstructions[D] = model.fullResolution(alternative.candidate, depth: D)
                if measure(cost(t, D)) { winner = (alternative.k, t.reconstructions[D]) }
            }
            (t.path[D - 1], t.reconstructions[D]) = winner
        }
        scratch.swapIntervals()
        return best
    }
}
