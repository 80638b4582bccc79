import Foundation

// Single-shot layout (DESIGN §2), experimental: levels at growing resolution (for 28×28:
// 1, 2, 4, 7, 14, 28), each with its own weights. Level l nearest-resamples x̂_{l−1} to its
// resolution r_l, runs conv3 → lrelu → conv3 → lrelu (width w_l), and K 1×1 heads add residuals;
// π_l and a halting logit come from the mean-pooled features. Its target is x area-averaged to
// r_l. Trained by the same rules as the recurrence layout (selection, Split-and-Prune on heads,
// Adam) but without halting training (depth = all levels) and without a model-file format: it
// exists to compare bpsp and speed with the recurrence layout (Spec/MODEL.md §7).

public struct SingleShotConfig: Sendable {
    public var size = 28            // square images, one channel
    public var candidates = 64
    public var resolutions = [1, 2, 4, 7, 14, 28]
    public var widths = [32, 32, 32, 32, 16, 8]
    public var sigma: Float = 0.1
    public var leak: Float = 0.1
    public init() {}
    public var levels: Int { resolutions.count }
}

public final class SingleShotTrainer: @unchecked Sendable {
    public let cfg: SingleShotConfig
    public var options: TrainOptions
    struct Lv { var r: Int, w: Int, c1W: Int, c1B: Int, c2W: Int, c2B: Int, hW: Int, hB: Int, sW: Int, sB: Int }
    var lv: [Lv] = []
    let n: Int
    var params: [Float], m: [Float], v: [Float]
    public var counts: [Float]
    var rng: SplitMix64
    public var step: UInt64 = 0
    let start: [Float]     // mean image (full size)

    public init(config: SingleShotConfig, options: TrainOptions, start: [Float]) {
        cfg = config; self.options = options; self.start = start
        var o = 0
        let K = config.candidates
        for (r, w) in zip(config.resolutions, config.widths) {
            var l = Lv(r: r, w: w, c1W: 0, c1B: 0, c2W: 0, c2B: 0, hW: 0, hB: 0, sW: 0, sB: 0)
            l.c1W = o; o += 9 * w; l.c1B = o; o += w; l.c2W = o; o += 9 * w * w; l.c2B = o; o += w
            l.hW = o; o += w * K; l.hB = o; o += K; l.sW = o; o += w * K; l.sB = o; o += K
            lv.append(l)
        }
        n = o
        params = [Float](repeating: 0, count: n); m = params; v = params
        var g = SplitMix64(seed: options.seed)
        for l in lv {
            for i in 0..<(9 * l.w) { params[l.c1W + i] = g.uniform((6 / 9.0 as Float).squareRoot()) }
            for i in 0..<(9 * l.w * l.w) { params[l.c2W + i] = g.uniform((6 / Float(9 * l.w)).squareRoot()) }
            for i in 0..<(l.w * K) { params[l.hW + i] = g.uniform(0.2 * (6 / Float(l.w)).squareRoot()) }
            for i in 0..<(l.w * K) { params[l.sW + i] = g.uniform(0.1 * (6 / Float(l.w)).squareRoot()) }
        }
        counts = [Float](repeating: Float(options.batchSize) / Float(K) / (1 - options.countDecay), count: config.levels * K)
        rng = SplitMix64(seed: options.seed ^ 0x51)
    }

    /// Multiply-adds of all levels of one image (decoder: one head per level; encoder: K).
    public var decoderMACs: Int { lv.reduce(0) { $0 + $1.r * $1.r * (9 * $1.w + 9 * $1.w * $1.w + 1) + 2 * $1.w * cfg.candidates } }
    public var encoderMACs: Int { lv.reduce(0) { $0 + $1.r * $1.r * (9 * $1.w + 9 * $1.w * $1.w + cfg.candidates * $1.w) + 2 * $1.w * cfg.candidates } }

    /// Nearest resampling of a square r0×r0 image to r1×r1.
    static func resample(_ x: [Float], _ r0: Int, _ r1: Int) -> [Float] {
        var o = [Float](repeating: 0, count: r1 * r1)
        for y in 0..<r1 { for xx in 0..<r1 { o[y * r1 + xx] = x[(y * r0 / r1) * r0 + xx * r0 / r1] } }
        return o
    }
    /// Area average of the full image to r×r (cells of full pixels floor(y·r/size)).
    func target(_ x: UnsafePointer<Float>, _ r: Int) -> [Float] {
        let s = cfg.size
        var sum = [Float](repeating: 0, count: r * r), cnt = [Float](repeating: 0, count: r * r)
        for y in 0..<s { for xx in 0..<s { let c = (y * r / s) * r + xx * r / s; sum[c] += x[y * s + xx]; cnt[c] += 1 } }
        return zip(sum, cnt).map { $0 / $1 }
    }

    struct Act { var u: [Float], a1: [Float], a1r: [Float], a2: [Float], f: [Float], g: [Float], heads: [Float], logits: [Float] }

