import XCTest
@testable import DDNKernel

/// Every entry coder is an encode/decode pair: `decode(encode(x)) == x` for every format and odd
/// size, with and without shared statistics; corrupt payloads throw or give other pixels, never trap.
final class EntryCoderTests: XCTestCase {
    let coders: [any EntryCoder] = [RawSamplesCoder(), ClassicalEntryCoder(), DeflateEntryCoder(), Classic2EntryCoder()]

    func checkCoder(_ coder: any EntryCoder, _ png: PNGImage, _ context: CodingContext,
                    file: StaticString = #filePath, line: UInt = #line) throws {
        let px = png.pixels, pal = png.colorType == .palette
        guard coder.accepts(px, isPalette: pal, context: context) else { return }
        let payload = try coder.encode(px, isPalette: pal, context: context)
        let back = try coder.decode(payload, width: px.width, height: px.height, channels: px.channels,
                                    bitDepth: px.bitDepth, isPalette: pal, context: context)
        XCTAssertEqual(back, px, "coder \(coder.id) \(png.colorType) \(px.bitDepth)-bit \(px.width)×\(px.height)", file: file, line: line)
    }

    func testRoundTripEveryFormat() throws {
        var rng = SplitMix64(seed: 31)
        var images: [PNGImage] = []
        for (ct, depth) in PNGFixture.allFormats {
            for (w, h) in [(1, 1), (1, 100), (100, 1), (65, 33)] {
                images.append(PNGFixture.randomPNG(width: w, height: h, colorType: ct, bitDepth: depth, rng: &rng))
            }
        }
        var learned = CodingContext(statistics: ClassicalEntryCoder.learn(images.map(\.pixels), images.map { $0.colorType == .palette }))
        try CoderSet.standard.prepare(&learned)
        for context in [CodingContext(), learned] {
            for png in images {
                for coder in coders { try checkCoder(coder, png, context) }
            }
        }
    }

    func testCorruptPayloadsNeverTrap() throws {
        var rng = SplitMix64(seed: 32)
        let png = PNGFixture.randomPNG(width: 13, height: 7, colorType: .rgb, bitDepth: 8, rng: &rng)
        for coder in coders {
            let payload = try coder.encode(png.pixels, isPalette: false, context: CodingContext())
            for _ in 0..<200 {
                var bad = payload
                if bad.isEmpty || rng.below(4) == 0 { bad.append(UInt8(rng.below(256))) } else {
                    bad[rng.below(bad.count)] ^= UInt8(1 << rng.below(8))
                }
                _ = try? coder.decode(bad, width: 13, height: 7, channels: 3, bitDepth: 8, isPalette: false, context: CodingContext())
            }
        }
    }
}
