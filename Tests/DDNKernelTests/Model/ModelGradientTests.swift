import XCTest
@testable import DDNKernel

/// Whole-model gradient check on a tiny configuration (12×12, c=2, K=3, one level): the trainer's
/// analytic gradient of (residual proxy + path bits) per sub-pixel against central differences.
final class ModelGradientTests: XCTestCase {
    func tinyConfig() -> DDNConfig { DDNConfig(width: 12, height: 12, channels: 1, bitDepth: 8, levels: 1, candidates: 3, baseChannels: 2, sigma: 0.5) }

    /// The loss trainImage differentiates (halting excluded: it trains on detached features).
    func loss(_ model: DDNModel, x: [Float], k: Int) -> Double {
        let r = model.level(0, input: model.startImage())
        let N = Double(x.count), s2 = Double(model.config.sigma * model.config.sigma), ln2 = log(2.0)
        var d = 0.0
        for j in 0..<x.count { let e = Double(r.candidates[k][j]) - Double(x[j]); d += e * e }
        let lg = r.selectionLogits.map(Double.init)
        let lz = log(lg.reduce(0) { $0 + exp($1) })
        return d / (2 * s2) / ln2 / N + -(lg[k] - lz) / ln2 / N
    }

    func testWholeModelGradient() {
        let cfg = tinyConfig()
        var rng = SplitMix64(seed: 7)
        let x = (0..<cfg.subPixels).map { _ in rng.uniform(1) }
        let start = (0..<cfg.subPixels).map { _ in rng.uniform(0.5) }
        var model = DDNModel(config: cfg, seed: 3, start: start)
        // give the heads and selection head non-trivial values
        let lay = ParamLayout(cfg)
        for i in lay.headW..<lay.total { model.parameters[i] = rng.uniform(0.5) }
        var opt = TrainOptions(); opt.selection = .nearest; opt.shards = 1; opt.threads = 1
        let tr = Trainer(model: model, options: opt)
        tr.tw.update(tr.params)
        let g = UnsafeMutablePointer<Float>.allocate(capacity: lay.total); g.initialize(repeating: 0, count: lay.total)
        defer { g.deallocate() }
        var r2 = SplitMix64(seed: 1)
        let rec = x.withUnsafeBufferPointer { tr.trainImage($0.baseAddress!, ws: tr.workspaces[0], netWS: nil, d: g, beta: 1, rng: &r2, trainHalting: false) }
        let k = Int(rec.choices[0])
        var a: [Double] = [], f: [Double] = []
        let eps: Float = 1e-3   // small: leaky-ReLU kinks make larger steps inexact
        for t in lay.tensors where !t.name.hasPrefix("halt") {
            for j in 0..<min(t.count, 5) {
                let i = t.offset + (j * 7919) % t.count
                var mp = model, mm = model
                mp.parameters[i] += eps; mm.parameters[i] -= eps
                let fdv = (loss(mp, x: x, k: k) - loss(mm, x: x, k: k)) / (2 * Double(eps))
                a.append(Double(g[i])); f.append(fdv)
                XCTAssertEqual(Double(g[i]), fdv, accuracy: 5e-2 * max(abs(fdv), abs(Double(g[i]))) + 2e-3, "\(t.name)[\(i - t.offset)]")
            }
        }
        var dn = 0.0, nn = 0.0
        for i in 0..<a.count { dn += (a[i] - f[i]) * (a[i] - f[i]); nn += a[i] * a[i] }
        XCTAssertLessThan((dn / nn).squareRoot(), 1e-2, "whole-model relative gradient error")
    }

