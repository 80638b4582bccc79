import XCTest
@testable import DDNKernel

/// PNG write → read round trips for every colour type and bit depth, odd sizes, interlacing, and
/// the tricky-but-valid PNGs of issue 5 item 1. Each also goes through an archive and back.
final class PNGRoundTripTests: XCTestCase {
    /// Writes, reads back and checks every field; then archives, restores and checks again.
    func assertRoundTrip(_ png: PNGImage, effort: PNGWriter.Effort = .normal, file: StaticString = #filePath, line: UInt = #line) throws {
        let bytes = try PNGWriter.encode(png, effort: effort)
        guard case .image(let back) = try PNGReader().read(bytes) else { return XCTFail("stored verbatim", file: file, line: line) }
        XCTAssertEqual(back, png, file: file, line: line)
        let (archive, _) = try ArchiveWriter().write([ArchiveInput(name: "x.png", bytes: bytes)])
        let restored = try ArchiveReader(archive).restore(0)
        guard case .image(let again) = try PNGReader().read(restored) else { return XCTFail("restored file stored", file: file, line: line) }
        XCTAssertEqual(again, png, file: file, line: line)
    }

    func testEveryFormatAndOddSizes() throws {
        var rng = SplitMix64(seed: 1)
        for (ct, depth) in PNGFixture.allFormats {
            for (w, h) in [(1, 1), (1, 1000), (1000, 1), (65, 33)] {
                for interlaced in [false, true] where !(interlaced && w * h > 2200) {
                    try assertRoundTrip(PNGFixture.randomPNG(width: w, height: h, colorType: ct, bitDepth: depth,
                                                             interlaced: interlaced, rng: &rng))
                }
            }
        }
    }

    func testBestEffortKeepsPixels() throws {
        var rng = SplitMix64(seed: 2)
        for (ct, depth) in PNGFixture.allFormats {
            try assertRoundTrip(PNGFixture.randomPNG(width: 17, height: 9, colorType: ct, bitDepth: depth, rng: &rng), effort: .best)
        }
    }

    func testSixteenBitSamplesAreBigEndian() throws {
        // 4×1 16-bit grey, bytes written by hand: 0x0102 must read as 258.
        let row: [UInt8] = [0x01, 0x02, 0xFF, 0x00, 0x00, 0xFF, 0x80, 0x01]
        let file = PNGFixture.file(width: 4, height: 1, bitDepth: 16, colorType: 0, rows: [row])
        guard case .image(let png) = try PNGReader().read(file) else { return XCTFail() }
        XCTAssertEqual(png.pixels.samples, [258, 0xFF00, 0x00FF, 0x8001])
        try assertRoundTrip(png)
    }

    func testSixteenBitRGBSolids() throws {
        let samples = [UInt16](repeating: 0, count: 4 * 4 * 3).enumerated().map { $0.offset % 3 == 0 ? UInt16(65535) : 0 }
        try assertRoundTrip(PNGImage(pixels: PixelImage(width: 4, height: 4, channels: 3, bitDepth: 16, samples: samples), colorType: .rgb))
    }

    func testPaletteWith200EntriesAnd174Alphas() throws {
        let palette = (0..<600).map { UInt8($0 % 251) }
        let trns = (0..<174).map { UInt8($0 % 2 == 0 ? 0 : 128) }
        let indices = (0..<64).map { UInt16([0, 100, 173, 174, 175, 199][$0 % 6]) }
        try assertRoundTrip(PNGImage(pixels: PixelImage(width: 8, height: 8, channels: 1, bitDepth: 8, samples: indices),
                                     colorType: .palette, palette: palette, transparency: trns))
    }

    func testGreyAlphaEdgeAlphas() throws {
        for depth in [8, 16] {
            let alphas: [UInt16] = depth == 8 ? [0, 1, 128, 255] : [0, 1, 128, 255, 65535]
            var samples: [UInt16] = []
            for i in 0..<(5 * 4) { samples += [UInt16((i * 37) % (1 << depth)), alphas[i % alphas.count]] }
            try assertRoundTrip(PNGImage(pixels: PixelImage(width: 5, height: 4, channels: 2, bitDepth: depth, samples: samples),
                                         colorType: .grayAlpha))
        }
    }

    func testSubByteSizes() throws {
        var rng = SplitMix64(seed: 3)
        try assertRoundTrip(PNGFixture.randomPNG(width: 9, height: 3, colorType: .gray, bitDepth: 2, rng: &rng))
        try assertRoundTrip(PNGFixture.randomPNG(width: 1, height: 1, colorType: .gray, bitDepth: 1, rng: &rng))
    }

