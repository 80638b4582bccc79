import XCTest
import Foundation
@testable import DDNKernel

/// The DDN coder's pairs: decode(encode(x)) == x for every depth, tables valid for any logits,
/// bytes independent of thread count, and a golden vector that pins the coding path's bits
/// (the same constant must come out of debug and release builds and every CPU target).
final class DDNCoderTests: XCTestCase {
    /// A tiny random recurrence model: 8×12 grey, 3 levels, K = 5.
    static func tinyModel(seed: UInt64 = 7) -> DDNModel {
        let cfg = DDNConfig(width: 8, height: 12, channels: 1, bitDepth: 8, levels: 3, candidates: 5, baseChannels: 2)
        var r = SplitMix64(seed: seed &+ 100)
        return DDNModel(config: cfg, seed: seed, start: (0..<cfg.subPixels).map { _ in r.uniform(0.5) })
    }

    /// A tiny random single-shot model of the same shape (levels at 1×1, 2×2, 3×3, 6×6, 12×8… sizes).
    static func tinySingleShot(seed: UInt64 = 8) -> DDNModel {
        let cfg = DDNConfig.singleShot(width: 8, height: 12, channels: 1, bitDepth: 8, candidates: 5, baseChannels: 2)
        var r = SplitMix64(seed: seed &+ 100)
        return DDNModel(config: cfg, seed: seed, start: (0..<cfg.subPixels).map { _ in r.uniform(0.5) })
    }

    /// Smooth-ish random images of the tiny model's shape.
    static func images(_ n: Int, seed: UInt64) -> [PixelImage] {
        var r = SplitMix64(seed: seed)
        return (0..<n).map { _ in
            let a = r.below(256), b = r.below(32)
            let s = (0..<96).map { i in UInt16(min(255, max(0, a + (i % 8) * b / 4 - (i / 8) * b / 3 + r.below(9) - 4))) }
            return PixelImage(width: 8, height: 12, channels: 1, bitDepth: 8, samples: s)
        }
    }

    func testRoundTripAtEveryDepth() throws {
        for var model in [Self.tinyModel(), Self.tinySingleShot()] {
            let train = Self.images(20, seed: 1)
            model.residualStatistics = try DDNCoder.learnResidualStatistics(model: model, images: train, threads: 2)
            let coder = try DDNCoder(model: model)
            let depths: [Int?] = [nil] + Array(0...model.config.levels)
            for image in Self.images(6, seed: 2) {
                for depth in depths {
                    var e = RangeEncoder()
                    let cost = coder.encode(image, depth: depth, scratch: model.makeScratch(), into: &e)
                    let bytes = e.finish()
                    var d = RangeDecoder(bytes)
                    let back = try coder.decode(from: &d, scratch: model.makeScratch())
                    XCTAssertEqual(back, image, "layout \(model.config.layout) depth \(String(describing: depth))")
                    if let depth { XCTAssertEqual(cost.depth, depth) }
                    // The model's cost is what the coder writes, up to the range coder's flush.
                    XCTAssertLessThanOrEqual(abs(Double(bytes.count * 8) - cost.total), 40, "cost \(cost.total) vs \(bytes.count * 8) bits")
                    var p = RangeDecoder(bytes)
                    XCTAssertEqual(coder.decodePath(from: &p, scratch: model.makeScratch()).depth, cost.depth)
                }
            }
        }
    }

    /// The search always tries depth 0 (DDN off) and the deepest level, so the chosen depth is
    /// never worse than either.
    func testChosenDepthIsNoWorseThanOffOrDeepest() throws {
        for model in [Self.tinyModel(), Self.tinySingleShot()] {
            let coder = try DDNCoder(model: model)
            for image in Self.images(4, seed: 3) {
                var e = RangeEncoder()
                let best = coder.encode(image, scratch: model.makeScratch(), into: &e).total
                for depth in [0, model.config.levels] {
                    var f = RangeEncoder()
                    XCTAssertLessThanOrEqual(best, coder.encode(image, depth: depth, scratch: model.makeScratch(), into: &f).total + 1e-9)
                }
            }
        }
    }

