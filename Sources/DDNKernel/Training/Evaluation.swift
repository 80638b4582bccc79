import Foundation

/// The residual coder's cost in bits of `image` given the reconstruction x̂ (samples, same shape).
/// The trainer's evaluation calls it for every depth; the codec plugs in its context coder
/// (`ClassicalCoder.codeLength(image, reconstruction:, statistics:)`).
public protocol ResidualCost: Sendable {
    func bits(image: PixelImage, reconstruction: [UInt16]) -> Double
}

/// Proxy residual cost: each sub-pixel independently with a discretised logistic centred on x̂,
/// its scale picked per image from {0.5, 1, 2, 4, 8, 16, 32, 64}·(maxValue/255) (3 bits to say which).
/// An upper bound on what a context coder that also sees causal neighbours will spend.
public struct LogisticResidualCost: ResidualCost {
    public init() {}
    public func bits(image: PixelImage, reconstruction: [UInt16]) -> Double {
        let m = Double(image.maxValue)
        var best = Double.infinity
        var s = 0.5 * m / 255
        for _ in 0..<8 {
            var total = 3.0
            for (x, r) in zip(image.samples, reconstruction) {
                let mu = Double(r), xv = Double(x)
                func cdf(_ t: Double) -> Double { 1 / (1 + exp(-(t - mu) / s)) }
                let lo = xv <= 0 ? 0 : cdf(xv - 0.5), hi = xv >= m ? 1 : cdf(xv + 0.5)
                total -= log2(max(hi - lo, 1e-12))
            }
            best = min(best, total)
            s *= 2
        }
        return best
    }
}

/// Held-out evaluation result (bits per sub-pixel unless said otherwise).
public struct EvalReport: Sendable {
    public var images = 0
    public var pathBpsp = 0.0, haltBpsp = 0.0, residualBpsp = 0.0
    public var totalBpsp: Double { pathBpsp + haltBpsp + residualBpsp }
    public var meanDepth = 0.0
    /// Per level: heads never chosen on the held-out images, and the entropy (bits) of the choices.
    public var unusedHeads: [Int] = []
    public var selectionEntropy: [Double] = []
    /// Mean squared error (in 8-bit grey levels²) of x̂ after each level 0...L (nearest path).
    public var mse: [Double] = []
    public var seconds = 0.0
}

