import XCTest
@testable import DDNKernel

/// Classical coder: exact round trips for every sample type and odd size, codeLength accuracy.
final class ClassicalCoderTests: XCTestCase {
    /// Encodes, decodes, compares; checks the stream against `codeLength`. Returns the byte count.
    @discardableResult
    func roundTrip(_ img: PixelImage, rec: [UInt16]? = nil, stats: ResidualStatistics? = nil, palette: Bool = false,
                   file: StaticString = #filePath, line: UInt = #line) -> Int {
        var e = RangeEncoder()
        ClassicalCoder.encode(img, reconstruction: rec, statistics: stats, isPalette: palette, into: &e)
        let bytes = e.finish()
        var d = RangeDecoder(bytes)
        let out = try? ClassicalCoder.decode(width: img.width, height: img.height, channels: img.channels, bitDepth: img.bitDepth,
                                             reconstruction: rec, statistics: stats, isPalette: palette, from: &d)
        XCTAssertEqual(out, img, "\(img.width)x\(img.height)x\(img.channels) depth \(img.bitDepth) palette \(palette) rec \(rec != nil)", file: file, line: line)
        let model = ClassicalCoder.codeLength(img, reconstruction: rec, statistics: stats, isPalette: palette)
        let actual = Double(bytes.count * 8)
        // Flush: <= ~2 bytes; rounding of r = range / total: < 2^-8 bit per coded token. The stream
        // can also be shorter than the model cost: trailing zero bytes are implied, so a tail of
        // likely symbols at the bottom of their tables is free.
        let slack = 24 + Double(img.subPixelCount * 2) / 256
        XCTAssert(actual <= model + slack, "actual \(actual) bits vs model \(model)", file: file, line: line)
        XCTAssert(actual >= model * 0.9 - 64, "actual \(actual) bits vs model \(model)", file: file, line: line)
        return bytes.count
    }

    func randomImage(_ rng: inout SplitMix64, _ w: Int, _ h: Int, _ c: Int, _ bd: Int, smooth: Bool) -> PixelImage {
        let maxV = (1 << bd) - 1
        var s = [UInt16](repeating: 0, count: w * h * c)
        for i in 0..<s.count {
            if smooth && i >= c {
                let d = rng.below(5) - 2
                s[i] = UInt16(min(max(Int(s[i - c]) + d * max(1, maxV / 64), 0), maxV))
            } else {
                s[i] = UInt16(rng.below(maxV + 1))
            }
        }
        return PixelImage(width: w, height: h, channels: c, bitDepth: bd, samples: s)
    }

    /// A noisy copy of the image as a stand-in for x̂.
    func noisyCopy(_ rng: inout SplitMix64, _ img: PixelImage) -> [UInt16] {
        let maxV = img.maxValue
        return img.samples.map { UInt16(min(max(Int($0) + rng.below(9) - 4, 0), maxV)) }
    }

    func testEveryChannelCountAndDepth() {
        var rng = SplitMix64(seed: 2024)
        for bd in [1, 2, 4, 8, 16] {
            for c in 1...4 {
                for smooth in [false, true] {
                    let img = randomImage(&rng, 1 + rng.below(17), 1 + rng.below(9), c, bd, smooth: smooth)
                    roundTrip(img)
                    roundTrip(img, rec: noisyCopy(&rng, img))
                }
            }
        }
    }

    func testWithLearnedStatistics() throws {
        var rng = SplitMix64(seed: 77)
        var train: [PixelImage] = []
        for bd in [1, 8, 16] { for c in [1, 3] { train.append(randomImage(&rng, 12, 10, c, bd, smooth: true)) } }
        let recs = train.map { noisyCopy(&rng, $0) }
        let stats = ResidualStatistics.learn(from: train, reconstructions: nil)
        let statsRec = ResidualStatistics.learn(from: train, reconstructions: recs)
        XCTAssertFalse(stats.isNeutral)
        let stats2 = try ResidualStatistics(serialized: stats.serialized())
        XCTAssertEqual(stats2, stats)
        for bd in [1, 2, 8, 16] {
            for c in [1, 3, 4] {
                let img = randomImage(&rng, 11, 9, c, bd, smooth: true)
                roundTrip(img, stats: stats2)
                roundTrip(img, rec: noisyCopy(&rng, img), stats: statsRec)
                roundTrip(img, rec: noisyCopy(&rng, img), stats: stats)  // classes absent: neutral
            }
        }
    }

