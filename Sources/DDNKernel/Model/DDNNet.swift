// The recurrence-layout DDN level network: a small U-Net (full → ½ → ¼ resolution and back)
// applied to the previous level's chosen image x̂_{l−1}, with the level as input (a learned
// per-level channel bias), K per-level 1×1 candidate heads predicting residuals added to x̂_{l−1},
// a per-level selection head π_l and a halting head h_l on the globally pooled bottleneck.
//
//   x̂ [H,W,C] ─conv3→ +levelBias[l] → lrelu ─ a0r [H,W,c]
//   a0r ─conv3→ lrelu ─ a1r [H,W,c] ──────────────────────────────────────┐ (skip)
//   pool → p1 [H/2,W/2,c] ─conv3→ norm → lrelu ─ a2r [H/2,W/2,2c] ───────┐ │
//   pool → p2 [H/4,W/4,2c] ─conv3→ norm → lrelu ─ a3r [H/4,W/4,4c]       │ │
//        a3r ─mean→ g [4c] ─linear_l→ selection logits [K], halt logit [1] │ │
//   a3r ─conv1→ t2 [H/4,W/4,2c] ─up2×+ a2r → u2c ─conv3→ lrelu ─ a4r ─────┘ │
//   a4r ─conv1→ t1 [H/2,W/2,c]  ─up2×+ a1r → u1c ─conv3→ lrelu ─ F [H,W,c] ─┘
//   F ─conv1 (heads of level l)→ r [H,W,K·C];  candidate k = x̂ + r[·, k·C ..< (k+1)·C]
//
// Parameters live in one flat Float array in the order of `ParamLayout` (Spec/MODEL.md §4).

/// Offsets of every parameter tensor in the flat parameter array (Spec/MODEL.md §4 order).
struct ParamLayout: Sendable {
    let H: Int, W: Int, C: Int, c: Int, c2: Int, c4: Int, K: Int, L: Int
    var conv0W = 0, conv0B = 0, levelBias = 0
    var conv1W = 0, conv1B = 0
    var conv2W = 0, conv2B = 0, norm2G = 0, norm2B = 0
    var conv3W = 0, conv3B = 0, norm3G = 0, norm3B = 0
    var up2W = 0, up2B = 0, conv4W = 0, conv4B = 0
    var up1W = 0, up1B = 0, conv5W = 0, conv5B = 0
    var headW = 0, headB = 0, selW = 0, selB = 0, haltW = 0, haltB = 0
    var total = 0
    /// The ordered list (name, offset, count) — drives init, file order and tests.
    var tensors: [(name: String, offset: Int, count: Int)] = []

    init(_ cfg: DDNConfig) {
        H = cfg.height; W = cfg.width; C = cfg.channels; c = cfg.baseChannels; c2 = 2 * c; c4 = 4 * c
        K = cfg.candidates; L = cfg.levels
        var n = 0
        var list: [(String, Int, Int)] = []
        func take(_ name: String, _ count: Int) -> Int { let o = n; n += count; list.append((name, o, count)); return o }
        conv0W = take("conv0.w", 9 * C * c); conv0B = take("conv0.b", c); levelBias = take("level.bias", L * c)
        conv1W = take("conv1.w", 9 * c * c); conv1B = take("conv1.b", c)
        conv2W = take("conv2.w", 9 * c * c2); conv2B = take("conv2.b", c2)
        norm2G = take("norm2.gamma", c2); norm2B = take("norm2.beta", c2)
        conv3W = take("conv3.w", 9 * c2 * c4); conv3B = take("conv3.b", c4)
        norm3G = take("norm3.gamma", c4); norm3B = take("norm3.beta", c4)
        up2W = take("up2.w", c4 * c2); up2B = take("up2.b", c2)
        conv4W = take("conv4.w", 9 * c2 * c2); conv4B = take("conv4.b", c2)
        up1W = take("up1.w", c2 * c); up1B = take("up1.b", c)
        conv5W = take("conv5.w", 9 * c * c); conv5B = take("conv5.b", c)
        headW = take("head.w", L * c * K * C); headB = take("head.b", L * K * C)
        selW = take("select.w", L * c4 * K); selB = take("select.b", L * K)
        haltW = take("halt.w", L * c4); haltB = take("halt.b", L)
        total = n
        tensors = list.map { (name: $0.0, offset: $0.1, count: $0.2) }
    }

