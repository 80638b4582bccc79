import Foundation
import XCTest
@testable import DDNKernel

final class ModelTests: XCTestCase {
    func tiny() -> DDNConfig { DDNConfig(width: 8, height: 12, channels: 1, bitDepth: 8, levels: 3, candidates: 5, baseChannels: 2) }
    func image(_ cfg: DDNConfig, _ seed: UInt64) -> [Float] { var r = SplitMix64(seed: seed); return (0..<cfg.subPixels).map { _ in r.uniform(1) } }

    func testFileRoundTrip() throws {
        var m = DDNModel(config: tiny(), seed: 4, start: image(tiny(), 1))
        m.residualStatistics = [1, 2, 3]
        let bytes = m.serialized()
        let r = try DDNModel(serialized: bytes)
        XCTAssertEqual(r.config, m.config)
        XCTAssertEqual(r.parameters.map(\.bitPattern), m.parameters.map(\.bitPattern))
        XCTAssertEqual(r.start.map(\.bitPattern), m.start.map(\.bitPattern))
        XCTAssertEqual(r.residualStatistics, [1, 2, 3])
        XCTAssertNil(r.trainingState)
        XCTAssertEqual(r.serialized(), bytes)
        XCTAssertEqual(r.identity, DDNModel.sha256(bytes))
        XCTAssertEqual(r.identity.count, 32)
        // with training state, through a file
        var opt = TrainOptions(); opt.threads = 1
        let tr = Trainer(model: m, options: opt)
        let x = image(tiny(), 2) + image(tiny(), 3)
        x.withUnsafeBufferPointer { _ = tr.trainStep(data: $0.baseAddress!, batch: [0, 1], beta: 1) }
        let ck = tr.model(withState: true)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ddnm-test-\(getpid()).ddnm")
        defer { try? FileManager.default.removeItem(at: url) }
        try ck.write(to: url)
        let back = try DDNModel(contentsOf: url)
        XCTAssertEqual(back.trainingState, ck.trainingState)
        XCTAssertEqual(back.parameters, ck.parameters)
        let resumed = Trainer(model: back, options: opt)
        XCTAssertEqual(resumed.step, 1)
        XCTAssertEqual(resumed.adamM, tr.adamM)
        XCTAssertEqual(resumed.counts, tr.counts)
        XCTAssertNotEqual(back.identity, back.withoutTrainingState().identity)
    }

    func testCorruptFilesAreRefused() {
        let bytes = DDNModel(config: tiny(), seed: 1).serialized()
        var bad = bytes; bad[0] = 0
        XCTAssertThrowsError(try DDNModel(serialized: bad)) { XCTAssertEqual($0 as? ModelFileError, .notAModel) }
        var v9 = bytes; v9[4] = 9
        XCTAssertThrowsError(try DDNModel(serialized: v9)) { XCTAssertEqual($0 as? ModelFileError, .unsupportedVersion(9)) }
        var v2 = bytes; v2[4] = 2   // version 2 without a residual network's fields: a bad configuration
        XCTAssertThrowsError(try DDNModel(serialized: v2))
        for cut in [0, 3, 10, 40, bytes.count / 2, bytes.count - 1] {
            XCTAssertThrowsError(try DDNModel(serialized: Array(bytes.prefix(cut))))
        }
        XCTAssertThrowsError(try DDNModel(serialized: bytes + [0]))
        var huge = bytes; huge[8 + 4 * 5] = 0xFF; huge[8 + 4 * 5 + 3] = 0x7F   // levels field
        XCTAssertThrowsError(try DDNModel(serialized: huge))
    }

    /// The coding path: same bits across calls, across threads, and candidate(k) == level().candidates[k].
    func testCodingPathIsDeterministic() {
        let cfg = tiny()
        let m = DDNModel(config: cfg, seed: 6, start: image(cfg, 9))
        let inputs = (0..<6).map { image(cfg, UInt64(20 + $0)) }
        @Sendable func runAll(_ scratch: DDNModel.Scratch, _ x: [Float]) -> [UInt32] {
            var out: [UInt32] = []
            var xhat = x
            for l in 0..<(cfg.levels + 2) {   // beyond the trained depth reuses the last level
                let r = m.level(l, input: xhat, scratch: scratch)
                out += r.candidates.flatMap { $0.map(\.bitPattern) } + r.selectionLogits.map(\.bitPattern) + [r.haltLogit.bitPattern]
                let k = l % cfg.candidates
                let c = m.levelChosen(l, input: xhat, k: k, scratch: scratch)
                XCTAssertEqual(c.candidate.map(\.bitPattern), r.candidates[k].map(\.bitPattern))
                XCTAssertEqual(c.selectionLogits.map(\.bitPattern), r.selectionLogits.map(\.bitPattern))
                xhat = r.candidates[k]
            }
            return out
        }
        let s = m.makeScratch()
        let serial = inputs.map { runAll(s, $0) }
        XCTAssertEqual(serial, inputs.map { runAll(m.makeScratch(), $0) })
        final class Box: @unchecked Sendable { var r = [[UInt32]](repeating: [], count: 6) }
        let box = Box()
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: 2) { t in
            let sc = m.makeScratch()
            for i in stride(from: t, to: 6, by: 2) { let v = runAll(sc, inputs[i]); lock.lock(); box.r[i] = v; lock.unlock() }
        }
        XCTAssertEqual(serial, box.r)
    }

    func testSamplesMapping() {
        let m = DDNModel(config: tiny(), seed: 1)
        XCTAssertEqual(m.samples(from: [-1, 1, 0, -2, 2, 0.0039]), [0, 255, 128, 0, 255, 128])
        let f = DDNModel.floats(from: [0, 255, 51], bitDepth: 8)
        XCTAssertEqual(f[0], -1); XCTAssertEqual(f[1], 1)
        XCTAssertEqual(m.samples(from: f), [0, 255, 51])
    }
}
