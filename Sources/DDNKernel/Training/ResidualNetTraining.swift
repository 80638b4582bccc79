import Foundation

// Training of the residual network (Spec/MODEL.md §8): the forward pass the coder runs (the same
// features in the same order, the same layers; the products fused, `trainingGemm`, so the float
// sums differ from the coder's in the last places), then the cross-entropy of the true samples in
// bits per sub-pixel and its hand-written backward pass, down to the gradient with respect to x̂
// (which flows on into the DDN's chosen candidates).

/// Buffers of the network's forward and backward pass for one image; one per shard.
final class ResidualNetWorkspace: @unchecked Sendable {
    /// Features [rows × F], pre-activations z1 [rows × H1] and z2 [rows × H2], activations a1, a2,
    /// logits then their gradient g [rows × V], gradients of a2/z2 and a1/z1, of the window
    /// features, and of x̂ [rows].
    let x, z1, a1, z2, a2, g, d2, d1, dxw, dxhat: UnsafeMutablePointer<Float>
    let values: [Float]
    private let all: [UnsafeMutablePointer<Float>]
    init(_ net: ResidualNetLayout) {
        let rows = net.P * net.C
        func alloc(_ n: Int) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: n); p.initialize(repeating: 0, count: n); return p
        }
        x = alloc(rows * net.F); z1 = alloc(rows * net.hidden); a1 = alloc(rows * net.hidden)
        z2 = alloc(rows * net.hidden2); a2 = alloc(rows * net.hidden2); g = alloc(rows * net.V)
        d2 = alloc(rows * net.hidden2); d1 = alloc(rows * net.hidden); dxw = alloc(rows * net.windowFeatures); dxhat = alloc(rows)
        values = net.sampleFloats()
        all = [x, z1, a1, z2, a2, g, d2, d1, dxw, dxhat]
    }
    deinit { for p in all { p.deallocate() } }
}

/// Transposed copies of the network's weights for the backward pass, refreshed once per step.
final class ResidualNetTransposed: @unchecked Sendable {
    /// W3ᵀ [V × H2], W2ᵀ [H2 × H1] and the x̂-window rows of W1, transposed: [H1 × Fw].
    let w3t, w2t, w1wt: UnsafeMutablePointer<Float>
    init(_ net: ResidualNetLayout) {
        w3t = .allocate(capacity: net.V * net.hidden2); w2t = .allocate(capacity: net.hidden2 * net.hidden)
        w1wt = .allocate(capacity: net.hidden * net.windowFeatures)
    }
    deinit { w3t.deallocate(); w2t.deallocate(); w1wt.deallocate() }
    func update(_ net: ResidualNetLayout, _ p: UnsafePointer<Float>) {
        let H1 = net.hidden, H2 = net.hidden2, V = net.V, Fw = net.windowFeatures
        for o in 0..<H2 { for v in 0..<V { w3t[v * H2 + o] = p[net.w3 + o * V + v] } }
        for i in 0..<H1 { for o in 0..<H2 { w2t[o * H1 + i] = p[net.w2 + i * H2 + o] } }
        for j in 0..<Fw { for o in 0..<H1 { w1wt[o * Fw + j] = p[net.w1 + j * H1 + o] } }
    }
}

extension ResidualNetLayout {
    /// All features of a known image, [P·C × F] rows (window, then causal), as the coder builds them.
    func trainingFeatures(samples: UnsafePointer<UInt16>, xhat: UnsafePointer<Float>, ws: ResidualNetWorkspace) {
        let rows = P * C, Fw = windowFeatures
        // window features go to the left part of each row: build them packed in dxw, then spread
        windowFeatures(xhat, out: ws.dxw)
        ws.values.withUnsafeBufferPointer { causalFeaturesOfAll(samples, value: $0.baseAddress!, out: ws.x + Fw, stride: F) }
        for r in 0..<rows { (ws.x + r * F).update(from: ws.dxw + r * Fw, count: Fw) }
    }