    var P: Int { H * W }          // full-resolution pixels
    var P2: Int { (H / 2) * (W / 2) }
    var P4: Int { (H / 4) * (W / 4) }
    var KC: Int { K * C }
    /// Level index used for parameters: levels beyond the trained depth reuse the last.
    func lv(_ l: Int) -> Int { min(max(l, 0), L - 1) }
    func headWOffset(_ l: Int) -> Int { headW + lv(l) * c * KC }
    func headBOffset(_ l: Int) -> Int { headB + lv(l) * KC }
    func selWOffset(_ l: Int) -> Int { selW + lv(l) * c4 * K }
    func selBOffset(_ l: Int) -> Int { selB + lv(l) * K }

    /// Multiply-adds of one level's forward: trunk, and one head (the encoder computes K heads).
    var trunkMACs: Int {
        P * 9 * C * c + P * 9 * c * c + P2 * 9 * c * c2 + P4 * 9 * c2 * c4 + P4 * c4 * c2
            + P2 * 9 * c2 * c2 + P2 * c2 * c + P * 9 * c * c + c4 * (K + 1)
    }
    var headMACs: Int { P * c * C }
}

/// Activations of one image at one level (forward) and their gradients (backward). One per thread.
final class Workspace: @unchecked Sendable {
    let lay: ParamLayout
    private let buf: UnsafeMutablePointer<Float>
    private let count: Int
    // forward
    let xin, a0, a0r, a1, a1r, p1, a2, n2xn, n2inv, a2n, a2r, p2, a3, n3xn, n3inv, a3n, a3r, g, logits, halt: UnsafeMutablePointer<Float>
    let t2, u2c, a4, a4r, t1, u1c, a5, a5r, heads: UnsafeMutablePointer<Float>
    // backward
    let dF, da5, du1c, dt1, da4r, da4, du2c, dt2, da3r, da3n, da3, dp2, da2r, da2n, da2, dp1, da1r, da1, da0r, da0, dg, tmp: UnsafeMutablePointer<Float>

    init(_ lay: ParamLayout) {
        self.lay = lay
        let P = lay.P, P2 = lay.P2, P4 = lay.P4, c = lay.c, c2 = lay.c2, c4 = lay.c4
        var sizes: [Int] = []
        // forward sizes in declaration order
        sizes += [P * lay.C, P * c, P * c, P * c, P * c, P2 * c, P2 * c2, P2 * c2, c2, P2 * c2, P2 * c2, P4 * c2,
                  P4 * c4, P4 * c4, c4, P4 * c4, P4 * c4, c4, lay.K, 1]
        sizes += [P4 * c2, P2 * c2, P2 * c2, P2 * c2, P2 * c, P * c, P * c, P * c, P * lay.KC]
        sizes += [P * c, P * c, P * c, P2 * c, P2 * c2, P2 * c2, P2 * c2, P4 * c2, P4 * c4, P4 * c4, P4 * c4, P4 * c2,
                  P2 * c2, P2 * c2, P2 * c2, P2 * c, P * c, P * c, P * c, P * c, c4, 2 * max(c4, lay.KC)]
        count = sizes.reduce(0, +)
        buf = .allocate(capacity: count)
        buf.initialize(repeating: 0, count: count)
        var ptrs: [UnsafeMutablePointer<Float>] = []
        var o = 0
        for s in sizes { ptrs.append(buf + o); o += s }
        var i = 0
        func nx() -> UnsafeMutablePointer<Float> { defer { i += 1 }; return ptrs[i] }
        xin = nx(); a0 = nx(); a0r = nx(); a1 = nx(); a1r = nx(); p1 = nx(); a2 = nx(); n2xn = nx(); n2inv = nx()
        a2n = nx(); a2r = nx(); p2 = nx(); a3 = nx(); n3xn = nx(); n3inv = nx(); a3n = nx(); a3r = nx(); g = nx()
        logits = nx(); halt = nx()
        t2 = nx(); u2c = nx(); a4 = nx(); a4r = nx(); t1 = nx(); u1c = nx(); a5 = nx(); a5r = nx(); heads = nx()
        dF = nx(); da5 = nx(); du1c = nx(); dt1 = nx(); da4r = nx(); da4 = nx(); du2c = nx(); dt2 = nx(); da3r = nx()
        da3n = nx(); da3 = nx(); dp2 = nx(); da2r = nx(); da2n = nx(); da2 = nx(); dp1 = nx(); da1r = nx(); da1 = nx()
        da0r = nx(); da0 = nx(); dg = nx(); tmp = nx()
    }
    deinit { buf.deallocate() }
}

