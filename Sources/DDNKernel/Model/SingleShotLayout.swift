// Single-shot layout (DDNConfig.layout == 1): levels at growing resolution, each with its own
// weights (Spec/MODEL.md §3b). Level l works at r_l = ⌈H / 2^(L−1−l)⌉ × ⌈W / 2^(L−1−l)⌉
// (28×28, L = 6: 1, 2, 4, 7, 14, 28) with width w_l = min(4c, c·2^(L−1−l)):
//
//   u = nearest-resample(x̂_{l−1} → r_l)        (x̂_{−1}: the start image's per-channel mean, 1×1)
//   a = lrelu(conv3(u → w_l)) ; f = lrelu(conv3(a → w_l))
//   candidate k = u + conv1_k(f) ; g = mean(f) → selection logits [K], halt logit
//
// Target of level l in training: x area-averaged to r_l (cell of a full pixel: ⌊y·r/H⌋, ⌊x·r/W⌋).

struct SSLevel: Sendable {
    let h: Int, w: Int, width: Int
    var c1W = 0, c1B = 0, c2W = 0, c2B = 0, hW = 0, hB = 0, sW = 0, sB = 0, haltW = 0, haltB = 0
    var P: Int { h * w }
}

struct SSLayout: Sendable {
    let H: Int, W: Int, C: Int, K: Int, L: Int
    var levels: [SSLevel] = []
    var total = 0
    var tensors: [(name: String, offset: Int, count: Int)] = []

    init(_ cfg: DDNConfig) {
        H = cfg.height; W = cfg.width; C = cfg.channels; K = cfg.candidates; L = cfg.levels
        var n = 0
        for l in 0..<L {
            let s = 1 << (L - 1 - l)
            var lv = SSLevel(h: (H + s - 1) / s, w: (W + s - 1) / s, width: min(4 * cfg.baseChannels, cfg.baseChannels * s))
            let w = lv.width, KC = K * C
            func take(_ name: String, _ count: Int) -> Int { let o = n; n += count; tensors.append((name: "level\(l).\(name)", offset: o, count: count)); return o }
            lv.c1W = take("conv1.w", 9 * C * w); lv.c1B = take("conv1.b", w)
            lv.c2W = take("conv2.w", 9 * w * w); lv.c2B = take("conv2.b", w)
            lv.hW = take("head.w", w * KC); lv.hB = take("head.b", KC)
            lv.sW = take("select.w", w * K); lv.sB = take("select.b", K)
            lv.haltW = take("halt.w", w); lv.haltB = take("halt.b", 1)
            levels.append(lv)
        }
        total = n
    }

    /// Resolution (h, w) of the input of level l (level l−1's output; 1×1 for l = 0).
    func inputSize(_ l: Int) -> (Int, Int) { l == 0 ? (1, 1) : (levels[l - 1].h, levels[l - 1].w) }

    func trunkMACs(_ l: Int) -> Int { let v = levels[l]; return v.P * (9 * C * v.width + 9 * v.width * v.width) + v.width * (K + 1) }
    func headMACs(_ l: Int) -> Int { levels[l].P * levels[l].width * C }
    var decoderMACs: Int { (0..<L).reduce(0) { $0 + trunkMACs($1) + headMACs($1) } }
    var encoderMACs: Int { (0..<L).reduce(0) { $0 + trunkMACs($1) + K * headMACs($1) } }

    /// Nearest resampling [h0·w0·C] → [h1·w1·C]: source pixel (⌊y·h0/h1⌋, ⌊x·w0/w1⌋).
    static func resample(_ x: UnsafePointer<Float>, _ h0: Int, _ w0: Int, _ h1: Int, _ w1: Int, _ C: Int, _ out: UnsafeMutablePointer<Float>) {
        for y in 0..<h1 {
            let sy = y * h0 / h1
            for xx in 0..<w1 {
                let s = x + (sy * w0 + xx * w0 / w1) * C, o = out + (y * w1 + xx) * C
                for c in 0..<C { o[c] = s[c] }
            }
        }
    }
}

/// Activations of one single-shot level, sized for the largest level. One per thread.
final class SSWorkspace: @unchecked Sendable {
    let u, a1, a1r, a2, f, g, heads, logits, halt: UnsafeMutablePointer<Float>
    // backward
    let df, da2, da1r, da1, dg, wt: UnsafeMutablePointer<Float>
    private var all: [UnsafeMutablePointer<Float>] = []
    init(_ lay: SSLayout) {
        let maxPW = lay.levels.map { $0.P * $0.width }.max()!, maxP = lay.levels.map(\.P).max()!
        let maxW = lay.levels.map(\.width).max()!
        func a(_ n: Int) -> UnsafeMutablePointer<Float> { let p = UnsafeMutablePointer<Float>.allocate(capacity: max(n, 1)); p.initialize(repeating: 0, count: max(n, 1)); return p }
        u = a(maxP * lay.C); a1 = a(maxPW); a1r = a(maxPW); a2 = a(maxPW); f = a(maxPW); g = a(maxW)
        heads = a(maxP * lay.K * lay.C); logits = a(lay.K); halt = a(1)
        df = a(maxPW); da2 = a(maxPW); da1r = a(maxPW); da1 = a(maxPW); dg = a(maxW); wt = a(9 * maxW * maxW)
        all = [u, a1, a1r, a2, f, g, heads, logits, halt, df, da2, da1r, da1, dg, wt]
    }
    deinit { for p in all { p.deallocate() } }
}