    func testUnusedTrailingBitsSetToOne() throws {
        // 13×2 4-bit palette: 13 samples fill 6.5 bytes; the last nibble of each row is 0xF filler.
        let plte = PNGFixture.chunk("PLTE", (0..<48).map { UInt8($0 * 5) })
        let rows: [[UInt8]] = [[0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCF], [0xFE, 0xDC, 0xBA, 0x98, 0x76, 0x54, 0x3F]]
        let file = PNGFixture.file(width: 13, height: 2, bitDepth: 4, colorType: 3, rows: rows, before: [plte])
        guard case .image(let png) = try PNGReader().read(file) else { return XCTFail() }
        XCTAssertEqual(Array(png.pixels.samples[0..<13]), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
        XCTAssertEqual(Array(png.pixels.samples[13..<26]), [15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3])
        try assertRoundTrip(png)
    }

    func testInterlacedSmallSizes() throws {
        var rng = SplitMix64(seed: 4)
        for (w, h) in [(1, 1), (3, 5), (7, 9), (9, 1)] {
            try assertRoundTrip(PNGFixture.randomPNG(width: w, height: h, colorType: .rgb, bitDepth: 8, interlaced: true, rng: &rng))
        }
        try assertRoundTrip(PNGFixture.randomPNG(width: 5, height: 5, colorType: .palette, bitDepth: 2, interlaced: true, rng: &rng))
    }

    func testRGBAHiddenColourAndEdgeAlphas() throws {
        var rng = SplitMix64(seed: 5)
        for depth in [8, 16] {
            var png = PNGFixture.randomPNG(width: 6, height: 6, colorType: .rgba, bitDepth: depth, rng: &rng)
            for p in stride(from: 0, to: 36, by: 2) { png.pixels.samples[p * 4 + 3] = 0 }  // alpha 0, colour kept
            try assertRoundTrip(png)
        }
        var samples: [UInt16] = []
        for a in 1...254 { samples += [255, UInt16(a % 2) * 255, 0, UInt16(a)] }
        try assertRoundTrip(PNGImage(pixels: PixelImage(width: 254, height: 1, channels: 4, bitDepth: 8, samples: samples), colorType: .rgba))
    }

    func testSixteenBitRampWithoutColourChunks() throws {
        let ramp = (0..<256).map { UInt16($0 * 257) }
        try assertRoundTrip(PNGImage(pixels: PixelImage(width: 256, height: 1, channels: 1, bitDepth: 16, samples: ramp), colorType: .gray))
    }

    func testColourChunksAreKeptAndNotApplied() throws {
        var rng = SplitMix64(seed: 6)
        let gama = PNGChunk(type: Array("gAMA".utf8), position: .beforePLTE, data: [0, 1, 0x86, 0xA0])  // gamma 1.0
        let iccp = PNGChunk(type: Array("iCCP".utf8), position: .beforePLTE, data: Array("x\0".utf8) + [0, 0x78, 0x01, 0x03, 0, 0, 0, 0, 1])
        for chunks in [[gama], [iccp]] {
            var png = PNGFixture.randomPNG(width: 7, height: 5, colorType: .rgb, bitDepth: 8, rng: &rng)
            png.chunks = chunks
            try assertRoundTrip(png)
        }
        // Grey-looking RGB with iCCP: colour type stays RGB.
        let grey = (0..<(4 * 4)).flatMap { i -> [UInt16] in let v = UInt16(i * 16); return [v, v, v] }
        try assertRoundTrip(PNGImage(pixels: PixelImage(width: 4, height: 4, channels: 3, bitDepth: 8, samples: grey),
                                     colorType: .rgb, chunks: [iccp]))
    }

    func testSBITWithLowBitsSet() throws {
        var rng = SplitMix64(seed: 7)
        var png = PNGFixture.randomPNG(width: 5, height: 3, colorType: .rgba, bitDepth: 16, rng: &rng)
        png.pixels.samples = png.pixels.samples.map { $0 | 0x00FF }
        png.chunks = [PNGChunk(type: Array("sBIT".utf8), position: .beforePLTE, data: [8, 8, 8, 1])]
        try assertRoundTrip(png)
    }

    func testDuplicatePaletteColours() throws {
        let palette: [UInt8] = [10, 20, 30, 10, 20, 30, 10, 20, 30, 0, 0, 0]
        let indices: [UInt16] = [0, 1, 2, 3, 3, 2, 1, 0]
        try assertRoundTrip(PNGImage(pixels: PixelImage(width: 4, height: 2, channels: 1, bitDepth: 2, samples: indices),
                                     colorType: .palette, palette: palette))
    }

    func testChunkPositionsAndOrderKept() throws {
        var rng = SplitMix64(seed: 8)
        var png = PNGFixture.randomPNG(width: 3, height: 3, colorType: .palette, bitDepth: 8, rng: &rng)
        png.transparency = [0, 255, 7]
        png.chunks = [
            PNGChunk(type: Array("tEXt".utf8), position: .beforePLTE, data: Array("a\0b".utf8)),
            PNGChunk(type: Array("prVt".utf8), position: .beforePLTE, data: []),
            PNGChunk(type: Array("bKGD".utf8), position: .beforeIDAT, data: [1]),
            PNGChunk(type: Array("zzZz".utf8), position: .beforeIDAT, data: [1, 2, 3]),
            PNGChunk(type: Array("tIME".utf8), position: .afterIDAT, data: [7, 0xE6, 1, 2, 3, 4, 5]),
            PNGChunk(type: Array("tEXt".utf8), position: .afterIDAT, data: Array("c\0d".utf8)),
        ]
        try assertRoundTrip(png)
    }
}
