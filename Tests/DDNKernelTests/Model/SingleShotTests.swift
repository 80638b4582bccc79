import XCTest
@testable import DDNKernel

/// The single-shot layout (DDNConfig.layout == 1): gradients, coding path, file.
final class SingleShotTests: XCTestCase {
    func tiny() -> DDNConfig {
        var c = DDNConfig.singleShot(width: 7, height: 6, channels: 1, bitDepth: 8, candidates: 3, baseChannels: 2)
        c.sigma = 0.5
        return c
    }
    func image(_ n: Int, _ seed: UInt64) -> [Float] { var r = SplitMix64(seed: seed); return (0..<n).map { _ in r.uniform(1) } }

    func testLevelsAndSizes() {
        let c = DDNConfig.singleShot()
        XCTAssertEqual(c.levels, 6)
        let m = DDNModel(config: c, seed: 1)
        XCTAssertEqual((0..<6).map { m.levelSize($0).height }, [1, 2, 4, 7, 14, 28])
        XCTAssertEqual(SSLayout(c).levels.map(\.width), [32, 32, 32, 32, 16, 8])
        XCTAssertEqual(tiny().levels, 4)   // 7×6: 1, 2, 3×4, 6×7
        XCTAssertNil(tiny().validationError())
    }

    /// Whole single-shot model: analytic gradient of (residual proxy + path bits) of every level
    /// against central differences; the chosen path is held fixed (x̂ is not differentiated through).
    func testWholeModelGradient() {
        let cfg = tiny()
        var model = DDNModel(config: cfg, seed: 3, start: image(cfg.subPixels, 2))
        var rng = SplitMix64(seed: 5)
        for i in 0..<model.parameters.count { model.parameters[i] += rng.uniform(0.3) }
        let x = image(cfg.subPixels, 8)
        var opt = TrainOptions(); opt.selection = .nearest; opt.shards = 1; opt.threads = 1
        let tr = Trainer(model: model, options: opt)
        let ss = SSLayout(cfg)
        let g = UnsafeMutablePointer<Float>.allocate(capacity: ss.total); g.initialize(repeating: 0, count: ss.total)
        defer { g.deallocate() }
        var r2 = SplitMix64(seed: 1)
        let rec = x.withUnsafeBufferPointer { tr.trainImageSingleShot($0.baseAddress!, ws: tr.ssWorkspaces[0], netWS: nil, d: g, beta: 1, rng: &r2, trainHalting: false) }
        // loss of level l with its input x̂_{l−1} fixed to the path the trainer took
        var inputs: [[Float]] = [model.startImage()]
        do {
            var xh = model.startImage()
            for l in 0..<cfg.levels { xh = model.level(l, input: xh).candidates[Int(rec.choices[l])]; inputs.append(xh) }
        }
        func loss(_ m: DDNModel) -> Double {
            var total = 0.0
            let N = Double(cfg.subPixels), s2 = Double(cfg.sigma * cfg.sigma), ln2 = log(2.0)
            for l in 0..<cfg.levels {
                let r = m.level(l, input: inputs[l]), k = Int(rec.choices[l])
                let up = m.fullResolution(r.candidates[k], depth: l + 1)
                let tUp = m.fullResolution(m.levelTarget(x, level: l), depth: l + 1)
                // Σ over level pixels of area·(c − t)² = Σ over full pixels of (up(c) − up(t))²
                var d = 0.0
                for j in 0..<up.count { let e = Double(up[j]) - Double(tUp[j]); d += e * e }
                let lg = r.selectionLogits.map(Double.init)
                let lz = log(lg.reduce(0) { $0 + exp($1) })
                total += d / (2 * s2) / ln2 / N - (lg[k] - lz) / ln2 / N
            }
            return total
        }
        var a: [Double] = [], f: [Double] = []
        let eps: Float = 1e-3
        for t in ss.tensors where !t.name.contains("halt") {
            for j in 0..<min(t.count, 4) {
                let i = t.offset + (j * 7919) % t.count
                var mp = model, mm = model
                mp.parameters[i] += eps; mm.parameters[i] -= eps
                let fdv = (loss(mp) - loss(mm)) / (2 * Double(eps))
                a.append(Double(g[i])); f.append(fdv)
                XCTAssertEqual(Double(g[i]), fdv, accuracy: 5e-2 * max(abs(fdv), abs(Double(g[i]))) + 2e-3, "\(t.name)[\(i - t.offset)]")
            }
        }
        var dn = 0.0, nn = 0.0
        for i in 0..<a.count { dn += (a[i] - f[i]) * (a[i] - f[i]); nn += a[i] * a[i] }
        XCTAssertLessThan((dn / nn).squareRoot(), 1e-2)
    }

    /// With a residual network: the description length (proxy·w + path bits of every level + the
    /// network's bits of x given x̂ after all levels) against central differences, x̂ now
    /// differentiated through every chosen candidate, trunk included.
    func testJointGradientThroughTheNetwork() { checkJointGradient(embedding: false) }

    /// The same with the path embedding (Spec/MODEL.md §8.1): its rows of the path get their gradient.
    func testJointGradientWithThePathEmbedding() { checkJointGradient(embedding: true) }

