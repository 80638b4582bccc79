import Foundation

/// One level of training, shared by both layouts (Spec/MODEL.md §6): what happens between a
/// level's forward pass (its layout's trunk and heads) and its backward pass.
extension Trainer {
    /// A level's forward outputs as the layout computed them, at the level's size (P pixels × C).
    struct LevelForward {
        /// The level's input x̂_{l−1} [P·C] and the heads' residuals [P × K·C] (candidate k of
        /// pixel i, channel c: `input[i·C + c] + heads[i·K·C + k·C + c]`).
        let input: UnsafePointer<Float>, heads: UnsafePointer<Float>
        /// The selection logits [K]: replaced by ∂loss/∂logits (loss in bits per sub-pixel).
        let logits: UnsafeMutablePointer<Float>
        /// The level's target [P·C] and each pixel's weight in the squared distance (its cell's
        /// area at full resolution; nil: 1).
        let target: UnsafePointer<Float>, area: [Double]?
    }

    /// What the level chose, for its backward pass and the image's description length.
    struct LevelChoice {
        /// The chosen candidate and its path bits −log2 π(k).
        var k: Int, pathBits: Double
        /// Its squared distance to the target (area-weighted).
        var distance: Double
        /// The chosen candidate [P·C], and ∂(weight × Gaussian proxy bits)/∂candidate [P·C].
        var candidate: [Float], proxyGradient: [Float]
    }

    /// Measures every candidate's distance, chooses one (`choose`), and turns the selection
    /// logits into their gradient: the cross-entropy of π on the chosen k, in bits per sub-pixel.
    /// `proxyWeight` scales the Gaussian proxy's gradient ‖c_k − x‖²·area/(2σ² ln2 N).
    /// With `realBits` (the residual network's bits of the image if candidate k is chosen) and
    /// proportional selection, the choice is made again among the `options.realBitsCandidates`
    /// nearest candidates with q(k) ∝ π(k)·2^(−bits(k)): the DDN read as a mixture, its posterior.
    func levelStep(_ f: LevelForward, P: Int, K: Int, C: Int, beta: Double, proxyWeight: Double,
                   dist: inout [Double], lq: inout [Double], rng: inout SplitMix64,
                   realBits: ((Int) -> Double)? = nil) -> LevelChoice {
        let KC = K * C, N = config.subPixels, invN = 1 / Double(N), ln2 = 0.6931471805599453
        let sigma2 = Double(config.sigma) * Double(config.sigma)
        for k in 0..<K { dist[k] = 0 }
        for i in 0..<P {
            let h = f.heads + i * KC, a = f.area?[i] ?? 1
            for ch in 0..<C {
                let base = f.input[i * C + ch] - f.target[i * C + ch]
                for k in 0..<K { let e = Double(base + h[k * C + ch]); dist[k] += e * e * a }
            }
        }
        var (chosen, lz) = choose(logits: f.logits, distances: dist, beta: beta, sigma2: sigma2, invN: invN, scratch: &lq, rng: &rng)
        if let realBits, options.selection == .proportional, options.realBitsCandidates > 1 {
            let measured = (0..<K).sorted { (dist[$0], $0) < (dist[$1], $1) }.prefix(options.realBitsCandidates)
            let log2q = measured.map { k in (Double(f.logits[k]) - lz) / ln2 - realBits(k) }
            let top = log2q.max()!
            let w = log2q.map { exp2($0 - top) }
            var u = rng.nextUnitDouble() * w.reduce(0, +)
            chosen = measured.last!
            for (k, wk) in zip(measured, w) { u -= wk; if u < 0 { chosen = k; break } }
        }
        var choice = LevelChoice(k: chosen, pathBits: -(Double(f.logits[chosen]) - lz) / ln2, distance: dist[chosen],
                                 candidate: [Float](repeating: 0, count: P * C), proxyGradient: [Float](repeating: 0, count: P * C))
        for i in 0..<P {
            let a = f.area?[i] ?? 1
            for ch in 0..<C {
                let j = i * C + ch
                choice.candidate[j] = f.input[j] + f.heads[i * KC + chosen * C + ch]
                choice.proxyGradient[j] = Float(proxyWeight * Double(choice.candidate[j] - f.target[j]) * a / (sigma2 * ln2) * invN)
            }
        }
        for k in 0..<K {
            let pk = exp(Double(f.logits[k]) - lz)
            f.logits[k] = Float((pk - (k == chosen ? 1 : 0)) / ln2 * invN)
        }
        return choice
    }