    func testAdaptiveModelInvariants() {
        var rng = SplitMix64(seed: 6)
        let m = AdaptiveModelSet(contexts: 3, alphabet: 7, increment: 32, limit: 300, initial: (0..<21).map { _ in UInt32(rng.below(200)) })
        let m2 = AdaptiveModelSet(contexts: 2, alphabet: 7, increment: 32, limit: 300)
        m._checkInvariants()
        var e = RangeEncoder()
        var syms: [(Int, Int, Int)] = []
        for _ in 0..<2000 {
            let s = rng.below(7), c = rng.below(3), c2 = rng.below(2)
            syms.append((s, c, c2))
            if c2 == 0 { m.encode(s, context: c, &e) } else { m.encode(s, context: c, with: m2, context: c2, &e) }
            m._checkInvariants(); m2._checkInvariants()
        }
        let bytes = e.finish()
        // The decoder side starts from the same counts.
        var rng2 = SplitMix64(seed: 6)
        let md = AdaptiveModelSet(contexts: 3, alphabet: 7, increment: 32, limit: 300, initial: (0..<21).map { _ in UInt32(rng2.below(200)) })
        let md2 = AdaptiveModelSet(contexts: 2, alphabet: 7, increment: 32, limit: 300)
        var d = RangeDecoder(bytes)
        for (s, c, c2) in syms {
            let got = c2 == 0 ? md.decode(context: c, &d) : md.decode(context: c, with: md2, context: c2, &d)
            XCTAssertEqual(got, s)
        }
    }

    func testPalette() {
        var rng = SplitMix64(seed: 5)
        for bd in [1, 2, 4, 8] {
            for smooth in [false, true] {
                let img = randomImage(&rng, 1 + rng.below(30), 1 + rng.below(20), 1, bd, smooth: smooth)
                roundTrip(img, palette: true)
            }
        }
        // Flat areas with a few colours cost little.
        var s = [UInt16](repeating: 3, count: 64 * 64)
        for i in 0..<64 { s[i * 64 + 10] = 200; s[30 * 64 + i] = 7 }
        let n = roundTrip(PixelImage(width: 64, height: 64, channels: 1, bitDepth: 8, samples: s), palette: true)
        XCTAssertLessThan(n, 80)
        let stats = ResidualStatistics.learn(from: [PixelImage(width: 64, height: 64, channels: 1, bitDepth: 8, samples: s)],
                                             reconstructions: nil, palette: [true])
        roundTrip(PixelImage(width: 64, height: 64, channels: 1, bitDepth: 8, samples: s), stats: stats, palette: true)
    }

    func testOddSizes() {
        var rng = SplitMix64(seed: 11)
        for (w, h) in [(1, 1), (1, 1000), (1000, 1), (65, 33)] {
            for (c, bd) in [(1, 8), (3, 16), (4, 8), (2, 1)] {
                let img = randomImage(&rng, w, h, c, bd, smooth: true)
                roundTrip(img)
                if w * h < 3000 { roundTrip(img, rec: noisyCopy(&rng, img)) }
            }
            roundTrip(randomImage(&rng, w, h, 1, 4, smooth: false), palette: true)
        }
        for v: [UInt16] in [[0], [255], [0, 0, 0, 0]] {
            roundTrip(PixelImage(width: 1, height: 1, channels: v.count, bitDepth: 8, samples: v))
        }
    }

