import DDNGemm
import DDNGemmAVX2
import XCTest
@testable import DDNKernel

/// The residual network (Spec/MODEL.md §8): its backward pass against finite differences, the two
/// builds of its matrix product against each other, its coder (coder 5) round trip, the path
/// embedding, and the model file versions 2 and 3.
final class ResidualNetTests: XCTestCase {
    /// A small single-shot model with a residual network and non-trivial parameters.
    func model(width: Int = 5, height: Int = 4, channels: Int = 1, bitDepth: Int = 2, hidden: Int = 5, hidden2: Int = 4,
               window: Int = 1, embedding: Bool = false, seed: UInt64 = 7) -> DDNModel {
        var c = DDNConfig.singleShot(width: width, height: height, channels: channels, bitDepth: bitDepth, candidates: 4, baseChannels: 2)
        c.residualHidden = hidden; c.residualHidden2 = hidden2; c.residualWindow = window; c.pathEmbedding = embedding
        var m = DDNModel(config: c, seed: seed)
        var rng = SplitMix64(seed: seed ^ 99)
        let net = m.net!
        for i in net.pos..<net.end where m.parameters[i] == 0 { m.parameters[i] = rng.uniform(0.5) }
        return m
    }

    func randomImage(_ m: DDNModel, seed: UInt64) -> PixelImage {
        var rng = SplitMix64(seed: seed)
        let c = m.config, maxValue = (1 << c.bitDepth) - 1
        let samples = (0..<c.subPixels).map { _ in UInt16(Int(rng.next() % UInt64(maxValue + 1))) }
        return PixelImage(width: c.width, height: c.height, channels: c.channels, bitDepth: c.bitDepth, samples: samples)
    }

    /// Bits per sub-pixel of `image` given x̂ under parameters `p`, and (optionally) the gradients.
    func bitsAndGradient(_ m: DDNModel, _ p: [Float], _ image: PixelImage, _ xhat: [Float])
        -> (bits: Double, dp: [Float], dxhat: [Float]) {
        let net = m.net!
        let ws = ResidualNetWorkspace(net), t = ResidualNetTransposed(net)
        var d = [Float](repeating: 0, count: p.count)
        let bits = p.withUnsafeBufferPointer { pp in
            t.update(net, pp.baseAddress!)
            return image.samples.withUnsafeBufferPointer { sp in
                xhat.withUnsafeBufferPointer { xp in
                    d.withUnsafeMutableBufferPointer { dp in
                        net.trainImage(samples: sp.baseAddress!, xhat: xp.baseAddress!, path: [], p: pp.baseAddress!, transposed: t, ws: ws,
                                       d: dp.baseAddress!, weight: 1, wantXhatGradient: true)
                    }
                }
            }
        }
        return (bits / Double(image.subPixelCount), d, Array(UnsafeBufferPointer(start: ws.dxhat, count: image.subPixelCount)))
    }

    func relErr(_ a: [Double], _ f: [Double]) -> Double {
        var d = 0.0, na = 0.0, nf = 0.0
        for i in 0..<a.count { d += (a[i] - f[i]) * (a[i] - f[i]); na += a[i] * a[i]; nf += f[i] * f[i] }
        return d.squareRoot() / max(na.squareRoot(), nf.squareRoot(), 1e-12)
    }

    /// ∂(bits per sub-pixel)/∂(every network parameter) and ∂/∂x̂ against central differences.
    func checkGradient(channels: Int) {
        var m = model(channels: channels)
        let net = m.net!
        // x̂'s weights ×4: a gradient well above float32's noise in the finite differences
        for i in net.w1..<(net.w1 + net.windowFeatures * net.hidden) { m.parameters[i] *= 4 }
        let image = randomImage(m, seed: 3)
        var rng = SplitMix64(seed: 5)
        var xhat = (0..<image.subPixelCount).map { _ in rng.uniform(1) }
        var p = m.parameters
        let (_, dp, dx) = bitsAndGradient(m, p, image, xhat)
        let eps: Float = 2e-3
        var fdP: [Double] = [], anP: [Double] = []
        for i in net.pos..<net.end {
            let o = p[i]
            p[i] = o + eps; let lp = bitsAndGradient(m, p, image, xhat).bits
            p[i] = o - eps; let lm = bitsAndGradient(m, p, image, xhat).bits
            p[i] = o
            fdP.append((lp - lm) / (2 * Double(eps))); anP.append(Double(dp[i]))
        }
        XCTAssertLessThan(relErr(anP, fdP), 2e-2, "parameters, \(channels) channels")
        var fdX: [Double] = []
        for i in 0..<xhat.count {
            let o = xhat[i]
            xhat[i] = o + eps; let lp = bitsAndGradient(m, p, image, xhat).bits
            xhat[i] = o - eps; let lm = bitsAndGradient(m, p, image, xhat).bits
            xhat[i] = o
            fdX.append((lp - lm) / (2 * Double(eps)))
        }
        XCTAssertLessThan(relErr(dx.map(Double.init), fdX), 2e-2, "x̂, \(channels) channels")
        XCTAssertGreaterThan(dx.map { abs($0) }.max()!, 0, "x̂ must receive a gradient")
    }