/// Flip-transposed kernels for the input gradients (recomputed after every optimiser step).
final class TransposedWeights: @unchecked Sendable {
    let lay: ParamLayout
    let w1, w2, w3, w4, w5, u2, u1: UnsafeMutablePointer<Float>
    init(_ lay: ParamLayout) {
        self.lay = lay
        let c = lay.c, c2 = lay.c2, c4 = lay.c4
        w1 = .allocate(capacity: 9 * c * c); w2 = .allocate(capacity: 9 * c * c2); w3 = .allocate(capacity: 9 * c2 * c4)
        w4 = .allocate(capacity: 9 * c2 * c2); w5 = .allocate(capacity: 9 * c * c)
        u2 = .allocate(capacity: c4 * c2); u1 = .allocate(capacity: c2 * c)
    }
    func update(_ p: UnsafePointer<Float>) {
        let c = lay.c, c2 = lay.c2, c4 = lay.c4
        flipTranspose(p + lay.conv1W, k: 3, cin: c, cout: c, into: w1)
        flipTranspose(p + lay.conv2W, k: 3, cin: c, cout: c2, into: w2)
        flipTranspose(p + lay.conv3W, k: 3, cin: c2, cout: c4, into: w3)
        flipTranspose(p + lay.conv4W, k: 3, cin: c2, cout: c2, into: w4)
        flipTranspose(p + lay.conv5W, k: 3, cin: c, cout: c, into: w5)
        flipTranspose(p + lay.up2W, k: 1, cin: c4, cout: c2, into: u2)
        flipTranspose(p + lay.up1W, k: 1, cin: c2, cout: c, into: u1)
    }
    deinit { for q in [w1, w2, w3, w4, w5, u2, u1] { q.deallocate() } }
}

enum DDNNet {
    /// Trunk forward of level `l` on ws.xin: fills every activation up to F = ws.a5r, the selection
    /// logits and the halt logit. Fixed operation order (see Layers.swift).
    static func trunk(_ lay: ParamLayout, _ p: UnsafePointer<Float>, level l: Int, leak: Float, ws: Workspace) {
        let H = lay.H, W = lay.W, c = lay.c, c2 = lay.c2, c4 = lay.c4, P = lay.P, P2 = lay.P2, P4 = lay.P4
        let lb = p + lay.levelBias + lay.lv(l) * c
        convForward(ws.xin, h: H, w: W, cin: lay.C, k: 3, weight: p + lay.conv0W, bias: p + lay.conv0B, cout: c, out: ws.a0)
        for i in 0..<P { let r = ws.a0 + i * c; for ch in 0..<c { r[ch] = r[ch] + lb[ch] } }
        leakyForward(ws.a0, n: P * c, leak: leak, out: ws.a0r)
        convForward(ws.a0r, h: H, w: W, cin: c, k: 3, weight: p + lay.conv1W, bias: p + lay.conv1B, cout: c, out: ws.a1)
        leakyForward(ws.a1, n: P * c, leak: leak, out: ws.a1r)
        poolForward(ws.a1r, h: H, w: W, c: c, out: ws.p1)
        convForward(ws.p1, h: H / 2, w: W / 2, cin: c, k: 3, weight: p + lay.conv2W, bias: p + lay.conv2B, cout: c2, out: ws.a2)
        normForward(ws.a2, p: P2, c: c2, gamma: p + lay.norm2G, beta: p + lay.norm2B, xn: ws.n2xn, inv: ws.n2inv, out: ws.a2n)
        leakyForward(ws.a2n, n: P2 * c2, leak: leak, out: ws.a2r)
        poolForward(ws.a2r, h: H / 2, w: W / 2, c: c2, out: ws.p2)
        convForward(ws.p2, h: H / 4, w: W / 4, cin: c2, k: 3, weight: p + lay.conv3W, bias: p + lay.conv3B, cout: c4, out: ws.a3)
        normForward(ws.a3, p: P4, c: c4, gamma: p + lay.norm3G, beta: p + lay.norm3B, xn: ws.n3xn, inv: ws.n3inv, out: ws.a3n)
        leakyForward(ws.a3n, n: P4 * c4, leak: leak, out: ws.a3r)
        meanPoolForward(ws.a3r, p: P4, c: c4, out: ws.g)
        linearForward(ws.g, nin: c4, weight: p + lay.selWOffset(l), bias: p + lay.selBOffset(l), nout: lay.K, out: ws.logits)
        linearForward(ws.g, nin: c4, weight: p + lay.haltW + lay.lv(l) * c4, bias: p + lay.haltB + lay.lv(l), nout: 1, out: ws.halt)
        convForward(ws.a3r, h: H / 4, w: W / 4, cin: c4, k: 1, weight: p + lay.up2W, bias: p + lay.up2B, cout: c2, out: ws.t2)
        ws.u2c.update(from: ws.a2r, count: P2 * c2)
        upsampleAdd(ws.t2, h: H / 2, w: W / 2, c: c2, out: ws.u2c)
        convForward(ws.u2c, h: H / 2, w: W / 2, cin: c2, k: 3, weight: p + lay.conv4W, bias: p + lay.conv4B, cout: c2, out: ws.a4)
        leakyForward(ws.a4, n: P2 * c2, leak: leak, out: ws.a4r)
        convForward(ws.a4r, h: H / 2, w: W / 2, cin: c2, k: 1, weight: p + lay.up1W, bias: p + lay.up1B, cout: c, out: ws.t1)
        ws.u1c.update(from: ws.a1r, count: P * c)
        upsampleAdd(ws.t1, h: H, w: W, c: c, out: ws.u1c)
        convForward(ws.u1c, h: H, w: W, cin: c, k: 3, weight: p + lay.conv5W, bias: p + lay.conv5B, cout: c, out: ws.a5)
        leakyForward(ws.a5, n: P * c, leak: leak, out: ws.a5r)
    }

