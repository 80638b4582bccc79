import XCTest
@testable import DDNKernel

final class TrainerTests: XCTestCase {
    func tiny(levels: Int = 2, K: Int = 4) -> DDNConfig {
        DDNConfig(width: 8, height: 8, channels: 1, bitDepth: 8, levels: levels, candidates: K, baseChannels: 2)
    }
    func data(_ cfg: DDNConfig, count: Int, seed: UInt64 = 11) -> [Float] {
        var r = SplitMix64(seed: seed)
        return (0..<(count * cfg.subPixels)).map { _ in r.uniform(1) }
    }

    func testAdamStep() {
        var p: [Float] = [1, -2, 0.5], m: [Float] = [0, 0, 0], v: [Float] = [0, 0, 0]
        let g: [Float] = [0.1, -4, 0]
        Trainer.adam(params: &p, m: &m, v: &v, grad: g, count: 3, step: 1, lr: 0.01)
        // first step: m̂ = g, v̂ = g², update = lr·g/(|g| + ε) ≈ lr·sign(g)
        XCTAssertEqual(p[0], 1 - 0.01, accuracy: 1e-6)
        XCTAssertEqual(p[1], -2 + 0.01, accuracy: 1e-6)
        XCTAssertEqual(p[2], 0.5)
        XCTAssertEqual(m[1], -0.4, accuracy: 1e-6)
        XCTAssertEqual(v[1], 0.016, accuracy: 1e-6)
        // second step with the same gradient: still ≈ lr·sign(g)
        Trainer.adam(params: &p, m: &m, v: &v, grad: g, count: 3, step: 2, lr: 0.01)
        XCTAssertEqual(p[0], 1 - 0.02, accuracy: 1e-5)
    }

    func run(_ cfg: DDNConfig, threads: Int, steps: Int, selection: SelectionRule = .proportional) -> Trainer {
        let x = data(cfg, count: 16)
        var opt = TrainOptions(); opt.threads = threads; opt.batchSize = 8; opt.seed = 5; opt.selection = selection
        let tr = Trainer(model: DDNModel(config: cfg, seed: 5), options: opt)
        x.withUnsafeBufferPointer { xp in
            for s in 0..<steps { tr.trainStep(data: xp.baseAddress!, batch: (0..<8).map { ($0 + s * 8) % 16 }, beta: 2) }
        }
        return tr
    }

    func testSeededInitIsRepeatable() {
        let a = DDNModel(config: tiny(), seed: 9), b = DDNModel(config: tiny(), seed: 9), c = DDNModel(config: tiny(), seed: 10)
        XCTAssertEqual(a.parameters.map(\.bitPattern), b.parameters.map(\.bitPattern))
        XCTAssertNotEqual(a.parameters, c.parameters)
    }

    func testTrainingIsDeterministicAndThreadCountIndependent() {
        let a = run(tiny(), threads: 2, steps: 3), b = run(tiny(), threads: 2, steps: 3), c = run(tiny(), threads: 1, steps: 3)
        XCTAssertEqual(a.parameters.map(\.bitPattern), b.parameters.map(\.bitPattern))
        XCTAssertEqual(a.parameters.map(\.bitPattern), c.parameters.map(\.bitPattern))
        XCTAssertEqual(a.adamV.map(\.bitPattern), c.adamV.map(\.bitPattern))
        XCTAssertEqual(a.counts, c.counts)
        let n = run(tiny(), threads: 2, steps: 3, selection: .nearest)
        XCTAssertNotEqual(a.parameters, n.parameters)
    }

    func testTrainingReducesLoss() {
        let cfg = tiny(levels: 1)
        let x = data(cfg, count: 8)
        var opt = TrainOptions(); opt.batchSize = 8; opt.selection = .nearest; opt.warmupSteps = 1
        let tr = Trainer(model: DDNModel(config: cfg, seed: 1), options: opt)
        var first = 0.0, last = 0.0
        x.withUnsafeBufferPointer { xp in
            for s in 0..<60 {
                let st = tr.trainStep(data: xp.baseAddress!, batch: Array(0..<8), beta: 1)
                if s == 0 { first = st.residualBpsp }
                last = st.residualBpsp
            }
        }
        XCTAssertLessThan(last, first * 0.9)
    }

    func testSplitAndPruneCopiesWeightsAndMoments() {
        let cfg = tiny(levels: 2, K: 4)
        let tr = run(cfg, threads: 1, steps: 2)
        let lay = ParamLayout(cfg)
        let l = 1, K = 4
        // make head 2 the busiest and head 0 the idlest at level 1
        for k in 0..<K { tr.counts[l * K + k] = 10 }
        tr.counts[l * K + 2] = 40; tr.counts[l * K + 0] = 0.1
        let before = tr.parameters, mB = tr.adamM, vB = tr.adamV
        XCTAssertTrue(tr.splitAndPrune(level: l))
        let after = tr.parameters, mA = tr.adamM, vA = tr.adamV
        let hw = lay.headWOffset(l), hb = lay.headBOffset(l)
        for ci in 0..<lay.c {
            let s = hw + ci * lay.KC + 2, d = hw + ci * lay.KC + 0
            XCTAssertEqual(after[d], before[s], accuracy: tr.options.splitNoise)
            XCTAssertEqual(mA[d], mB[s]); XCTAssertEqual(vA[d], vB[s])
            XCTAssertEqual(after[s], before[s])
        }
        XCTAssertEqual(after[hb], before[hb + 2], accuracy: tr.options.splitNoise)
        let sw = lay.selWOffset(l)
        for i in 0..<lay.c4 { XCTAssertEqual(after[sw + i * K + 0], before[sw + i * K + 2]); XCTAssertEqual(mA[sw + i * K], mB[sw + i * K + 2]) }
        let sb = lay.selBOffset(l)
        XCTAssertEqual(after[sb + 0], before[sb + 2] - 0.693147182, accuracy: 1e-6)
        XCTAssertEqual(after[sb + 2], after[sb + 0])
        XCTAssertEqual(tr.counts[l * K + 0], 20); XCTAssertEqual(tr.counts[l * K + 2], 20)
        // level 0 untouched
        XCTAssertEqual(Array(after[lay.headWOffset(0)..<lay.headWOffset(1)]), Array(before[lay.headWOffset(0)..<lay.headWOffset(1)]))
        // balanced counts: nothing to do
        for k in 0..<K { tr.counts[l * K + k] = 10 }
        XCTAssertFalse(tr.splitAndPrune(level: l))
    }