    func testExtremes() {
        var s = [UInt16](repeating: 0, count: 64 * 64)
        s[33 * 64 + 17] = 255
        let n = roundTrip(PixelImage(width: 64, height: 64, channels: 1, bitDepth: 8, samples: s))
        XCTAssertLessThan(n, 60)
        var rng = SplitMix64(seed: 1)
        let t = (0..<(40 * 30)).map { _ in rng.below(2) == 0 ? UInt16(0) : 65535 }
        roundTrip(PixelImage(width: 40, height: 30, channels: 1, bitDepth: 16, samples: t))
        roundTrip(PixelImage(width: 20, height: 30, channels: 2, bitDepth: 16, samples: t))
        roundTrip(PixelImage(width: 40, height: 30, channels: 1, bitDepth: 16, samples: t), rec: t.map { 65535 - $0 })
        let white = [UInt16](repeating: 65535, count: 300)
        XCTAssertLessThan(roundTrip(PixelImage(width: 10, height: 10, channels: 3, bitDepth: 16, samples: white)), 20)
    }

    func testManySmallRandomImages() {
        var rng = SplitMix64(seed: 31337)
        for _ in 0..<300 {
            let bd = [1, 2, 4, 8, 16][rng.below(5)]
            let c = 1 + rng.below(4)
            let img = randomImage(&rng, 1 + rng.below(6), 1 + rng.below(6), c, bd, smooth: rng.below(2) == 0)
            roundTrip(img, rec: rng.below(2) == 0 ? noisyCopy(&rng, img) : nil)
            if c == 1 && bd <= 8 { roundTrip(img, palette: true) }
        }
    }