    /// All K heads: ws.heads[p][k·C+ch] = residual of candidate k (add ws.xin for the candidate).
    static func allHeads(_ lay: ParamLayout, _ p: UnsafePointer<Float>, level l: Int, ws: Workspace) {
        convForward(ws.a5r, h: lay.H, w: lay.W, cin: lay.c, k: 1, weight: p + lay.headWOffset(l), bias: p + lay.headBOffset(l),
                    cout: lay.KC, out: ws.heads)
    }

    /// Candidate k of level l into out[P·C] = x̂ + residual, with the same operation order as
    /// `allHeads` (bias, then input channels in order), so both give identical bits.
    static func candidate(_ lay: ParamLayout, _ p: UnsafePointer<Float>, level l: Int, k: Int, ws: Workspace,
                          out: UnsafeMutablePointer<Float>) {
        let C = lay.C, c = lay.c, KC = lay.KC
        let wt = p + lay.headWOffset(l) + k * C, b = p + lay.headBOffset(l) + k * C
        for i in 0..<lay.P {
            let f = ws.a5r + i * c
            for ch in 0..<C {
                var s = b[ch]
                for ci in 0..<c { s = s + f[ci] * wt[ci * KC + ch] }
                out[i * C + ch] = ws.xin[i * C + ch] + s
            }
        }
    }