    /// One level's choice during training (DESIGN §3): the nearest candidate, or candidate k drawn
    /// with probability q(k) ∝ π(k)·exp(−β·d_k), d_k = dist[k] / (2σ²) / N.
    /// - Parameters: logits: [K] selection logits; distances: [K] squared distances to the target.
    /// - Returns: the chosen k and log Σ exp(logits) (so log π(k) = logits[k] − logZ).
    func choose(logits: UnsafePointer<Float>, distances dist: [Double], beta: Double, sigma2: Double, invN: Double,
                scratch lq: inout [Double], rng: inout SplitMix64) -> (chosen: Int, logZ: Double) {
        let K = dist.count
        var mx = -Double.infinity
        for k in 0..<K { mx = max(mx, Double(logits[k])) }
        var z = 0.0
        for k in 0..<K { z += exp(Double(logits[k]) - mx) }
        let lz = mx + log(z)
        var chosen = 0
        switch options.selection {
        case .nearest:
            for k in 1..<K where dist[k] < dist[chosen] { chosen = k }
        case .proportional:
            var qm = -Double.infinity
            for k in 0..<K { lq[k] = (Double(logits[k]) - lz) - beta * dist[k] / (2 * sigma2) * invN; qm = max(qm, lq[k]) }
            var qs = 0.0
            for k in 0..<K { lq[k] = exp(lq[k] - qm); qs += lq[k] }
            var u = rng.nextUnitDouble() * qs
            chosen = K - 1
            for k in 0..<K { u -= lq[k]; if u < 0 { chosen = k; break } }
        }
        return (chosen, lz)
    }

    /// The residual network's part of one image's description length (Spec/MODEL.md §6.2), shared
    /// by both layouts: its bits of x given x̂ after all L levels, their gradient added into `d`
    /// (the network's parameters) and ∂bits/∂x̂ at full size left in `ws.dxhat` [N]; with
    /// `depthZero`, also its bits at depth 0 (x̂ = the start image), whose gradient reaches the
    /// network only.
    /// - Parameters: x: the target [N] in [-1, 1]; full: x̂ after L levels at full size [N];
    ///   path: the L candidates chosen (the path embedding's rows, when the model has one).
    /// - Returns: the bits at depth L, and at depth 0 (nil without `depthZero`).
    func residualLoss(_ x: [Float], full: [Float], path: [Int], depthZero: Bool, ws: ResidualNetWorkspace,
                      d: UnsafeMutablePointer<Float>) -> (atL: Double, atZero: Double?) {
        let net = netLayout!, samples = template.samples(from: x)
        func bits(_ xhat: [Float], _ path: [Int], wantXhatGradient: Bool) -> Double {
            samples.withUnsafeBufferPointer { sp in
                xhat.withUnsafeBufferPointer { xp in
                    net.trainImage(samples: sp.baseAddress!, xhat: xp.baseAddress!, path: path, p: params, transposed: netTransposed!,
                                   ws: ws, d: d, weight: 1, wantXhatGradient: wantXhatGradient)
                }
            }
        }
        let atL = bits(full, path, wantXhatGradient: true)
        // depth 0 after depth L: its forward pass must not overwrite ws.dxhat
        let atZero = depthZero ? bits(template.fullResolution(template.startImage(), depth: 0), [], wantXhatGradient: false) : nil
        return (atL, atZero)
    }
}
