import XCTest
@testable import DDNKernel

/// Coder 6 ("classic2", Spec/CODEC.md §8): colour transforms invert exactly, every transform and
/// option round-trips on every colour format, options off equal coder 1, bad headers throw, and
/// golden vectors pin the payload bytes.
final class Classic2Tests: XCTestCase {
    /// A w×h image mixing a smooth ramp and noise (seeded), so predictions and transforms matter.
    static func testImage(_ w: Int, _ h: Int, _ c: Int, _ bd: Int, seed: UInt64) -> PixelImage {
        var rng = SplitMix64(seed: seed)
        let m = (1 << bd) - 1
        var s = [UInt16](repeating: 0, count: w * h * c)
        for y in 0..<h {
            for x in 0..<w {
                for k in 0..<c {
                    let ramp = (x * 3 + y * 2 + k) * m / (3 * w + 2 * h + c)
                    s[(y * w + x) * c + k] = UInt16(min(max(ramp + rng.below(9) - 4, 0), m))
                }
            }
        }
        return PixelImage(width: w, height: h, channels: c, bitDepth: bd, samples: s)
    }

    func code(_ img: PixelImage, _ o: ClassicalCoder.Options, palette: Bool = false) -> [UInt8] {
        ClassicalCoder.payload(img, options: o, isPalette: palette)
    }

    func decode(_ payload: [UInt8], like img: PixelImage, palette: Bool = false) throws -> PixelImage {
        try Classic2EntryCoder().decode(payload, width: img.width, height: img.height, channels: img.channels,
                                        bitDepth: img.bitDepth, isPalette: palette, context: CodingContext())
    }

    func testTransformsInvertExactly() {
        var rng = SplitMix64(seed: 61)
        for bd in [8, 16] {
            let m = (1 << bd) - 1
            for id in 0..<ColourTransform.count {
                let r = ColourTransform.maxValues(id, channels: 3, maxValue: m)
                for n in 0..<300 {
                    // Corners of the cube first, then random pixels.
                    let p = n < 8 ? ((n & 1) * m, (n >> 1 & 1) * m, (n >> 2 & 1) * m)
                                  : (rng.below(m + 1), rng.below(m + 1), rng.below(m + 1))
                    let t = ColourTransform.forward(id, p, maxValue: m)
                    XCTAssert((0...r.0).contains(t.0) && (0...r.1).contains(t.1) && (0...r.2).contains(t.2), "transform \(id) range")
                    let back = ColourTransform.inverse(id, t, maxValue: m)
                    XCTAssert(back == p, "transform \(id) depth \(bd): \(p) -> \(t) -> \(back)")
                }
            }
        }
    }

    func testEveryTransformAndOptionRoundTrips() throws {
        for (c, bd) in [(3, 8), (4, 8), (3, 16), (4, 16)] {
            let img = Self.testImage(5, 4, c, bd, seed: UInt64(c * 100 + bd))
            for id in 0..<ColourTransform.count {
                for (x, sm) in [(false, false), (true, false), (true, true), (false, true)] {
                    for (soft, lms) in [(false, false), (true, false), (false, true), (true, true)] {
                        let o = ClassicalCoder.Options(colourTransform: id, extendedModel: x, smoothPredictors: sm, softWeights: soft,
                                                       lmsPredictors: lms)
                        XCTAssertEqual(try decode(code(img, o), like: img), img,
                                       "\(c) channels \(bd)-bit transform \(id) extended \(x) smooth \(sm) soft \(soft) NLMS \(lms)")
                    }
                }
            }
        }
        // The extended model on grey, grey+alpha and palette images too (the writer does not pick
        // it there, but any valid header must decode).
        for (c, bd, pal) in [(1, 8, false), (2, 16, false), (1, 4, true), (1, 1, false)] {
            let img = Self.testImage(7, 3, c, bd, seed: 7)
            for x in [false, true] {
                let o = ClassicalCoder.Options(colourTransform: 0, extendedModel: x, smoothPredictors: x, softWeights: x, lmsPredictors: x)
                XCTAssertEqual(try decode(code(img, o, palette: pal), like: img, palette: pal), img, "\(c)×\(bd) palette \(pal)")
            }
        }
    }

    /// The NLMS slots' extra neighbours (NNE, NWW, NNW, NEE) at every border: images one or two
    /// pixels wide or high.
    func testNLMSSlotsOnThinImages() throws {
        for (w, h) in [(1, 1), (1, 6), (6, 1), (2, 2), (2, 5), (5, 2), (3, 3)] {
            for (c, bd) in [(3, 8), (4, 16)] {
                let img = Self.testImage(w, h, c, bd, seed: UInt64(w * 10 + h))
                for (x, sm) in [(true, false), (true, true), (false, false)] {
                    let o = ClassicalCoder.Options(colourTransform: 6, extendedModel: x, smoothPredictors: sm, softWeights: true,
                                                   lmsPredictors: true)
                    XCTAssertEqual(try decode(code(img, o), like: img), img, "\(w)×\(h)×\(c) \(bd)-bit extended \(x) smooth \(sm)")
                }
            }
        }
    }

