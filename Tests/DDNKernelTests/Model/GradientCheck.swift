@testable import DDNKernel

/// What the joint gradient tests of both layouts share.
enum GradientCheck {
    /// The residual network's bits of `samples` given `xhat` (full size) and its `path` under `m`'s parameters.
    static func networkBits(_ m: DDNModel, samples: [UInt16], xhat: [Float], path: [Int] = []) -> Double {
        let net = m.net!, ws = ResidualNetWorkspace(net), t = ResidualNetTransposed(net)
        var scratch = [Float](repeating: 0, count: m.parameterCount)
        return m.parameters.withUnsafeBufferPointer { pp in
            t.update(net, pp.baseAddress!)
            return net.trainImage(samples: samples, xhat: xhat, path: path, p: pp.baseAddress!, transposed: t, ws: ws, d: &scratch, weight: 1,
                                  wantXhatGradient: false)
        }
    }

    /// ‖g − fd‖ / ‖g‖ over the parameters `indices`: the analytic gradient `g` against central
    /// differences (step 1e-3) of `loss`.
    static func relativeError(_ model: DDNModel, gradient g: UnsafePointer<Float>, indices: [Int], loss: (DDNModel) -> Double) -> Double {
        var dn = 0.0, nn = 0.0
        let eps: Float = 1e-3
        for i in indices {
            var mp = model, mm = model
            mp.parameters[i] += eps; mm.parameters[i] -= eps
            let a = Double(g[i]), f = (loss(mp) - loss(mm)) / (2 * Double(eps))
            dn += (a - f) * (a - f); nn += a * a
        }
        return (dn / nn).squareRoot()
    }
}