    /// Forward and backward of one image: adds the gradient of the image's bits per sub-pixel
    /// (times `weight`) into `d` (the network's parameters, the path embedding's rows of `path`
    /// included), and if `wantXhatGradient`, writes ∂/∂x̂ into `ws.dxhat` [P·C].
    /// - Parameters: samples: [P·C]; xhat: [P·C] at full size in [-1, 1]; path: the candidates
    ///   chosen (empty at depth 0; read only with a path embedding); p: all parameters.
    /// - Returns: the image's bits (Σ −log2 softmax(logits)[x], float, before any weight).
    func trainImage(samples: UnsafePointer<UInt16>, xhat: UnsafePointer<Float>, path: [Int], p: UnsafePointer<Float>,
                    transposed t: ResidualNetTransposed, ws: ResidualNetWorkspace, d: UnsafeMutablePointer<Float>,
                    weight: Float, wantXhatGradient: Bool) -> Double {
        let rows = P * C
        let bits = forward(samples: samples, xhat: xhat, path: path, p: p, ws: ws, gradientScale: Float(Double(weight) / 0.6931471805599453 / Double(rows)))
        backward(path: path, p: p, transposed: t, ws: ws, d: d, wantXhatGradient: wantXhatGradient)
        return bits
    }

    /// The image's bits under the network without any gradient (the trainer's measure of a
    /// candidate, `Trainer.realBitsCandidates`). Arguments as `trainImage`'s; overwrites `ws`.
    func bits(samples: UnsafePointer<UInt16>, xhat: UnsafePointer<Float>, path: [Int], p: UnsafePointer<Float>,
              ws: ResidualNetWorkspace) -> Double {
        forward(samples: samples, xhat: xhat, path: path, p: p, ws: ws, gradientScale: 0)
    }

    /// The forward pass as the coder computes it, then the softmax cross-entropy in bits; `ws.g`
    /// is left holding `gradientScale` × ∂(cross-entropy in nats)/∂logits.
    private func forward(samples: UnsafePointer<UInt16>, xhat: UnsafePointer<Float>, path: [Int], p: UnsafePointer<Float>,
                         ws: ResidualNetWorkspace, gradientScale scale: Float) -> Double {
        let rows = P * C, H1 = hidden, H2 = hidden2, lk = leak
        trainingFeatures(samples: samples, xhat: xhat, ws: ws)
        let bias = pathBias(p, path: path)
        ws.z1.update(from: p + pos, count: rows * H1)
        if let bias { for r in 0..<rows { let zr = ws.z1 + r * H1; for o in 0..<H1 { zr[o] = zr[o] + bias[o] } } }
        trainingGemm(m: rows, n: H1, k: F, a: ws.x, aRow: F, aCol: 1, b: p + w1, ldb: H1, c: ws.z1, ldc: H1)
        TrainingVectorOps.leakyReLU(ws.z1, ws.a1, count: rows * H1, leak: lk)
        let second = secondBias(p, bias: bias).values
        for r in 0..<rows { (ws.z2 + r * H2).update(from: second, count: H2) }
        trainingGemm(m: rows, n: H2, k: H1, a: ws.a1, aRow: H1, aCol: 1, b: p + w2, ldb: H2, c: ws.z2, ldc: H2)
        TrainingVectorOps.leakyReLU(ws.z2, ws.a2, count: rows * H2, leak: lk)
        for r in 0..<rows { (ws.g + r * V).update(from: p + b3, count: V) }
        trainingGemm(m: rows, n: V, k: H2, a: ws.a2, aRow: H2, aCol: 1, b: p + w3, ldb: V, c: ws.g, ldc: V)
        // softmax cross-entropy in bits; ws.g becomes ∂loss/∂logits
        let ln2 = 0.6931471805599453
        var bits = 0.0
        for r in 0..<rows {
            bits += TrainingVectorOps.softmaxCrossEntropy(ws.g + r * V, count: V, target: Int(samples[r]), scale: scale) / ln2
        }
        return bits
    }