    func testBetaAndLearningRateSchedules() {
        var opt = TrainOptions(); opt.betaStart = 1; opt.betaEnd = 100; opt.warmupSteps = 0
        let tr = Trainer(model: DDNModel(config: tiny(), seed: 1), options: opt)
        XCTAssertEqual(tr.beta(at: 0), 1, accuracy: 1e-9)
        XCTAssertEqual(tr.beta(at: 0.5), 10, accuracy: 1e-9)
        XCTAssertEqual(tr.beta(at: 1), 100, accuracy: 1e-9)
        XCTAssertEqual(tr.lrScale(at: 0), 1, accuracy: 1e-6)
        XCTAssertEqual(tr.lrScale(at: 1), opt.lrFinalFraction, accuracy: 1e-6)
    }

    func testIDXLoaderAndPNGWriter() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ddntrain-test-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var b: [UInt8] = [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 4]
        b += (0..<32).map { UInt8($0 * 8) }
        let f = dir.appendingPathComponent("x-idx3-ubyte")
        try Data(b).write(to: f)
        let d = try Dataset.load(path: f.path)
        XCTAssertEqual(d.count, 2); XCTAssertEqual(d.width, 4); XCTAssertEqual(d.image(1).samples[0], 128)
        XCTAssertThrowsError(try Dataset.load(path: dir.appendingPathComponent("missing").path))
        let png = try PNGWriter.encode(PNGImage(pixels: PixelImage(width: 3, height: 2, channels: 1, bitDepth: 8, samples: [0, 1, 2, 3, 4, 5]), colorType: .gray))
        XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    }

    func testFashionMNISTGzipIfInstalled() throws {
        let p = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
        try XCTSkipUnless(FileManager.default.fileExists(atPath: p))
        let d = try Dataset.load(path: p, limit: 10)
        XCTAssertEqual(d.count, 10); XCTAssertEqual(d.width, 28); XCTAssertEqual(d.height, 28)
    }

    /// Selection by the network's own bits (`realBitsCandidates`): among the nearest candidates
    /// the one whose bits are far fewer is chosen whatever the proxy preferred, only measured
    /// candidates are asked for their bits, and without the option the proxy alone decides.
    func testRealBitsChooseAmongTheNearest() {
        let K = 6, P = 2
        var opt = TrainOptions(); opt.realBitsCandidates = 3
        let tr = Trainer(model: DDNModel(config: tiny(K: K), seed: 1), options: opt)
        let input: [Float] = [0, 0], target: [Float] = [0.1, 0.1]
        // candidate k's residual at both pixels: k·0.05, so the nearest are 2, 1 and 3
        let heads: [Float] = (0..<P).flatMap { _ in (0..<K).map { Float($0) * 0.05 } }
        var asked: Set<Int> = []
        for trial in 0..<20 {
            var logits = [Float](repeating: 0, count: K), dist = [Double](repeating: 0, count: K), lq = dist
            var rng = SplitMix64(seed: UInt64(trial))
            let choice = input.withUnsafeBufferPointer { ip in heads.withUnsafeBufferPointer { hp in target.withUnsafeBufferPointer { tp in
                logits.withUnsafeMutableBufferPointer { lp in
                    tr.levelStep(Trainer.LevelForward(input: ip.baseAddress!, heads: hp.baseAddress!, logits: lp.baseAddress!,
                                                      target: tp.baseAddress!, area: nil),
                                 P: P, K: K, C: 1, beta: 1000, proxyWeight: 1, dist: &dist, lq: &lq, rng: &rng,
                                 realBits: { k in asked.insert(k); return k == 3 ? 0 : 200 })
                }
            } } }
            XCTAssertEqual(choice.k, 3, "trial \(trial)")
        }
        XCTAssertEqual(asked, [1, 2, 3])
        // by the proxy alone (β = 1000) the nearest, candidate 2
        tr.options.realBitsCandidates = 0
        var logits = [Float](repeating: 0, count: K), dist = [Double](repeating: 0, count: K), lq = dist
        var rng = SplitMix64(seed: 1)
        let proxy = input.withUnsafeBufferPointer { ip in heads.withUnsafeBufferPointer { hp in target.withUnsafeBufferPointer { tp in
            logits.withUnsafeMutableBufferPointer { lp in
                tr.levelStep(Trainer.LevelForward(input: ip.baseAddress!, heads: hp.baseAddress!, logits: lp.baseAddress!,
                                                  target: tp.baseAddress!, area: nil),
                             P: P, K: K, C: 1, beta: 1000, proxyWeight: 1, dist: &dist, lq: &lq, rng: &rng,
                             realBits: { _ in 0 })
            }
        } } }
        XCTAssertEqual(proxy.k, 2)
    }
}