    func testEntryCoderRoundTripsLargerImages() throws {
        let coder = Classic2EntryCoder()
        for (c, bd) in [(3, 8), (4, 16)] {
            let img = Self.testImage(33, 17, c, bd, seed: 5)
            let payload = try coder.encode(img, isPalette: false, context: CodingContext())
            XCTAssertEqual(try decode(payload, like: img), img)
            XCTAssertEqual(payload[0] & 0x40, 0x40, "the writer uses the extended model on colour images")
            XCTAssertEqual(code(img, .choose(for: img, isPalette: false)), payload)
        }
    }

    /// Every effort's choice decodes with the one decoder; effort 9 tries what 5 tries (on this
    /// small image both code the whole image), so it never costs more model bits.
    func testEffortLevelsRoundTrip() throws {
        let img = Self.testImage(12, 7, 3, 8, seed: 11)
        var sizes: [Int] = []
        for effort in [1, 5, 7, 9] {
            let payload = try Classic2EntryCoder(effort: effort).encode(img, isPalette: false, context: CodingContext())
            XCTAssertEqual(try decode(payload, like: img), img, "effort \(effort)")
            sizes.append(payload.count)
        }
        XCTAssertLessThanOrEqual(sizes[3], sizes[1] + 1, "effort 9 tries everything 5 tries (+1: range-coder flush)")
    }

    /// Transform 0 without the extended model is coder 1 without statistics, after the header byte
    /// and the prediction code.
    func testOptionsOffIsCoderOne() {
        for (c, bd) in [(1, 8), (3, 8), (4, 16), (2, 2)] {
            let img = Self.testImage(9, 6, c, bd, seed: 3)
            var e = RangeEncoder()
            e.encodeBits(0, count: 2)
            ClassicalCoder.encode(img, reconstruction: nil, statistics: nil, into: &e)
            XCTAssertEqual(code(img, ClassicalCoder.Options()), [0] + e.finish())
        }
    }

    func testBadHeadersThrow() {
        let rgb = Self.testImage(3, 2, 3, 8, seed: 1), grey = Self.testImage(3, 2, 1, 8, seed: 1)
        XCTAssertThrowsError(try decode([], like: rgb))
        XCTAssertThrowsError(try decode([0x80 | 63, 0, 0], like: rgb), "transform ids 42…63 are reserved")
        XCTAssertThrowsError(try decode([42, 0, 0], like: rgb), "transform ids end at 41")
        XCTAssertThrowsError(try decode([6, 0, 0], like: grey), "no transform on one channel")
        XCTAssertThrowsError(try decode([6, 0, 0], like: grey, palette: true))
        XCTAssertNoThrow(try decode([0xC0 | 41], like: rgb), "a valid header with an empty stream decodes to something")
        XCTAssertNoThrow(try decode([0xC0, 0x80], like: rgb), "prediction code 2: the NLMS slots")
        XCTAssertNoThrow(try decode([0xC0, 0xC0], like: rgb), "prediction code 3: soft weights and the NLMS slots")
    }

    func testCorruptPayloadsNeverTrap() throws {
        var rng = SplitMix64(seed: 62)
        let img = Self.testImage(6, 5, 4, 16, seed: 9)
        for lms in [false, true] {
            let payload = code(img, .init(colourTransform: 27, extendedModel: true, smoothPredictors: true, softWeights: true,
                                          lmsPredictors: lms))
            for _ in 0..<100 {
                var bad = payload
                bad[1 + rng.below(bad.count - 1)] ^= UInt8(1 << rng.below(8))
                if rng.below(3) == 0 { bad.removeLast(rng.below(bad.count - 1)) }
                _ = try? decode(bad, like: img)
            }
        }
    }