    /// Halting head: FD on its own weights (features do not depend on them) with the BCE loss.
    func testHaltingGradient() {
        var cfg = tinyConfig(); cfg.levels = 2
        var rng = SplitMix64(seed: 9)
        let x = (0..<cfg.subPixels).map { _ in rng.uniform(1) }
        let model = DDNModel(config: cfg, seed: 5, start: [Float](repeating: 0.1, count: cfg.subPixels))
        let lay = ParamLayout(cfg)
        var opt = TrainOptions(); opt.selection = .nearest; opt.shards = 1; opt.threads = 1
        let tr = Trainer(model: model, options: opt)
        tr.tw.update(tr.params)
        let g = UnsafeMutablePointer<Float>.allocate(capacity: lay.total); g.initialize(repeating: 0, count: lay.total)
        defer { g.deallocate() }
        var r2 = SplitMix64(seed: 1)
        let rec = x.withUnsafeBufferPointer { tr.trainImage($0.baseAddress!, ws: tr.workspaces[0], netWS: nil, d: g, beta: 1, rng: &r2) }
        // Recompute the halt loss from the coding path with the same choices and best depth.
        func haltLoss(_ m: DDNModel) -> Double {
            var xhat = m.startImage(); var total = 0.0
            for l in 0..<min(rec.depth + 1, cfg.levels) {
                let r = m.level(l, input: xhat)
                let h = Double(r.haltLogit)
                let sp = { (t: Double) in log(1 + exp(t)) }
                total += (l == rec.depth ? sp(-h) : sp(h)) / log(2.0)
                xhat = r.candidates[Int(rec.choices[l])]
            }
            return total / Double(cfg.subPixels)
        }
        let eps: Float = 1e-2
        for i in lay.haltW..<lay.total {
            var mp = model, mm = model
            mp.parameters[i] += eps; mm.parameters[i] -= eps
            let fdv = (haltLoss(mp) - haltLoss(mm)) / (2 * Double(eps))
            XCTAssertEqual(Double(g[i]), fdv, accuracy: 1e-2 * abs(fdv) + 1e-6, "halt param \(i - lay.haltW)")
        }
    }

    /// Recurrence layout with a residual network: proxy (full weight before the last level,
    /// `proxyWeight` at it) + path bits of every level + the network's bits of x given x̂_L against
    /// central differences. Each level's input is held at the path the trainer took (the recurrence
    /// does not carry ∂x̂ through its trunk), so the network's gradient reaches the last level.
    func testJointGradientWithTheNetwork() {
        var cfg = tinyConfig()
        cfg.width = 8; cfg.height = 8; cfg.levels = 2
        cfg.bitDepth = 2; cfg.residualHidden = 4; cfg.residualHidden2 = 3; cfg.residualWindow = 1
        let samples: [UInt16] = (0..<cfg.subPixels).map { (i: Int) -> UInt16 in UInt16((i * 7 + i / 3) % 4) }
        let x = DDNModel.floats(from: samples, bitDepth: 2)
        var rng = SplitMix64(seed: 11)
        var model = DDNModel(config: cfg, seed: 3, start: (0..<cfg.subPixels).map { _ in rng.uniform(0.5) })
        for i in 0..<model.parameters.count { model.parameters[i] += rng.uniform(0.3) }
        var opt = TrainOptions(); opt.selection = .nearest; opt.shards = 1; opt.threads = 1; opt.proxyWeight = 0.5
        let tr = Trainer(model: model, options: opt)
        let n = model.parameterCount
        tr.tw.update(tr.params)
        tr.netTransposed!.update(model.net!, tr.params)
        let g = UnsafeMutablePointer<Float>.allocate(capacity: n); g.initialize(repeating: 0, count: n)
        defer { g.deallocate() }
        var r2 = SplitMix64(seed: 1)
        let rec = x.withUnsafeBufferPointer { tr.trainImage($0.baseAddress!, ws: tr.workspaces[0], netWS: tr.netWorkspaces[0], d: g,
                                                             beta: 1, rng: &r2, trainHalting: false) }
        XCTAssertEqual(rec.depth, cfg.levels)
        var inputs: [[Float]] = [model.startImage()]
        for l in 0..<cfg.levels { inputs.append(model.level(l, input: inputs[l]).candidates[Int(rec.choices[l])]) }
        func loss(_ m: DDNModel) -> Double {
            let N = Double(cfg.subPixels), s2 = Double(cfg.sigma * cfg.sigma), ln2 = log(2.0)
            var total = 0.0, last: [Float] = []
            for l in 0..<cfg.levels {
                let r = m.level(l, input: inputs[l]), k = Int(rec.choices[l])
                var d = 0.0
                for j in 0..<x.count { let e = Double(r.candidates[k][j]) - Double(x[j]); d += e * e }
                let lg = r.selectionLogits.map(Double.init)
                let lz = log(lg.reduce(0) { $0 + exp($1) })
                total += (l == cfg.levels - 1 ? 0.5 : 1) * d / (2 * s2) / ln2 / N - (lg[k] - lz) / ln2 / N
                last = r.candidates[k]
            }
            return total + GradientCheck.networkBits(m, samples: samples, xhat: last) / N
        }
        let lay = ParamLayout(cfg)
        let indices = stride(from: 0, to: n, by: 3).filter { !(lay.haltW..<lay.total).contains($0) }
        XCTAssertLessThan(GradientCheck.relativeError(model, gradient: g, indices: indices, loss: loss), 2e-2)
        // the last level's heads receive the network's gradient
        XCTAssertGreaterThan((lay.headW..<lay.haltW).map { abs(g[$0]) }.max()!, 0)
    }
}