extension DDNModel {
    /// Describes the images with the deterministic coding path: at each level the nearest
    /// candidate (squared error), path bits −log2 π_l(k_l) from the selection logits, halting
    /// bits from the halt logits, and the residual bits of `cost` at every depth (≤ maxDepth); the
    /// depth with the fewest total bits is taken (as the encoder does). Parallel over images.
    public func evaluate(_ data: Dataset, cost: any ResidualCost = LogisticResidualCost(), threads: Int = 2, maxDepth: Int? = nil) -> EvalReport {
        let t0 = Date()
        let L = config.levels, K = config.candidates, N = config.subPixels
        let count = data.count
        struct Out { var path = 0.0, halt = 0.0, res = 0.0, depth = 0; var choices: [Int] = []; var se: [Double] = [] }
        let outs = UnsafeMutableBufferPointer<Out>.allocate(capacity: count)
        outs.initialize(repeating: Out())
        defer { outs.deallocate() }
        struct OP: @unchecked Sendable { let o: UnsafeMutableBufferPointer<Out> }
        let op = OP(o: outs)
        let model = self
        let chunks = max(1, threads)
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let scratch = model.makeScratch()
            for i in stride(from: c, to: count, by: chunks) {
                let img = data.image(i)
                let x = DDNModel.floats(from: img.samples, bitDepth: img.bitDepth)
                var xhat = model.startImage()
                var o = Out()
                var recon: [[UInt16]] = [model.samples(from: model.fullResolution(xhat, depth: 0))]
                var pathB: [Double] = [], contB: [Double] = [], stopB: [Double] = []
                func sqerr(_ s: [UInt16]) -> Double {
                    var e = 0.0
                    for j in 0..<N { let d = Double(Int(s[j]) - Int(img.samples[j])); e += d * d }
                    return e / Double(N) * (255.0 * 255.0) / Double(img.maxValue * img.maxValue)
                }
                o.se.append(sqerr(recon[0]))
                for l in 0..<L {
                    let r = model.levelNearest(l, input: xhat, target: model.levelTarget(x, level: l), scratch: scratch)
                    let best = r.k
                    let lg = r.selectionLogits.map(Double.init)
                    let mx = lg.max()!
                    let lz = mx + log(lg.reduce(0) { $0 + exp($1 - mx) })
                    pathB.append(-(lg[best] - lz) / log(2.0))
                    let h = Double(r.haltLogit)
                    func softplus(_ t: Double) -> Double { t > 0 ? t + log1p(exp(-t)) : log1p(exp(t)) }
                    contB.append(softplus(h) / log(2.0)); stopB.append(softplus(-h) / log(2.0))
                    o.choices.append(best)
                    xhat = r.candidate
                    recon.append(model.samples(from: model.fullResolution(xhat, depth: l + 1)))
                    o.se.append(sqerr(recon[l + 1]))
                }
                var bestTotal = Double.infinity
                var prefix = 0.0, prefixPath = 0.0, prefixHalt = 0.0
                for d in 0...min(L, maxDepth ?? L) {
                    let stop = d < L ? stopB[d] : 0
                    let res = cost.bits(image: img, reconstruction: recon[d])
                    let total = prefix + stop + res
                    if total < bestTotal {
                        bestTotal = total
                        o.path = prefixPath; o.halt = prefixHalt + stop; o.res = res; o.depth = d
                    }
                    if d < L { prefix += pathB[d] + contB[d]; prefixPath += pathB[d]; prefixHalt += contB[d] }
                }
                op.o[i] = o
            }
        }
        var rep = EvalReport()
        rep.images = count
        var hist = [[Int]](repeating: [Int](repeating: 0, count: K), count: L)
        rep.mse = [Double](repeating: 0, count: L + 1)
        for o in outs {
            rep.pathBpsp += o.path; rep.haltBpsp += o.halt; rep.residualBpsp += o.res; rep.meanDepth += Double(o.depth)
            for l in 0..<L { hist[l][o.choices[l]] += 1 }
            for d in 0...L { rep.mse[d] += o.se[d] }
        }
        let dn = Double(max(count, 1)), nb = dn * Double(N)
        rep.pathBpsp /= nb; rep.haltBpsp /= nb; rep.residualBpsp /= nb; rep.meanDepth /= dn
        rep.mse = rep.mse.map { $0 / dn }
        rep.unusedHeads = hist.map { $0.filter { $0 == 0 }.count }
        rep.selectionEntropy = hist.map { h in
            h.reduce(0.0) { acc, c in c == 0 ? acc : acc - Double(c) / dn * log2(Double(c) / dn) }
        }
        rep.seconds = Date().timeIntervalSince(t0)
        return rep
    }
}

extension DDNModel {
    /// Coding-path speed on one thread, all `levels` levels per image (model forward only, no
    /// entropy coding): encoder = every level with all K candidates and the nearest choice;
    /// decoder = logits plus the one chosen candidate per level. Images per second.
    public func codingPathSpeed(_ data: Dataset) -> (encode: Double, decode: Double) {
        let s = makeScratch(), L = config.levels, K = config.candidates
        var paths: [[Int]] = []
        let t0 = Date()
        for i in 0..<data.count {
            let x = DDNModel.floats(from: data.image(i).samples, bitDepth: data.bitDepth)
            var xh = startImage(), path: [Int] = []
            for l in 0..<L {
                let r = level(l, input: xh, scratch: s), t = levelTarget(x, level: l)
                var best = 0, bd = Float.infinity
                for k in 0..<K {
                    var d: Float = 0
                    for j in 0..<t.count { let e = r.candidates[k][j] - t[j]; d += e * e }
                    if d < bd { bd = d; best = k }
                }
                path.append(best); xh = r.candidates[best]
            }
            paths.append(path)
        }
        let enc = Double(data.count) / Date().timeIntervalSince(t0)
        let t1 = Date()
        for i in 0..<data.count {
            var xh = startImage()
            for l in 0..<L { xh = levelChosen(l, input: xh, k: paths[i][l], scratch: s).candidate }
        }
        return (enc, Double(data.count) / Date().timeIntervalSince(t1))
    }
}