    func testDecoderOnHostileBytes() throws {
        var rng = SplitMix64(seed: 8)
        for trial in 0..<100 {
            let bytes = (0..<rng.below(200)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            var d = RangeDecoder(bytes)
            let bd = [1, 2, 4, 8, 16][trial % 5]
            let pal = trial % 7 == 0 && bd <= 8
            let c = pal ? 1 : 1 + trial % 4
            let img = try ClassicalCoder.decode(width: 9, height: 7, channels: c, bitDepth: bd, reconstruction: nil,
                                                statistics: nil, isPalette: pal, from: &d)
            XCTAssert(img.samples.allSatisfy { Int($0) <= img.maxValue })
        }
        // With learned statistics and a reconstruction too.
        let train = (0..<3).map { _ in randomImage(&rng, 9, 7, 3, 8, smooth: true) }
        let stats = ResidualStatistics.learn(from: train, reconstructions: train.map { $0.samples })
        for _ in 0..<50 {
            let bytes = (0..<rng.below(300)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            var d = RangeDecoder(bytes)
            let img = try ClassicalCoder.decode(width: 9, height: 7, channels: 3, bitDepth: 8, reconstruction: train[0].samples,
                                                statistics: stats, from: &d)
            XCTAssert(img.samples.allSatisfy { $0 <= 255 })
        }
        var d = RangeDecoder([])
        XCTAssertThrowsError(try ClassicalCoder.decode(width: 0, height: 7, channels: 1, bitDepth: 8, reconstruction: nil, statistics: nil, from: &d))
        XCTAssertThrowsError(try ClassicalCoder.decode(width: 2, height: 2, channels: 1, bitDepth: 3, reconstruction: nil, statistics: nil, from: &d))
        XCTAssertThrowsError(try ClassicalCoder.decode(width: 2, height: 2, channels: 1, bitDepth: 8, reconstruction: [1], statistics: nil, from: &d))
    }

    func testStatisticsSerialisationRejectsBadBytes() throws {
        var rng = SplitMix64(seed: 4)
        let img = randomImage(&rng, 20, 20, 3, 8, smooth: true)
        let bytes = ResidualStatistics.learn(from: [img], reconstructions: nil).serialized()
        XCTAssertEqual(try ResidualStatistics(serialized: ResidualStatistics().serialized()), ResidualStatistics())
        for cut in 0..<bytes.count { XCTAssertThrowsError(try ResidualStatistics(serialized: Array(bytes[0..<cut]))) }
        for _ in 0..<500 {
            var b = bytes
            b[rng.below(b.count)] ^= UInt8(1 << rng.below(8))
            _ = try? ResidualStatistics(serialized: b)  // must not trap
        }
    }

    /// Coder 1's entry coder with the starting models `prepare` builds writes the same bytes as
    /// the coder with the parsed statistics, and decodes them (grey and palette).
    func testPreparedModelsGiveTheSameBytes() throws {
        var rng = SplitMix64(seed: 19)
        let grey = randomImage(&rng, 9, 7, 1, 8, smooth: true), palette = randomImage(&rng, 6, 5, 1, 4, smooth: false)
        let blob = ClassicalEntryCoder.learn([grey, palette], [false, true])
        var context = CodingContext(statistics: blob)
        let coder = ClassicalEntryCoder()
        try coder.prepare(&context)
        let statistics = try ResidualStatistics(serialized: blob)
        for (img, pal) in [(grey, false), (palette, true)] {
            var e = RangeEncoder()
            ClassicalCoder.encode(img, reconstruction: nil, statistics: statistics, isPalette: pal, into: &e)
            let payload = try coder.encode(img, isPalette: pal, context: context)
            XCTAssertEqual(payload, e.finish(), "palette \(pal)")
            XCTAssertEqual(try coder.decode(payload, width: img.width, height: img.height, channels: 1, bitDepth: img.bitDepth,
                                            isPalette: pal, context: context), img)
        }
    }
}

/// The x̂ path and statistics edge cases.
final class ClassicalCoderReconstructionTests: XCTestCase {
    func testGoodReconstructionLowersTheCost() {
        var rng = SplitMix64(seed: 21)
        var s = [UInt16](repeating: 0, count: 40 * 40)
        for i in 0..<s.count { s[i] = UInt16(rng.below(256)) }  // noise: unpredictable causally
        let img = PixelImage(width: 40, height: 40, channels: 1, bitDepth: 8, samples: s)
        let plain = ClassicalCoder.codeLength(img, reconstruction: nil, statistics: nil)
        let exact = ClassicalCoder.codeLength(img, reconstruction: s, statistics: nil)
        let near = ClassicalCoder.codeLength(img, reconstruction: s.map { UInt16(min(255, Int($0) + rng.below(3))) }, statistics: nil)
        XCTAssertLessThan(exact, plain * 0.3)
        XCTAssertLessThan(near, plain * 0.6)
    }

    func testStatisticsRejectShapesTheCoderCannotUse() {
        // Hand-made header: one class, key 0x00080000 (8-bit samples, role 0, no x̂) with a wrong
        // context count, and one with an unknown kind. Both must be refused before any allocation.
        func bytes(key: UInt32, contexts: Int, alphabet: Int) -> [UInt8] {
            var b: [UInt8] = [0x52, 0x53, 1, 1]
            for i in 0..<4 { b.append(UInt8(truncatingIfNeeded: key >> (8 * UInt32(i)))) }
            b += [UInt8(contexts & 0xFF), UInt8(contexts >> 8), UInt8(alphabet)]
            b += [UInt8](repeating: 0xFF, count: (contexts + 7) / 8) + [0, 0, 0, 0]
            return b
        }
        XCTAssertThrowsError(try ResidualStatistics(serialized: bytes(key: 0x0008_0000, contexts: 65535, alphabet: 255)))
        XCTAssertThrowsError(try ResidualStatistics(serialized: bytes(key: 0x0908_0000, contexts: 160, alphabet: 24)))
        XCTAssertNoThrow(try ResidualStatistics(serialized: bytes(key: 0x0008_0000, contexts: 160, alphabet: 24)))
    }

    func testMixedImagesLearnTogether() throws {
        var rng = SplitMix64(seed: 9)
        var imgs: [PixelImage] = []
        var pal: [Bool] = []
        for (c, bd, p) in [(1, 8, false), (3, 8, false), (1, 4, true), (2, 16, false), (4, 1, false)] {
            let n = 12 * 9 * c
            imgs.append(PixelImage(width: 12, height: 9, channels: c, bitDepth: bd,
                                   samples: (0..<n).map { _ in UInt16(rng.below(1 << bd)) }))
            pal.append(p)
        }
        let stats = try ResidualStatistics(serialized: ResidualStatistics.learn(from: imgs, reconstructions: nil, palette: pal).serialized())
        for (img, p) in zip(imgs, pal) {
            var e = RangeEncoder()
            ClassicalCoder.encode(img, reconstruction: nil, statistics: stats, isPalette: p, into: &e)
            var d = RangeDecoder(e.finish())
            XCTAssertEqual(try ClassicalCoder.decode(width: img.width, height: img.height, channels: img.channels, bitDepth: img.bitDepth,
                                                     reconstruction: nil, statistics: stats, isPalette: p, from: &d), img)
        }
    }
}

final class StatisticsChoiceTests: XCTestCase {
    func testLearnIfWorthwhile() {
        var rng = SplitMix64(seed: 12)
        // One tiny noisy image: its tables cost more than they save.
        let tiny = PixelImage(width: 4, height: 4, channels: 1, bitDepth: 8, samples: (0..<16).map { _ in UInt16(rng.below(256)) })
        XCTAssertTrue(ResidualStatistics.learnIfWorthwhile(from: [tiny], reconstructions: nil).isNeutral)
        // Many similar small images: shared statistics pay.
        let similar = (0..<40).map { _ -> PixelImage in
            var s = [UInt16](repeating: 0, count: 16 * 16)
            for y in 4..<12 { for x in 4..<12 { s[y * 16 + x] = UInt16(150 + rng.below(40)) } }
            return PixelImage(width: 16, height: 16, channels: 1, bitDepth: 8, samples: s)
        }
        let stats = ResidualStatistics.learnIfWorthwhile(from: similar, reconstructions: nil)
        XCTAssertFalse(stats.isNeutral)
        let with = similar.reduce(0.0) { $0 + ClassicalCoder.codeLength($1, reconstruction: nil, statistics: stats) }
        let without = similar.reduce(0.0) { $0 + ClassicalCoder.codeLength($1, reconstruction: nil, statistics: nil) }
        XCTAssertLessThan(with + Double(stats.serialized().count * 8), without)
    }
}

/// The DDN coder shares one stream: path symbols, then the residual image, then more symbols.
final class SharedStreamTests: XCTestCase {
    func testSymbolsAndImagesInOneStream() throws {
        var rng = SplitMix64(seed: 3)
        let table = FrequencyTable(counts: [5, 1, 0, 9, 100], totalBits: 12)
        let imgs = (0..<3).map { k in
            PixelImage(width: 7 + k, height: 5, channels: 1, bitDepth: 8, samples: (0..<(35 + 5 * k)).map { _ in UInt16(rng.below(256)) })
        }
        let recs = imgs.map { $0.samples.map { UInt16(min(255, Int($0) + 3)) } }
        var e = RangeEncoder()
        var syms: [Int] = []
        for (img, rec) in zip(imgs, recs) {
            for _ in 0..<4 { let s = rng.below(5); syms.append(s); table.encode(s, &e) }
            e.encodeBits(0x2A5, count: 10)
            ClassicalCoder.encode(img, reconstruction: rec, statistics: nil, into: &e)
        }
        let bytes = e.finish()
        var d = RangeDecoder(bytes)
        var k = 0
        for (img, rec) in zip(imgs, recs) {
            for _ in 0..<4 { XCTAssertEqual(table.decode(&d), syms[k]); k += 1 }
            XCTAssertEqual(d.decodeBits(count: 10), 0x2A5)
            XCTAssertEqual(try ClassicalCoder.decode(width: img.width, height: img.height, channels: 1, bitDepth: 8,
                                                     reconstruction: rec, statistics: nil, from: &d), img)
        }
    }
}