    /// Golden vectors: the exact payloads of 5×4 and 6×5 images (RGB, RGBA, 16-bit RGB, palette,
    /// with and without the NLMS slots) under fixed options. Any change here is a format change of
    /// coder 6: archives in the wild hold it.
    func testGoldenPayloads() {
        let cases: [(PixelImage, ClassicalCoder.Options, Bool, String)] = [
            (Self.testImage(5, 4, 3, 8, seed: 1), .init(colourTransform: 6, extendedModel: true), false, "RGB YCoCg-R"),
            (Self.testImage(5, 4, 3, 8, seed: 2), .init(colourTransform: 10, extendedModel: true, smoothPredictors: true, softWeights: true), false, "RGB G,B−G,R−G smooth soft"),
            (Self.testImage(5, 4, 4, 8, seed: 3), .init(colourTransform: 33, extendedModel: true), false, "RGBA"),
            (Self.testImage(5, 4, 3, 16, seed: 4), .init(colourTransform: 5, extendedModel: true, smoothPredictors: true, softWeights: true), false, "16-bit RGB smooth soft"),
            (Self.testImage(5, 4, 4, 16, seed: 5), .init(colourTransform: 6, extendedModel: false), false, "16-bit RGBA"),
            (Self.testImage(5, 4, 1, 4, seed: 6), .init(colourTransform: 0, extendedModel: false), true, "4-bit palette"),
            (Self.testImage(6, 5, 3, 8, seed: 7), .init(colourTransform: 10, extendedModel: true, smoothPredictors: true, softWeights: true,
                                                        lmsPredictors: true), false, "RGB smooth soft NLMS"),
            (Self.testImage(6, 5, 4, 16, seed: 8), .init(colourTransform: 6, extendedModel: true, lmsPredictors: true), false,
             "16-bit RGBA NLMS"),
            (Self.testImage(6, 5, 3, 8, seed: 9), .init(colourTransform: 0, extendedModel: false, lmsPredictors: true), false,
             "RGB without the extended model, NLMS"),
        ]
        let expected = Self.golden
        for (n, (img, o, pal, name)) in cases.enumerated() {
            let hex = code(img, o, palette: pal).map { String(format: "%02x", $0) }.joined()
            XCTAssertEqual(hex, expected[safe: n] ?? "", name)
        }
    }

    /// The NLMS slots over a larger image (their float weights adapt for 3,072 samples per channel
    /// here): the CRC-32 of the payload pins every rounding of Spec/CODEC.md §8.3's arithmetic.
    func testGoldenNLMSPayloadCRC() {
        let img = Self.testImage(64, 48, 3, 8, seed: 12), deep = Self.testImage(40, 30, 3, 16, seed: 13)
        let o = ClassicalCoder.Options(colourTransform: 6, extendedModel: true, smoothPredictors: true, softWeights: true, lmsPredictors: true)
        XCTAssertEqual(String(crc32(code(img, o)), radix: 16), "d49acde2")
        XCTAssertEqual(String(crc32(code(deep, o)), radix: 16), "9a6cebd3")
    }

    static let golden: [String] = [
        "46346395f66acde43f4f3e7c36c93856749544580e32cc2f4476ff1a10d0a4bd783e02cd4096169d2fd8",
        "ca74651396b0c9fc8a6ea142953b1698bd6ac1ee41ae71fc0241b4c5b86fe4ad0a2125c263ad5335bcf152d5081aa13498",
        "613463fb3cefee397cde00c3f03fc7cdc2d2ae52b9cbef9399e3db414c2e85ba529810183f596d1ff9509661ae053e802e3e2b850dffb5ffcf0f833245",
        "c5590b2191a5e69ac3dac027995e8ea12d4daa0dbd50e0d7a0dae113f0fb2e7234f2319711c7fe9daf8d54dd317a6d0086e37d42e9c869698b14259f02958b24f1b9dfa35d22c7",
        "0638e02e0a6bfe4b8aabfa4bdeeb25d0b021e6485f2eeb2f2168d8da1e07a3e01f0981529d26891fafdb64f6669385cc4f388ad3101b95c773da2fb8c360ae61ae90bb3e5bbc92663b85d0e2f5f5a74600a9ba2fff0de198",
        "003cb894b0f89d926a7a9bc433189d888e",
        "caeda20bbe877426d1c5aa6eaf20ad774a36bcaa0b0a97dfb3f195077649810df6eb8d77395aa02a533307eee1be8e7e8bbc33d2bb65e16c2e67aafcfbffee349ca8b820d7841b2d",
        "46b83a3a05f3188df1e42b5e7d75431885ec54381f00e7312cf69368bf5e301d278f4339886bde5aebdab70f6525f286839fda118cacda1810b595a24d3cd0637b06a1997e3bbce683707c803503e00f6f473fe3bb9d9ed45dec96b8a079c034f00ff76e7bd8750c3af87598f2ca520adc9939da1057e1eaaffbc6c8a51fbbe33e3128d7a5",
        "00aabb1259a4c10357294165b03724a2f53b48573b259c51fe86413b46d2032e0a38c8e7091a1168ab8712dd3ec7495d19b3ba281866a3d907ea8dc469556ab4ca65",
    ]
}
