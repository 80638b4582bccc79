import XCTest
@testable import DDNKernel

/// The coding path gives the same bits in every build (debug, release) and on every machine:
/// SHA-256 of every output of seeded tiny models on seeded inputs, against recorded values.
final class GoldenTests: XCTestCase {
    func digest(_ cfg: DDNConfig) -> String {
        var r = SplitMix64(seed: 77)
        let m = DDNModel(config: cfg, seed: 21, start: (0..<cfg.subPixels).map { _ in r.uniform(1) })
        let s = m.makeScratch()
        var bytes: [UInt8] = []
        func put(_ a: [Float]) { for f in a { withUnsafeBytes(of: f.bitPattern.littleEndian) { bytes += $0 } } }
        var xh = m.startImage()
        put(xh)
        for l in 0..<cfg.levels {
            let o = m.level(l, input: xh, scratch: s)
            for c in o.candidates { put(c) }
            put(o.selectionLogits); put([o.haltLogit])
            xh = o.candidates[(l * 7) % cfg.candidates]
            put(m.fullResolution(xh, depth: l + 1))
        }
        return DDNModel.sha256(bytes).prefix(12).map { String(format: "%02x", $0) }.joined()
    }

    func testRecurrenceGolden() {
        let d = digest(DDNConfig(width: 12, height: 8, channels: 1, bitDepth: 8, levels: 3, candidates: 5, baseChannels: 3))
        XCTAssertEqual(d, "96006197aeaee23f3ad4f124")
    }

    func testSingleShotGolden() {
        let d = digest(DDNConfig.singleShot(width: 28, height: 28, channels: 1, bitDepth: 8, candidates: 8, baseChannels: 4))
        XCTAssertEqual(d, "18f5feb8e105a4835beebe17")
    }
}