    func testGradientGrey() { checkGradient(channels: 1) }
    func testGradientColour() { checkGradient(channels: 3) }

    /// The portable and the AVX2 builds of the matrix product give the same bits (when this CPU
    /// has AVX2; otherwise only the portable build runs and there is nothing to compare).
    func testGemmBuildsAgree() throws {
        try XCTSkipUnless(gemmUsesAVX2, "no AVX2 on this CPU")
        var rng = SplitMix64(seed: 11)
        for (m, n, k, transposed) in [(1, 256, 64, false), (7, 37, 19, false), (13, 64, 131, true), (64, 16, 3, false), (5, 9, 1, true), (3, 12, 108, false), (9, 24, 7, true)] {
            let a = (0..<(m * k)).map { _ in rng.uniform(3) }, b = (0..<(k * n)).map { _ in rng.uniform(3) }
            let c0 = (0..<(m * n)).map { _ in rng.uniform(1) }
            var c1 = c0, c2 = c0
            let (aRow, aCol) = transposed ? (1, m) : (k, 1)
            DDNGemm.gemmAccumulate(m: m, n: n, k: k, a: a, aRow: aRow, aCol: aCol, b: b, ldb: n, c: &c1, ldc: n)
            DDNGemmAVX2.gemmAccumulate(m: m, n: n, k: k, a: a, aRow: aRow, aCol: aCol, b: b, ldb: n, c: &c2, ldc: n)
            XCTAssertEqual(c1.map(\.bitPattern), c2.map(\.bitPattern), "\(m)×\(n)×\(k)")
            // and both equal the plain left-to-right sum
            for i in 0..<m { for j in 0..<n {
                var s = c0[i * n + j]
                for kk in 0..<k { s = s + a[i * aRow + kk * aCol] * b[kk * n + j] }
                XCTAssertEqual(s.bitPattern, c1[i * n + j].bitPattern)
            } }
        }
    }

    /// Coder 5 restores every image exactly, and what it reports is what it writes: at the depth
    /// the encoder chooses and at the full depth, with and without the path embedding.
    func testRoundTrip() throws {
        for (channels, depth) in [(1, 8), (3, 4), (2, 1)] {
            for embedding in [false, true] {
                let m = model(width: 7, height: 6, channels: channels, bitDepth: depth, hidden: 6, hidden2: 5, window: 2, embedding: embedding)
                let coder = try DDNCoder(model: m, residual: .network)
                for s in 0..<6 {
                    let image = randomImage(m, seed: UInt64(s))
                    for forced in [nil, m.config.levels] {
                        var e = RangeEncoder()
                        let cost = coder.encode(image, depth: forced, scratch: m.makeScratch(), into: &e)
                        let bytes = e.finish()
                        var d = RangeDecoder(bytes)
                        let back = try coder.decode(from: &d, scratch: m.makeScratch())
                        XCTAssertEqual(back.samples, image.samples, "\(channels) channels at \(depth) bits, image \(s), embedding \(embedding)")
                        XCTAssertLessThanOrEqual(Double(bytes.count * 8), cost.total + 40)
                    }
                }
            }
        }
    }

    /// The path embedding (Spec/MODEL.md §8.1) enters the coded bits: the same model with its
    /// embedding zeroed codes the full-depth path at another cost, and the trainer's float bits
    /// of the same image, path and x̂ agree with the coder's integer tables.
    func testPathEmbeddingIsCodedAsTrained() throws {
        let m = model(width: 6, height: 5, channels: 1, bitDepth: 8, hidden: 6, hidden2: 5, window: 2, embedding: true)
        var zeroed = m
        for i in m.net!.e1..<m.net!.end { zeroed.parameters[i] = 0 }
        let image = randomImage(m, seed: 3), L = m.config.levels
        let a = try DDNCoder(model: m, residual: .network), b = try DDNCoder(model: zeroed, residual: .network)
        var e1 = RangeEncoder(), e2 = RangeEncoder()
        let withEmbedding = a.encode(image, depth: L, scratch: m.makeScratch(), into: &e1)
        let without = b.encode(image, depth: L, scratch: zeroed.makeScratch(), into: &e2)
        XCTAssertEqual(withEmbedding.path, without.path, accuracy: 1e-12)
        XCTAssertNotEqual(withEmbedding.residual, without.residual)
        let t = a.trace(image, scratch: m.makeScratch())
        let trained = GradientCheck.networkBits(m, samples: image.samples, xhat: t.reconstructions[L], path: t.path)
        XCTAssertEqual(trained, withEmbedding.residual, accuracy: 0.01 * trained)
    }