    func testSelectionTablesAreValidForAnyLogits() {
        var r = SplitMix64(seed: 9)
        let hostile: [[Float]] = [[0, 0], [.nan, 1, -.infinity, .infinity], [1e30, -1e30, 0], [Float](repeating: -3, count: 1024),
                                  (0..<64).map { _ in r.uniform(40) }]
        for logits in hostile {
            let t = SelectionTables.selection(logits: logits)
            XCTAssertEqual(t.frequencies.count, logits.count)
            XCTAssertTrue(t.frequencies.allSatisfy { $0 >= 1 })
            XCTAssertEqual(t.frequencies.reduce(0, +), 1 << SelectionTables.totalBits)
        }
        for z: Float in [-1e9, -30, -1, 0, 1, 30, .nan, .infinity] {
            let t = SelectionTables.halting(logit: z)
            XCTAssertTrue(t.frequencies.allSatisfy { $0 >= 1 })
            XCTAssertEqual(t.frequencies.reduce(0, +), 1 << SelectionTables.totalBits)
        }
        // Softmax shape: a logit 1 nat higher gets about e times the frequency.
        let t = SelectionTables.selection(logits: [1, 0])
        XCTAssertEqual(Double(t.frequencies[0]) / Double(t.frequencies[1]), 2.71828, accuracy: 0.01)
        XCTAssertEqual(SelectionTables.expTable[0], 1 << 24)
        XCTAssertEqual(Double(SelectionTables.expTable[256]), 16_777_216 * exp(-1), accuracy: 2, "repeated multiplication tracks exp")
    }

    func testBytesDoNotDependOnThreads() throws {
        var model = Self.tinyModel(seed: 3)
        model.residualStatistics = try DDNCoder.learnResidualStatistics(model: model, images: Self.images(10, seed: 4), threads: 1)
        XCTAssertEqual(model.residualStatistics,
                       try DDNCoder.learnResidualStatistics(model: model, images: Self.images(10, seed: 4), threads: 2))
        let coder = try DDNCoder(model: model), frozen = model
        let images = Self.images(24, seed: 5)
        func payloads(_ threads: Int) throws -> [[UInt8]] {
            try parallelMap(images.count, threads: threads) { i in
                var e = RangeEncoder()
                coder.encode(images[i], scratch: frozen.makeScratch(), into: &e)
                return e.finish()
            }
        }
        XCTAssertEqual(try payloads(1), try payloads(2))
    }

    /// Golden vector: CRC-32 over the payloads of 6 images under the tiny seeded model. Any change
    /// in float order, rounding, tables or coder changes it; debug, release and `-target-cpu`
    /// builds must all print the same value (Spec/CODEC.md §4.5).
    func testGoldenVector() throws {
        XCTAssertEqual(try Self.goldenCRC(Self.tinyModel(seed: 11)), "8ad7eafe")
        XCTAssertEqual(try Self.goldenCRC(Self.tinySingleShot(seed: 11)), "7ead98bd")
    }

    /// A seeded 8×12 grey model with a residual network whose zero-initialised parameters are
    /// made random, and the generator after it (the golden vector draws on from there).
    static func seededNetworkModel() -> (model: DDNModel, rng: SplitMix64) {
        var cfg = DDNConfig.singleShot(width: 8, height: 12, channels: 1, bitDepth: 8, candidates: 5, baseChannels: 2)
        cfg.residualHidden = 24; cfg.residualHidden2 = 16; cfg.residualWindow = 2
        var r = SplitMix64(seed: 111)
        var model = DDNModel(config: cfg, seed: 11, start: (0..<cfg.subPixels).map { _ in r.uniform(0.5) })
        for i in model.net!.pos..<model.net!.end where model.parameters[i] == 0 { model.parameters[i] = r.uniform(0.2) }
        return (model, r)
    }

    /// Coder 5 (the residual network): payload bytes pinned for a seeded grey model and a seeded
    /// RGB model at 4 bits. The same values must come out of debug, release, `-target-cpu` builds
    /// and the portable and AVX2 matrix products (`DDN_PORTABLE_GEMM=1`).
    func testGoldenVectorNetwork() throws {
        let (grey, seeded) = Self.seededNetworkModel()
        var r = seeded
        var all: [UInt8] = []
        let coder = try DDNCoder(model: grey, residual: .network)
        for image in Self.images(6, seed: 13) {
            var e = RangeEncoder()
            coder.encode(image, scratch: grey.makeScratch(), into: &e)
            all += e.finish()
        }
        var rgbCfg = DDNConfig.singleShot(width: 5, height: 3, channels: 3, bitDepth: 4, candidates: 3, baseChannels: 2)
        rgbCfg.residualHidden = 8; rgbCfg.residualHidden2 = 8; rgbCfg.residualWindow = 1
        var rgb = DDNModel(config: rgbCfg, seed: 12)
        for i in rgb.net!.pos..<rgb.net!.end where rgb.parameters[i] == 0 { rgb.parameters[i] = r.uniform(0.2) }
        let rgbCoder = try DDNCoder(model: rgb, residual: .network)
        for n in 0..<4 {
            let s = (0..<45).map { UInt16(($0 * 7 + n * 3 + $0 / 5) % 16) }
            var e = RangeEncoder()
            rgbCoder.encode(PixelImage(width: 5, height: 3, channels: 3, bitDepth: 4, samples: s), scratch: rgb.makeScratch(), into: &e)
            all += e.finish()
        }
        XCTAssertEqual(String(crc32(all), radix: 16), "3336d90e")
    }