    func checkJointGradient(embedding: Bool) {
        var cfg = tiny()
        cfg.bitDepth = 2; cfg.residualHidden = 4; cfg.residualHidden2 = 3; cfg.residualWindow = 1; cfg.pathEmbedding = embedding
        let samples: [UInt16] = (0..<cfg.subPixels).map { (i: Int) -> UInt16 in UInt16((i * 7 + i / 3) % 4) }
        let x = DDNModel.floats(from: samples, bitDepth: 2)
        var model = DDNModel(config: cfg, seed: 3, start: image(cfg.subPixels, 2))
        var rng = SplitMix64(seed: 5)
        for i in 0..<model.parameters.count { model.parameters[i] += rng.uniform(0.3) }
        var opt = TrainOptions(); opt.selection = .nearest; opt.shards = 1; opt.threads = 1; opt.proxyWeight = 0.5
        let tr = Trainer(model: model, options: opt)
        let n = model.parameterCount, net = model.net!
        let g = UnsafeMutablePointer<Float>.allocate(capacity: n); g.initialize(repeating: 0, count: n)
        defer { g.deallocate() }
        tr.netTransposed!.update(net, tr.params)
        var r2 = SplitMix64(seed: 1)
        let rec = x.withUnsafeBufferPointer { tr.trainImageSingleShot($0.baseAddress!, ws: tr.ssWorkspaces[0], netWS: tr.netWorkspaces[0], d: g,
                                                                      beta: 1, rng: &r2, trainHalting: false) }
        XCTAssertEqual(rec.depth, cfg.levels)
        func loss(_ m: DDNModel) -> Double {
            var total = 0.0
            let N = Double(cfg.subPixels), s2 = Double(cfg.sigma * cfg.sigma), ln2 = log(2.0)
            var xh = m.startImage()
            for l in 0..<cfg.levels {
                let r = m.level(l, input: xh), k = Int(rec.choices[l])
                let up = m.fullResolution(r.candidates[k], depth: l + 1)
                let tUp = m.fullResolution(m.levelTarget(x, level: l), depth: l + 1)
                var d = 0.0
                for j in 0..<up.count { let e = Double(up[j]) - Double(tUp[j]); d += e * e }
                let lg = r.selectionLogits.map(Double.init)
                let lz = log(lg.reduce(0) { $0 + exp($1) })
                let proxy: Double = 0.5 * d / (2 * s2) / ln2 / N
                total += proxy - (lg[k] - lz) / ln2 / N
                xh = r.candidates[k]
            }
            return total + GradientCheck.networkBits(m, samples: samples, xhat: m.fullResolution(xh, depth: cfg.levels),
                                                     path: rec.choices.map { Int($0) }) / N
        }
        let halting = SSLayout(cfg).tensors.filter { $0.name.contains("halt") }.map { $0.offset..<($0.offset + $0.count) }
        var indices = stride(from: 0, to: n, by: 3).filter { i in !halting.contains { $0.contains(i) } }
        if embedding {
            // every row of the path, both layers
            for (l, k) in rec.choices.enumerated() {
                let row = l * cfg.candidates + Int(k)
                indices += (net.e1 + row * net.hidden)..<(net.e1 + (row + 1) * net.hidden)
                indices += (net.e2 + row * net.hidden2)..<(net.e2 + (row + 1) * net.hidden2)
                XCTAssertGreaterThan((0..<net.hidden).map { abs(g[net.e1 + row * net.hidden + $0]) }.max()!, 0)
            }
        }
        XCTAssertLessThan(GradientCheck.relativeError(model, gradient: g, indices: indices, loss: loss), 2e-2)
        // the first level's heads do receive the network's gradient through the chain
        let l0 = SSLayout(cfg).levels[0]
        XCTAssertGreaterThan((l0.hW..<l0.hB).map { abs(g[$0]) }.max()!, 0)
    }

    func testCodingPathAndFile() throws {
        let cfg = tiny()
        let m = DDNModel(config: cfg, seed: 4, start: image(cfg.subPixels, 3))
        let s = m.makeScratch()
        var xh = m.startImage()
        XCTAssertEqual(xh.count, 1)
        for l in 0..<cfg.levels {
            let r = m.level(l, input: xh, scratch: s)
            let sz = m.levelSize(l)
            XCTAssertEqual(r.candidates[0].count, sz.height * sz.width)
            let c = m.levelChosen(l, input: xh, k: 2, scratch: m.makeScratch())
            XCTAssertEqual(c.candidate.map(\.bitPattern), r.candidates[2].map(\.bitPattern))
            XCTAssertEqual(c.haltLogit.bitPattern, r.haltLogit.bitPattern)
            xh = r.candidates[2]
        }
        XCTAssertEqual(m.fullResolution(xh, depth: cfg.levels).count, cfg.subPixels)
        let back = try DDNModel(serialized: m.serialized())
        XCTAssertEqual(back.config, cfg)
        XCTAssertEqual(back.parameters, m.parameters)
        XCTAssertEqual(back.serialized(), m.serialized())
    }

    func testTrainingStepDeterministic() {
        let cfg = tiny()
        let x = image(cfg.subPixels * 4, 12)
        func run(_ threads: Int) -> [Float] {
            var opt = TrainOptions(); opt.threads = threads; opt.batchSize = 4
            let tr = Trainer(model: DDNModel(config: cfg, seed: 2), options: opt)
            x.withUnsafeBufferPointer { for _ in 0..<3 { tr.trainStep(data: $0.baseAddress!, batch: [0, 1, 2, 3], beta: 2) } }
            return tr.parameters
        }
        XCTAssertEqual(run(1).map(\.bitPattern), run(2).map(\.bitPattern))
    }
}
