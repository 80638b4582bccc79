// The residual network: p(x_i | causal neighbourhood of x, a window of x̂ around i, position), one
// softmax over the 2^b values of each sub-pixel (Spec/MODEL.md §8). A local autoregressive model
// in the shape of NeLLoC (a small causal receptive field, a few narrow layers), conditioned on the
// DDN's reconstruction x̂, which tells what lies to the right and below.
//
//   features f (F values, in this order; 0 outside the image):
//     x̂ window  (2r+1)² pixels × C channels, rows top to bottom, x̂ in [-1, 1]
//     causal    17 pixels × C channels (`causalOffsets`), v = s·(2/maxValue) − 1
//     current   C values when C > 1: the channels of this pixel already coded (c' < c), else 0
//   z1 = (pos[i] + e1) + f·W1 (pos: a learned bias per sub-pixel position, [P·C × H1]; W1: [F × H1])
//   a1 = lrelu(z1)
//   z2 = (b2 + e2) + a1·W2    (W2: [H1 × H2])
//   (e1, e2: the path embedding, Σ over the path's levels of a learned vector per level and
//   candidate, when the model has one (§8.1); without it the terms are absent, not zero)
//   a2 = lrelu(z2)
//   logits = b3 + a2·W3      (W3: [H2 × V], V = 2^b)
//
// Inference runs in two stages so the decoder can do the x̂ part for all pixels at once:
//   stage A: z1 = pos + (x̂ window features)·W1[0..<Fw]       (every sub-pixel, after the path)
//   stage B: z1 = z1 + (causal + current features)·W1[Fw..<F]; the rest   (as the pixels arrive)
// Both are `gemmAccumulate`, so z1 is the same float sum in the same order either way.

/// Shapes and parameter offsets of the residual network of a model (`DDNConfig.residualHidden`
/// > 0). Offsets index the model's flat parameter array, after the DDN's own parameters.
struct ResidualNetLayout: Sendable {
    /// Image shape: height, width, channels; P = H·W pixels; bit depth b.
    let H: Int, W: Int, C: Int, P: Int, bitDepth: Int
    /// Hidden widths H1 and H2, x̂ window radius r, alphabet V = 2^b.
    let hidden: Int, hidden2: Int, radius: Int, V: Int
    /// Feature counts: x̂ window, causal (+ current), total.
    let windowFeatures: Int, causalFeatures: Int, F: Int
    /// Parameter offsets: pos [P·C·H1], w1 [F·H1], w2 [H1·H2], b2 [H2], w3 [H2·V], b3 [V], and
    /// with a path embedding e1 [L·K·H1], e2 [L·K·H2] (`e1 == end` without one); `end` = one past.
    let pos: Int, w1: Int, w2: Int, b2: Int, w3: Int, b3: Int, e1: Int, e2: Int, end: Int
    let leak: Float
    /// Whether the network is conditioned on the path (`DDNConfig.pathEmbedding`), and the
    /// embedding table's levels L and candidates K.
    let embedding: Bool, levels: Int, K: Int

    /// Causal neighbours (dy, dx) in feature order: two rows above at dx −3…3, then the row's
    /// three pixels to the left.
    static let causalOffsets: [(dy: Int, dx: Int)] =
        (-3...3).map { (-2, $0) } + (-3...3).map { (-1, $0) } + (-3 ... -1).map { (0, $0) }

    init(_ c: DDNConfig, offset: Int) {
        H = c.height; W = c.width; C = c.channels; P = c.height * c.width; bitDepth = c.bitDepth
        hidden = c.residualHidden; hidden2 = c.residualHidden2; radius = c.residualWindow; V = 1 << c.bitDepth; leak = c.leak
        let side = 2 * radius + 1
        windowFeatures = side * side * C
        causalFeatures = ResidualNetLayout.causalOffsets.count * C + (C > 1 ? C : 0)
        F = windowFeatures + causalFeatures
        pos = offset
        w1 = pos + P * C * hidden
        w2 = w1 + F * hidden
        b2 = w2 + hidden * hidden2
        w3 = b2 + hidden2
        b3 = w3 + hidden2 * V
        embedding = c.pathEmbedding; levels = c.levels; K = c.candidates
        e1 = b3 + V
        e2 = e1 + (embedding ? levels * K * hidden : 0)
        end = e2 + (embedding ? levels * K * hidden2 : 0)
    }