    /// Backward of the trunk. Inputs: ws.dF = ∂L/∂F [P·c] and ws.dg = ∂L/∂g [4c] (from the
    /// selection head). Adds all trunk parameter gradients into `d`. Destroys ws.dF.
    static func trunkBackward(_ lay: ParamLayout, _ p: UnsafePointer<Float>, level l: Int, leak: Float, ws: Workspace,
                              wt: TransposedWeights, d: UnsafeMutablePointer<Float>) {
        let H = lay.H, W = lay.W, c = lay.c, c2 = lay.c2, c4 = lay.c4, P = lay.P, P2 = lay.P2, P4 = lay.P4
        leakyBackward(ws.a5, n: P * c, leak: leak, dy: ws.dF, dx: ws.da5)
        convBackward(ws.u1c, h: H, w: W, cin: c, k: 3, wt: wt.w5, cout: c, dy: ws.da5, dw: d + lay.conv5W, db: d + lay.conv5B, dx: ws.du1c)
        upsampleBackward(dy: ws.du1c, h: H, w: W, c: c, dx: ws.dt1)
        convBackward(ws.a4r, h: H / 2, w: W / 2, cin: c2, k: 1, wt: wt.u1, cout: c, dy: ws.dt1, dw: d + lay.up1W, db: d + lay.up1B, dx: ws.da4r)
        leakyBackward(ws.a4, n: P2 * c2, leak: leak, dy: ws.da4r, dx: ws.da4)
        convBackward(ws.u2c, h: H / 2, w: W / 2, cin: c2, k: 3, wt: wt.w4, cout: c2, dy: ws.da4, dw: d + lay.conv4W, db: d + lay.conv4B, dx: ws.du2c)
        upsampleBackward(dy: ws.du2c, h: H / 2, w: W / 2, c: c2, dx: ws.dt2)
        convBackward(ws.a3r, h: H / 4, w: W / 4, cin: c4, k: 1, wt: wt.u2, cout: c2, dy: ws.dt2, dw: d + lay.up2W, db: d + lay.up2B, dx: ws.da3r)
        // selection head: g = mean(a3r) → linear (halting head trains on detached g)
        linearBackward(ws.g, nin: c4, weight: p + lay.selWOffset(l), nout: lay.K, dy: ws.logits /* holds dlogits */,
                       dw: d + lay.selWOffset(l), db: d + lay.selBOffset(l), dx: ws.dg)
        let s = 1 / Float(P4)
        for i in 0..<P4 { let r = ws.da3r + i * c4; for ch in 0..<c4 { r[ch] += ws.dg[ch] * s } }
        leakyBackward(ws.a3n, n: P4 * c4, leak: leak, dy: ws.da3r, dx: ws.da3n)
        normBackward(xn: ws.n3xn, inv: ws.n3inv, p: P4, c: c4, gamma: p + lay.norm3G, dy: ws.da3n, dgamma: d + lay.norm3G,
                     dbeta: d + lay.norm3B, dx: ws.da3, tmp: ws.tmp)
        convBackward(ws.p2, h: H / 4, w: W / 4, cin: c2, k: 3, wt: wt.w3, cout: c4, dy: ws.da3, dw: d + lay.conv3W, db: d + lay.conv3B, dx: ws.dp2)
        poolBackward(dy: ws.dp2, h: H / 2, w: W / 2, c: c2, dx: ws.da2r)
        for i in 0..<(P2 * c2) { ws.da2r[i] += ws.du2c[i] }          // skip into u2c
        leakyBackward(ws.a2n, n: P2 * c2, leak: leak, dy: ws.da2r, dx: ws.da2n)
        normBackward(xn: ws.n2xn, inv: ws.n2inv, p: P2, c: c2, gamma: p + lay.norm2G, dy: ws.da2n, dgamma: d + lay.norm2G,
                     dbeta: d + lay.norm2B, dx: ws.da2, tmp: ws.tmp)
        convBackward(ws.p1, h: H / 2, w: W / 2, cin: c, k: 3, wt: wt.w2, cout: c2, dy: ws.da2, dw: d + lay.conv2W, db: d + lay.conv2B, dx: ws.dp1)
        poolBackward(dy: ws.dp1, h: H, w: W, c: c, dx: ws.da1r)
        for i in 0..<(P * c) { ws.da1r[i] += ws.du1c[i] }            // skip into u1c
        leakyBackward(ws.a1, n: P * c, leak: leak, dy: ws.da1r, dx: ws.da1)
        convBackward(ws.a0r, h: H, w: W, cin: c, k: 3, wt: wt.w1, cout: c, dy: ws.da1, dw: d + lay.conv1W, db: d + lay.conv1B, dx: ws.da0r)
        leakyBackward(ws.a0, n: P * c, leak: leak, dy: ws.da0r, dx: ws.da0)
        let dlb = d + lay.levelBias + lay.lv(l) * c
        for i in 0..<P { let r = ws.da0 + i * c; for ch in 0..<c { dlb[ch] += r[ch] } }
        convBackward(ws.xin, h: H, w: W, cin: lay.C, k: 3, wt: nil, cout: c, dy: ws.da0, dw: d + lay.conv0W, db: d + lay.conv0B, dx: nil)
    }

    /// Backward of head k only, given dr[P·C] = ∂L/∂candidate_k: adds head gradients and writes ws.dF.
    static func headBackward(_ lay: ParamLayout, _ p: UnsafePointer<Float>, level l: Int, k: Int, dr: UnsafePointer<Float>,
                             ws: Workspace, d: UnsafeMutablePointer<Float>) {
        let C = lay.C, c = lay.c, KC = lay.KC
        let w = p + lay.headWOffset(l) + k * C
        let dw = d + lay.headWOffset(l) + k * C, db = d + lay.headBOffset(l) + k * C
        for i in 0..<lay.P {
            let f = ws.a5r + i * c, g = ws.dF + i * c
            for ci in 0..<c { g[ci] = 0 }
            for ch in 0..<C {
                let r = dr[i * C + ch]
                db[ch] += r
                for ci in 0..<c { dw[ci * KC + ch] += f[ci] * r; g[ci] += r * w[ci * KC + ch] }
            }
        }
    }
}