enum SSNet {
    /// Trunk of level l on ws.u (already resampled): features ws.f, ws.g, logits, halt.
    static func trunk(_ lay: SSLayout, _ p: UnsafePointer<Float>, level l: Int, leak: Float, ws: SSWorkspace) {
        let v = lay.levels[l], P = v.P, w = v.width
        convForward(ws.u, h: v.h, w: v.w, cin: lay.C, k: 3, weight: p + v.c1W, bias: p + v.c1B, cout: w, out: ws.a1)
        leakyForward(ws.a1, n: P * w, leak: leak, out: ws.a1r)
        convForward(ws.a1r, h: v.h, w: v.w, cin: w, k: 3, weight: p + v.c2W, bias: p + v.c2B, cout: w, out: ws.a2)
        leakyForward(ws.a2, n: P * w, leak: leak, out: ws.f)
        meanPoolForward(ws.f, p: P, c: w, out: ws.g)
        linearForward(ws.g, nin: w, weight: p + v.sW, bias: p + v.sB, nout: lay.K, out: ws.logits)
        linearForward(ws.g, nin: w, weight: p + v.haltW, bias: p + v.haltB, nout: 1, out: ws.halt)
    }
    static func allHeads(_ lay: SSLayout, _ p: UnsafePointer<Float>, level l: Int, ws: SSWorkspace) {
        let v = lay.levels[l]
        convForward(ws.f, h: v.h, w: v.w, cin: v.width, k: 1, weight: p + v.hW, bias: p + v.hB, cout: lay.K * lay.C, out: ws.heads)
    }
    /// Candidate k: same operation order as allHeads, then added to u.
    static func candidate(_ lay: SSLayout, _ p: UnsafePointer<Float>, level l: Int, k: Int, ws: SSWorkspace, out: UnsafeMutablePointer<Float>) {
        let v = lay.levels[l], C = lay.C, KC = lay.K * C, w = v.width
        let wt = p + v.hW + k * C, b = p + v.hB + k * C
        for i in 0..<v.P {
            let f = ws.f + i * w
            for ch in 0..<C {
                var s = b[ch]
                for ci in 0..<w { s = s + f[ci] * wt[ci * KC + ch] }
                out[i * C + ch] = ws.u[i * C + ch] + s
            }
        }
    }
    /// Backward of level l: dr [P·C] for chosen head k, dlogits in ws.logits; adds into d. If `du`
    /// is given, writes ∂/∂u [P·C] there: dr through the candidate's skip connection plus the
    /// gradient through the trunk's first convolution.
    static func backward(_ lay: SSLayout, _ p: UnsafePointer<Float>, level l: Int, k: Int, dr: UnsafePointer<Float>, leak: Float,
                         ws: SSWorkspace, d: UnsafeMutablePointer<Float>, du: UnsafeMutablePointer<Float>? = nil) {
        let v = lay.levels[l], C = lay.C, KC = lay.K * C, w = v.width, P = v.P
        let hw = p + v.hW + k * C, dhw = d + v.hW + k * C, dhb = d + v.hB + k * C
        for i in 0..<P {
            let f = ws.f + i * w, g = ws.df + i * w
            for ci in 0..<w { g[ci] = 0 }
            for ch in 0..<C {
                let r = dr[i * C + ch]
                dhb[ch] += r
                for ci in 0..<w { dhw[ci * KC + ch] += f[ci] * r; g[ci] += r * hw[ci * KC + ch] }
            }
        }
        linearBackward(ws.g, nin: w, weight: p + v.sW, nout: lay.K, dy: ws.logits, dw: d + v.sW, db: d + v.sB, dx: ws.dg)
        let s = 1 / Float(P)
        for i in 0..<P { let r = ws.df + i * w; for c in 0..<w { r[c] += ws.dg[c] * s } }
        leakyBackward(ws.a2, n: P * w, leak: leak, dy: ws.df, dx: ws.da2)
        flipTranspose(p + v.c2W, k: 3, cin: w, cout: w, into: ws.wt)
        convBackward(ws.a1r, h: v.h, w: v.w, cin: w, k: 3, wt: ws.wt, cout: w, dy: ws.da2, dw: d + v.c2W, db: d + v.c2B, dx: ws.da1r)
        leakyBackward(ws.a1, n: P * w, leak: leak, dy: ws.da1r, dx: ws.da1)
        if let du {
            flipTranspose(p + v.c1W, k: 3, cin: C, cout: w, into: ws.wt)
            convBackward(ws.u, h: v.h, w: v.w, cin: C, k: 3, wt: ws.wt, cout: w, dy: ws.da1, dw: d + v.c1W, db: d + v.c1B, dx: du)
            for i in 0..<(P * C) { du[i] += dr[i] }
        } else {
            convBackward(ws.u, h: v.h, w: v.w, cin: C, k: 3, wt: nil, cout: w, dy: ws.da1, dw: d + v.c1W, db: d + v.c1B, dx: nil)
        }
    }

    /// Adjoint of `SSLayout.resample` ([h0·w0·C] → [h1·w1·C]): dx [h0·w0·C] (written) = the sum of
    /// dy over the output pixels each source pixel was copied to.
    static func resampleBackward(_ dy: UnsafePointer<Float>, _ h0: Int, _ w0: Int, _ h1: Int, _ w1: Int, _ C: Int,
                                 _ dx: UnsafeMutablePointer<Float>) {
        dx.update(repeating: 0, count: h0 * w0 * C)
        for y in 0..<h1 {
            let sy = y * h0 / h1
            for xx in 0..<w1 {
                let s = dx + (sy * w0 + xx * w0 / w1) * C, o = dy + (y * w1 + xx) * C
                for c in 0..<C { s[c] += o[c] }
            }
        }
    }
}