    /// The path's bias on both hidden layers (Spec/MODEL.md §8.1), nil without a path embedding:
    /// [H1 + H2], e[o] = Σ_l E[min(l, L−1)][k_l][o] summed in level order from 0, then added
    /// to pos and b2: (pos[i][o] + e1[o]) and (b2[o] + e2[o]). An empty path gives zeros.
    /// - Parameters: p: all parameters; path: the chosen candidates k_0 … k_{d−1} (each < K).
    func pathBias(_ p: UnsafePointer<Float>, path: [Int]) -> [Float]? {
        guard embedding else { return nil }
        var e = [Float](repeating: 0, count: hidden + hidden2)
        for (l, k) in path.enumerated() {
            let row = min(l, levels - 1) * K + k
            for o in 0..<hidden { e[o] = e[o] + p[e1 + row * hidden + o] }
            for o in 0..<hidden2 { e[hidden + o] = e[hidden + o] + p[e2 + row * hidden2 + o] }
        }
        for o in 0..<hidden2 { e[hidden + o] = p[b2 + o] + e[hidden + o] }
        return e
    }

    /// Parameters of the network.
    var count: Int { end - pos }
    /// Multiply-adds per image (all sub-pixels, both stages).
    var macsPerImage: Int { P * C * (F * hidden + hidden * hidden2 + hidden2 * V) }

    /// Float value of each sample value, v = s·(2/maxValue) − 1 (as `DDNModel.floats`).
    func sampleFloats() -> [Float] {
        let k = 2 / Float(V - 1)
        return (0..<V).map { Float($0) * k - 1 }
    }

    /// Stage A features of every sub-pixel: the x̂ window. - Parameters: xhat: [P·C] in [-1, 1];
    /// out: [P·C × windowFeatures], row i·C + c (the same window for every channel of a pixel).
    func windowFeatures(_ xhat: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>) {
        let r = radius, Fw = windowFeatures
        for y in 0..<H {
            for x in 0..<W {
                let row = out + (y * W + x) * C * Fw
                var j = 0
                for dy in -r...r {
                    let yy = y + dy
                    for dx in -r...r {
                        let xx = x + dx
                        let inside = yy >= 0 && yy < H && xx >= 0 && xx < W
                        for ch in 0..<C { row[j] = inside ? xhat[(yy * W + xx) * C + ch] : 0; j += 1 }
                    }
                }
                for ch in 1..<C { (row + ch * Fw).update(from: row, count: Fw) }
            }
        }
    }

    /// Stage B features of sub-pixel (y, x, c) from the samples coded so far.
    /// - Parameters: samples: [P·C] (only positions before (y, x, c) in raster order are read);
    ///   value: `sampleFloats()`; out: [causalFeatures].
    @inline(__always)
    func causalFeatures(_ samples: UnsafePointer<UInt16>, value: UnsafePointer<Float>, y: Int, x: Int, c: Int,
                        out: UnsafeMutablePointer<Float>) {
        var j = 0
        for (dy, dx) in ResidualNetLayout.causalOffsets {
            let yy = y + dy, xx = x + dx
            let inside = yy >= 0 && xx >= 0 && xx < W
            for ch in 0..<C { out[j] = inside ? value[Int(samples[(yy * W + xx) * C + ch])] : 0; j += 1 }
        }
        if C > 1 {
            for ch in 0..<C { out[j] = ch < c ? value[Int(samples[(y * W + x) * C + ch])] : 0; j += 1 }
        }
    }

    /// Stage B features of every sub-pixel of a known image: row i = (y·W + x)·C + c at
    /// `out + i·stride` (causalFeatures values each).
    func causalFeaturesOfAll(_ samples: UnsafePointer<UInt16>, value: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, stride: Int) {
        for y in 0..<H { for x in 0..<W { for c in 0..<C {
            causalFeatures(samples, value: value, y: y, x: x, c: c, out: out + ((y * W + x) * C + c) * stride)
        } } }
    }