    func forward(_ l: Int, _ u: [Float]) -> Act {
        let L = lv[l], r = L.r, w = L.w, K = cfg.candidates, P = r * r
        var a1 = [Float](repeating: 0, count: P * w), a1r = a1, a2 = a1, f = a1
        var heads = [Float](repeating: 0, count: P * K), g = [Float](repeating: 0, count: w), logits = [Float](repeating: 0, count: K)
        params.withUnsafeBufferPointer { pb in
            let p = pb.baseAddress!
            convForward(u, h: r, w: r, cin: 1, k: 3, weight: p + L.c1W, bias: p + L.c1B, cout: w, out: &a1)
            leakyForward(a1, n: P * w, leak: cfg.leak, out: &a1r)
            convForward(a1r, h: r, w: r, cin: w, k: 3, weight: p + L.c2W, bias: p + L.c2B, cout: w, out: &a2)
            leakyForward(a2, n: P * w, leak: cfg.leak, out: &f)
            convForward(f, h: r, w: r, cin: w, k: 1, weight: p + L.hW, bias: p + L.hB, cout: K, out: &heads)
            meanPoolForward(f, p: P, c: w, out: &g)
            linearForward(g, nin: w, weight: p + L.sW, bias: p + L.sB, nout: K, out: &logits)
        }
        return Act(u: u, a1: a1, a1r: a1r, a2: a2, f: f, g: g, heads: heads, logits: logits)
    }

    /// One image: forward/backward through all levels; returns per-level chosen k and final x̂.
    func trainImage(_ x: UnsafePointer<Float>, d: inout [Float], beta: Double, rng: inout SplitMix64) -> [Int] {
        let K = cfg.candidates, s2 = Double(cfg.sigma * cfg.sigma), ln2 = log(2.0)
        var xhat = [start.reduce(0, +) / Float(start.count)]
        var prevR = 1
        var choices: [Int] = []
        for l in 0..<cfg.levels {
            let L = lv[l], r = L.r, w = L.w, P = r * r
            let u = SingleShotTrainer.resample(xhat, prevR, r)
            let t = target(x, r)
            let a = forward(l, u)
            var dist = [Double](repeating: 0, count: K)
            for i in 0..<P { let base = u[i] - t[i]; for k in 0..<K { let e = Double(base + a.heads[i * K + k]); dist[k] += e * e } }
            let lg = a.logits.map(Double.init), mx = lg.max()!
            let lz = mx + log(lg.reduce(0) { $0 + exp($1 - mx) })
            var ch = 0
            if options.selection == .nearest { for k in 1..<K where dist[k] < dist[ch] { ch = k } } else {
                let lq = (0..<K).map { lg[$0] - lz - beta * dist[$0] / (2 * s2 * Double(P)) }
                let qm = lq.max()!
                let q = lq.map { exp($0 - qm) }
                var uu = rng.nextUnitDouble() * q.reduce(0, +)
                ch = K - 1
                for k in 0..<K { uu -= q[k]; if uu < 0 { ch = k; break } }
            }
            choices.append(ch)
            // gradients
            var dr = [Float](repeating: 0, count: P)
            var cand = [Float](repeating: 0, count: P)
            for i in 0..<P { cand[i] = u[i] + a.heads[i * K + ch]; dr[i] = Float(Double(cand[i] - t[i]) / (s2 * ln2 * Double(P))) }
            var dlog = [Float](repeating: 0, count: K)
            for k in 0..<K { dlog[k] = Float((exp(lg[k] - lz) - (k == ch ? 1 : 0)) / ln2 / Double(P)) }
            var df = [Float](repeating: 0, count: P * w)
            params.withUnsafeBufferPointer { pb in
                let p = pb.baseAddress!
                d.withUnsafeMutableBufferPointer { db in
                    let g = db.baseAddress!
                    for i in 0..<P {
                        g[L.hB + ch] += dr[i]
                        for c in 0..<w { g[L.hW + c * K + ch] += a.f[i * w + c] * dr[i]; df[i * w + c] = dr[i] * p[L.hW + c * K + ch] }
                    }
                    var dg = [Float](repeating: 0, count: w)
                    linearBackward(a.g, nin: w, weight: p + L.sW, nout: K, dy: dlog, dw: g + L.sW, db: g + L.sB, dx: &dg)
                    for i in 0..<P { for c in 0..<w { df[i * w + c] += dg[c] / Float(P) } }
                    var da2 = [Float](repeating: 0, count: P * w), da1r = da2, da1 = da2
                    leakyBackward(a.a2, n: P * w, leak: cfg.leak, dy: df, dx: &da2)
                    var wt = [Float](repeating: 0, count: 9 * w * w)
                    flipTranspose(p + L.c2W, k: 3, cin: w, cout: w, into: &wt)
                    convBackward(a.a1r, h: r, w: r, cin: w, k: 3, wt: wt, cout: w, dy: da2, dw: g + L.c2W, db: g + L.c2B, dx: &da1r)
                    leakyBackward(a.a1, n: P * w, leak: cfg.leak, dy: da1r, dx: &da1)
                    convBackward(u, h: r, w: r, cin: 1, k: 3, wt: nil, cout: w, dy: da1, dw: g + L.c1W, db: g + L.c1B, dx: nil)
                }
            }
            xhat = cand; prevR = r
        }
        return choices
    }