    /// Lockstep decoding of many payloads gives what decoding each alone gives, and a damaged
    /// payload in the batch changes nothing for the others.
    func testLockstepDecodeMatches() throws {
        let m = model(width: 6, height: 5, channels: 1, bitDepth: 8, hidden: 6, hidden2: 5, window: 2, embedding: true)
        let coder = try DDNCoder(model: m, residual: .network)
        let images = (0..<7).map { randomImage(m, seed: UInt64(40 + $0)) }
        var payloads: [[UInt8]] = images.enumerated().map { i, image in
            var e = RangeEncoder()
            coder.encode(image, depth: [nil, 0, m.config.levels, 2][i % 4], scratch: m.makeScratch(), into: &e)
            return e.finish()
        }
        XCTAssertEqual(coder.decode(payloads: payloads, scratch: m.makeScratch()).map(\.samples), images.map(\.samples))
        payloads[3] = payloads[3].map { $0 ^ 0x5A }
        let back = coder.decode(payloads: payloads, scratch: m.makeScratch())
        for i in images.indices where i != 3 { XCTAssertEqual(back[i].samples, images[i].samples) }
    }

    /// A table from any logits: every frequency ≥ 1, total 2^16, the most likely symbol largest.
    func testSoftmaxTable() {
        let t = SoftmaxTable(count: 256)
        defer { t.deallocate() }
        var rng = SplitMix64(seed: 1)
        for trial in 0..<50 {
            var z = (0..<256).map { _ in rng.uniform(Float(trial)) }
            if trial == 3 { z[17] = .nan }
            if trial == 4 { z[2] = .infinity }
            z.withUnsafeBufferPointer { t.build($0.baseAddress!) }
            let f = (0..<256).map { t.frequency[$0] }
            XCTAssertEqual(f.reduce(0, +), 1 << 16)
            XCTAssertEqual(f[z.indices.max { z[$0] < z[$1] }!], f.max(), "trial \(trial)")
            XCTAssertGreaterThanOrEqual(f.min()!, 1)
            XCTAssertEqual(t.cumulative[256], 1 << 16)
        }
    }

    /// Version 2 files carry the network; a model without one is still written as version 1.
    func testModelFileVersions() throws {
        let m = model()
        let bytes = m.serialized()
        XCTAssertEqual(bytes[4], 2)
        let back = try DDNModel(serialized: bytes)
        XCTAssertEqual(back.config, m.config)
        XCTAssertEqual(back.parameters, m.parameters)
        XCTAssertEqual(back.serialized(), bytes)
        let plain = DDNModel(config: DDNConfig.singleShot(width: 5, height: 4, candidates: 4, baseChannels: 2), seed: 1)
        XCTAssertEqual(plain.serialized()[4], 1)
        XCTAssertFalse(try DDNModel(serialized: plain.serialized()).hasResidualNetwork)
        // version 3: the path embedding; a zero embedding added to a version-2 model codes as before
        let embedded = m.withPathEmbedding()
        var v3 = embedded.serialized()
        XCTAssertEqual(v3[4], 3)
        let back3 = try DDNModel(serialized: v3)
        XCTAssertTrue(back3.config.pathEmbedding)
        XCTAssertEqual(back3.serialized(), v3)
        XCTAssertEqual(embedded.parameterCount - m.parameterCount, m.config.levels * m.config.candidates * (m.config.residualHidden + m.config.residualHidden2))
        let image = randomImage(m, seed: 9)
        for model in [m, embedded] {
            var e = RangeEncoder()
            try DDNCoder(model: model, residual: .network).encode(image, depth: m.config.levels, scratch: model.makeScratch(), into: &e)
            XCTAssertEqual(e.finish(), {
                var e2 = RangeEncoder()
                try! DDNCoder(model: m, residual: .network).encode(image, depth: m.config.levels, scratch: m.makeScratch(), into: &e2)
                return e2.finish()
            }())
        }
        v3[52] = 2   // the conditioning flags (after the 12 bytes of network shape)
        XCTAssertThrowsError(try DDNModel(serialized: v3))
    }
}