    /// Stage A for every sub-pixel: z = pos (+ e1) + window·W1[0..<Fw]. - Parameters: window:
    /// [P·C × Fw] (`windowFeatures`); z: [P·C × hidden] (written); bias: `pathBias` or nil.
    func stageA(_ p: UnsafePointer<Float>, window: UnsafePointer<Float>, z: UnsafeMutablePointer<Float>, bias: [Float]?) {
        let n = P * C * hidden
        z.update(from: p + pos, count: n)
        if let bias { for r in 0..<(P * C) { let zr = z + r * hidden; for o in 0..<hidden { zr[o] = zr[o] + bias[o] } } }
        gemmAccumulate(m: P * C, n: hidden, k: windowFeatures, a: window, aRow: windowFeatures, aCol: 1,
                       b: p + w1, ldb: hidden, c: z, ldc: hidden)
    }

    /// Stage B for `rows` sub-pixels: z1 += causal·W1[Fw..<F], then the second layer and the logits.
    /// - Parameters: causal: [rows × causalFeatures]; z: [rows × H1] (stage A's values; left
    ///   holding a1); second: each row's second-layer bias (`secondBias`); z2: [rows × H2] (left
    ///   holding a2); logits: [rows × V] (written).
    @inline(__always)
    func stageB(_ p: UnsafePointer<Float>, rows: Int, causal: UnsafePointer<Float>, z: UnsafeMutablePointer<Float>,
                second: SecondBias, z2: UnsafeMutablePointer<Float>, logits: UnsafeMutablePointer<Float>) {
        gemmAccumulate(m: rows, n: hidden, k: causalFeatures, a: causal, aRow: causalFeatures, aCol: 1,
                       b: p + w1 + windowFeatures * hidden, ldb: hidden, c: z, ldc: hidden)
        head(p, rows: rows, a1: z, second: second, z2: z2, logits: logits)
    }

    /// Each row's second-layer bias (b2, or b2 + e2 with a path embedding): row r at
    /// `values[r·stride…]` (stride 0: one bias for every row).
    struct SecondBias { var values: [Float]; var stride: Int }

    /// The second-layer bias of one image: b2, or the b2 + e2 part of `pathBias`.
    func secondBias(_ p: UnsafePointer<Float>, bias: [Float]?) -> SecondBias {
        SecondBias(values: bias.map { Array($0[hidden...]) } ?? Array(UnsafeBufferPointer(start: p + b2, count: hidden2)), stride: 0)
    }

    /// a1 = lrelu(z1) in place, z2 = bias + a1·W2, a2 = lrelu(z2) in place, logits = b3 + a2·W3.
    @inline(__always)
    func head(_ p: UnsafePointer<Float>, rows: Int, a1: UnsafeMutablePointer<Float>, second: SecondBias,
              z2: UnsafeMutablePointer<Float>, logits: UnsafeMutablePointer<Float>) {
        let lk = leak
        for i in 0..<(rows * hidden) { let v = a1[i]; a1[i] = v >= 0 ? v : lk * v }
        second.values.withUnsafeBufferPointer { sb in
            for r in 0..<rows { (z2 + r * hidden2).update(from: sb.baseAddress! + r * second.stride, count: hidden2) }
        }
        gemmAccumulate(m: rows, n: hidden2, k: hidden, a: a1, aRow: hidden, aCol: 1, b: p + w2, ldb: hidden2, c: z2, ldc: hidden2)
        for i in 0..<(rows * hidden2) { let v = z2[i]; z2[i] = v >= 0 ? v : lk * v }
        for r in 0..<rows { (logits + r * V).update(from: p + b3, count: V) }
        gemmAccumulate(m: rows, n: V, k: hidden2, a: z2, aRow: hidden2, aCol: 1, b: p + w3, ldb: V, c: logits, ldc: V)
    }
}