    /// One step over `batch`, 2 fixed shards summed in order, Adam, counts, Split-and-Prune.
    public func trainStep(data: UnsafePointer<Float>, batch: [Int], beta: Double, lrScale: Float) {
        let S = 2, B = batch.count, N = cfg.size * cfg.size
        var grads = [[Float]](repeating: [Float](repeating: 0, count: n), count: S)
        var ch = [[Int]](repeating: [], count: B)
        final class Box: @unchecked Sendable { var g: [[Float]] = []; var ch: [[Int]] = [] }
        let box = Box(); box.g = grads; box.ch = ch
        let seed = options.seed &+ step &* 0x9E37_79B9_7F4A_7C15
        let dp = Ptr(p: UnsafeMutablePointer(mutating: data))
        let work: @Sendable (Int) -> Void = { [self] s in
            var g = [Float](repeating: 0, count: self.n)
            var local: [(Int, [Int])] = []
            for b in (s * B / S)..<((s + 1) * B / S) {
                var r = SplitMix64(seed: seed ^ (UInt64(b) &* 0xD1B5_4A32_D192_ED03))
                local.append((b, self.trainImage(dp.p + batch[b] * N, d: &g, beta: beta, rng: &r)))
            }
            objc_sync(box) { box.g[s] = g; for (b, c) in local { box.ch[b] = c } }
        }
        if options.threads > 1 { DispatchQueue.concurrentPerform(iterations: S, execute: work) } else { for s in 0..<S { work(s) } }
        grads = box.g; ch = box.ch
        var g0 = grads[0]
        for i in 0..<n { g0[i] = (g0[i] + grads[1][i]) / Float(B) }
        step += 1
        Trainer.adam(params: &params, m: &m, v: &v, grad: g0, count: n, step: step, lr: options.lr * lrScale)
        let K = cfg.candidates
        for i in 0..<counts.count { counts[i] *= options.countDecay }
        for c in ch { for l in 0..<cfg.levels { counts[l * K + c[l]] += 1 } }
        for l in 0..<cfg.levels { split(l) }
    }

    func split(_ l: Int) {
        let K = cfg.candidates, L = lv[l]
        var hi = 0, lo = 0, total: Float = 0
        for k in 0..<K { let c = counts[l * K + k]; total += c; if c > counts[l * K + hi] { hi = k }; if c < counts[l * K + lo] { lo = k } }
        guard hi != lo, counts[l * K + hi] / total > options.splitHigh / Float(K) || counts[l * K + lo] / total < options.splitLow / Float(K) else { return }
        var idx: [(Int, Int, Bool)] = []
        for c in 0..<L.w { idx.append((L.hW + c * K + hi, L.hW + c * K + lo, true)); idx.append((L.sW + c * K + hi, L.sW + c * K + lo, false)) }
        idx.append((L.hB + hi, L.hB + lo, true)); idx.append((L.sB + hi, L.sB + lo, false))
        for (s, d, p) in idx { params[d] = params[s] + (p ? rng.uniform(options.splitNoise) : 0); m[d] = m[s]; v[d] = v[s] }
        params[L.sB + hi] -= 0.693147182; params[L.sB + lo] = params[L.sB + hi]
        counts[l * K + hi] /= 2; counts[l * K + lo] = counts[l * K + hi]
    }

    /// Nearest-path evaluation: full-resolution reconstruction, path bits, per-level choice counts.
    public func describe(_ x: [Float]) -> (recon: [Float], pathBits: Double, choices: [Int]) {
        let K = cfg.candidates
        var xhat = [start.reduce(0, +) / Float(start.count)], prevR = 1, bits = 0.0, ch: [Int] = []
        x.withUnsafeBufferPointer { xp in
            for l in 0..<cfg.levels {
                let r = lv[l].r, P = r * r
                let u = SingleShotTrainer.resample(xhat, prevR, r), t = target(xp.baseAddress!, r)
                let a = forward(l, u)
                var best = 0, bd = Float.infinity
                for k in 0..<K { var d: Float = 0; for i in 0..<P { let e = u[i] + a.heads[i * K + k] - t[i]; d += e * e }; if d < bd { bd = d; best = k } }
                let lg = a.logits.map(Double.init), mx = lg.max()!
                bits += -(lg[best] - mx - log(lg.reduce(0) { $0 + exp($1 - mx) })) / log(2.0)
                xhat = (0..<P).map { u[$0] + a.heads[$0 * K + best] }; prevR = r; ch.append(best)
            }
        }
        return (SingleShotTrainer.resample(xhat, prevR, cfg.size), bits, ch)
    }
}

@inline(__always) func objc_sync(_ o: AnyObject, _ f: () -> Void) {
    ssLock.lock(); f(); ssLock.unlock()
}
nonisolated(unsafe) let ssLock = NSLock()