    /// The backward pass after `forward` (its `ws`): gradients into `d`, ∂x̂ into `ws.dxhat`.
    private func backward(path: [Int], p: UnsafePointer<Float>, transposed t: ResidualNetTransposed,
                          ws: ResidualNetWorkspace, d: UnsafeMutablePointer<Float>, wantXhatGradient: Bool) {
        let rows = P * C, H1 = hidden, H2 = hidden2, Fw = windowFeatures, lk = leak
        // W3, b3; ∂z2
        trainingGemm(m: H2, n: V, k: rows, a: ws.a2, aRow: 1, aCol: H2, b: ws.g, ldb: V, c: d + w3, ldc: V)
        let sum3 = TrainingVectorOps.columnSums(ws.g, rows: rows, width: V)
        TrainingVectorOps.add(sum3, into: d + b3, count: V)
        ws.d2.update(repeating: 0, count: rows * H2)
        trainingGemm(m: rows, n: H2, k: V, a: ws.g, aRow: V, aCol: 1, b: t.w3t, ldb: H2, c: ws.d2, ldc: H2)
        TrainingVectorOps.leakyReLUBackward(ws.z2, ws.d2, count: rows * H2, leak: lk)
        // W2, b2; ∂z1
        trainingGemm(m: H1, n: H2, k: rows, a: ws.a1, aRow: 1, aCol: H1, b: ws.d2, ldb: H2, c: d + w2, ldc: H2)
        let sum2 = TrainingVectorOps.columnSums(ws.d2, rows: rows, width: H2)
        TrainingVectorOps.add(sum2, into: d + b2, count: H2)
        ws.d1.update(repeating: 0, count: rows * H1)
        trainingGemm(m: rows, n: H1, k: H2, a: ws.d2, aRow: H2, aCol: 1, b: t.w2t, ldb: H1, c: ws.d1, ldc: H1)
        TrainingVectorOps.leakyReLUBackward(ws.z1, ws.d1, count: rows * H1, leak: lk)
        // position biases (one row per sub-pixel position), W1, and ∂x̂ through the window
        TrainingVectorOps.add(ws.d1, into: d + pos, count: rows * H1)
        if embedding && !path.isEmpty {
            // each level's row of the embedding gets the column sums of ∂z1 and ∂z2
            let sum1 = TrainingVectorOps.columnSums(ws.d1, rows: rows, width: H1)
            for (l, k) in path.enumerated() {
                let e = min(l, levels - 1) * K + k
                for o in 0..<H1 { d[e1 + e * H1 + o] += sum1[o] }
                for o in 0..<H2 { d[e2 + e * H2 + o] += sum2[o] }
            }
        }
        trainingGemm(m: F, n: H1, k: rows, a: ws.x, aRow: 1, aCol: F, b: ws.d1, ldb: H1, c: d + w1, ldc: H1)
        if wantXhatGradient {
            ws.dxw.update(repeating: 0, count: rows * Fw)
            trainingGemm(m: rows, n: Fw, k: H1, a: ws.d1, aRow: H1, aCol: 1, b: t.w1wt, ldb: Fw, c: ws.dxw, ldc: Fw)
            scatterWindowGradient(ws.dxw, into: ws.dxhat)
        }
    }

    /// Adjoint of `windowFeatures`: ∂x̂ [P·C] (written) from ∂features [P·C × Fw].
    func scatterWindowGradient(_ g: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>) {
        dx.update(repeating: 0, count: P * C)
        let r = radius, Fw = windowFeatures
        for y in 0..<H {
            for x in 0..<W {
                for c in 0..<C {
                    let row = g + ((y * W + x) * C + c) * Fw
                    var j = 0
                    for dy in -r...r {
                        let yy = y + dy
                        for dx0 in -r...r {
                            let xx = x + dx0
                            let inside = yy >= 0 && yy < H && xx >= 0 && xx < W
                            for ch in 0..<C {
                                if inside { dx[(yy * W + xx) * C + ch] += row[j] }
                                j += 1
                            }
                        }
                    }
                }
            }
        }
    }
}