    /// The encoder's effort (`DDNCoder.Search(networkEffort:)`): every effort decodes exactly; a
    /// higher effort measures a superset of the choices, so its model cost is never higher; and
    /// the wider search does find cheaper paths on some images (measured at the full depth, which
    /// this random model seldom prefers to depth 0).
    func testEffortSearch() throws {
        let model = Self.seededNetworkModel().model
        var wider = 0
        for image in Self.images(6, seed: 21) {
            var deepWide = DDNCoder.Search(networkEffort: 1)
            deepWide.lastLevelCandidates = 5
            var totals: [Double] = []
            for search in [1, 3, 5, 7, 9].map(DDNCoder.Search.init(networkEffort:)) + [deepWide] {
                var coder = try DDNCoder(model: model, residual: .network)
                coder.search = search
                var e = RangeEncoder()
                totals.append(coder.encode(image, scratch: model.makeScratch(), into: &e).total)
                var d = RangeDecoder(e.finish())
                XCTAssertEqual(try coder.decode(from: &d, scratch: model.makeScratch()).samples, image.samples, "\(search)")
            }
            XCTAssertEqual(totals[1], totals[2], "efforts 3 and 5 search the same")
            for i in 1..<5 { XCTAssertLessThanOrEqual(totals[i], totals[i - 1]) }
            XCTAssertLessThanOrEqual(totals[5], totals[0])
            if totals[5] < totals[0] { wider += 1 }
        }
        XCTAssertGreaterThan(wider, 0, "the last-level search never found a cheaper path")
    }

    static func goldenCRC(_ m: DDNModel) throws -> String {
        var model = m
        model.residualStatistics = try DDNCoder.learnResidualStatistics(model: model, images: Self.images(12, seed: 12), threads: 2)
        let coder = try DDNCoder(model: model)
        var all: [UInt8] = []
        for image in Self.images(6, seed: 13) {
            var e = RangeEncoder()
            coder.encode(image, scratch: model.makeScratch(), into: &e)
            all += e.finish()
        }
        return String(crc32(all), radix: 16)
    }

    func testEntryCoderRefusesAnotherModel() throws {
        let a = try DDNEntryCoder(model: Self.tinyModel(seed: 1)), b = try DDNEntryCoder(model: Self.tinyModel(seed: 2))
        let image = Self.images(1, seed: 6)[0]
        let context = CodingContext(modelIdentity: a.identity)
        XCTAssertTrue(a.accepts(image, isPalette: false, context: context))
        XCTAssertFalse(b.accepts(image, isPalette: false, context: context))
        XCTAssertFalse(a.accepts(image, isPalette: true, context: context))
        let payload = try a.encode(image, isPalette: false, context: context)
        XCTAssertEqual(try a.decode(payload, width: 8, height: 12, channels: 1, bitDepth: 8, isPalette: false, context: context), image)
        XCTAssertThrowsError(try b.decode(payload, width: 8, height: 12, channels: 1, bitDepth: 8, isPalette: false, context: context))
        XCTAssertThrowsError(try a.decode(payload, width: 12, height: 8, channels: 1, bitDepth: 8, isPalette: false, context: context))
    }

    /// An image of the model's shape that no context coder models well (noise of 0 and 255) still
    /// gets the deflate safety net: the writer never does worse than PNG's method on it.
    func testDeflateStillTriedWhereTheDDNLoses() throws {
        let model = Self.tinySingleShot()
        let set = try CoderSet.standard(model: model)
        var r = SplitMix64(seed: 4)
        let noise = PixelImage(width: 8, height: 12, channels: 1, bitDepth: 8, samples: (0..<96).map { _ in r.below(2) == 0 ? 0 : 255 })
        let context = CodingContext(modelIdentity: model.identity)
        let chosen = try set.encode(noise, isPalette: false, context: context)
        let deflate = try DeflateEntryCoder().encode(noise, isPalette: false, context: context)
        XCTAssertLessThanOrEqual(chosen.payload.count, deflate.count)
    }

    func testGarbagePayloadsNeverTrap() throws {
        let coder = try DDNEntryCoder(model: Self.tinyModel())
        let context = CodingContext(modelIdentity: coder.identity)
        var r = SplitMix64(seed: 21)
        for n in 0..<200 {
            let payload = (0..<(n % 40)).map { _ in UInt8(truncatingIfNeeded: r.next()) }
            _ = try? coder.decode(payload, width: 8, height: 12, channels: 1, bitDepth: 8, isPalette: false, context: context)
        }
    }
}
