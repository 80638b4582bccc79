import Foundation
@testable import DDNKernel

/// Builds PNG files byte by byte (chunk framing, zlib "stored" blocks, Adler-32), so tests can
/// make files libpng's writer never would: odd filler bits, bad CRCs, trailing bytes, APNG chunks.
enum PNGFixture {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }

    /// One chunk: length, type, data, CRC (or `badCRC` flipped).
    static func chunk(_ type: String, _ data: [UInt8], badCRC: Bool = false) -> [UInt8] {
        let body = Array(type.utf8) + data
        var crc = crc32(body)
        if badCRC { crc ^= 1 }
        return be32(UInt32(data.count)) + body + be32(crc)
    }

    static func ihdr(width: Int, height: Int, bitDepth: Int, colorType: Int, interlace: Int = 0) -> [UInt8] {
        chunk("IHDR", be32(UInt32(width)) + be32(UInt32(height)) + [UInt8(bitDepth), UInt8(colorType), 0, 0, UInt8(interlace)])
    }

    /// A zlib stream of `data` in stored (uncompressed) deflate blocks.
    static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var i = 0
        repeat {
            let n = min(65535, data.count - i)
            let final: UInt8 = i + n == data.count ? 1 : 0
            out += [final, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            out += data[i..<(i + n)]
            i += n
        } while i < data.count
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in data { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
        return out + be32(b << 16 | a)
    }

    /// A whole non-interlaced PNG from raw (already packed) rows, each prefixed with filter 0.
    static func file(width: Int, height: Int, bitDepth: Int, colorType: Int, rows: [[UInt8]],
                     before: [[UInt8]] = [], after: [[UInt8]] = [], interlace: Int = 0) -> [UInt8] {
        let raw: [UInt8] = rows.flatMap { row -> [UInt8] in [0] + row }
        return signature + ihdr(width: width, height: height, bitDepth: bitDepth, colorType: colorType, interlace: interlace)
            + before.flatMap { $0 } + chunk("IDAT", zlibStored(raw)) + after.flatMap { $0 } + chunk("IEND", [])
    }

    /// Random samples for a shape.
    static func randomImage(width: Int, height: Int, colorType: PNGColorType, bitDepth: Int,
                            rng: inout SplitMix64, paletteSize: Int = 0) -> PixelImage {
        let c = colorType.channels
        let limit = colorType == .palette ? min(paletteSize, 1 << bitDepth) : 1 << bitDepth
        let samples = (0..<(width * height * c)).map { _ in UInt16(rng.below(limit)) }
        return PixelImage(width: width, height: height, channels: c, bitDepth: bitDepth, samples: samples)
    }

    /// A random `PNGImage` of any colour type (palette images get a palette of 2^depth entries).
    static func randomPNG(width: Int, height: Int, colorType: PNGColorType, bitDepth: Int, interlaced: Bool = false,
                          rng: inout SplitMix64) -> PNGImage {
        let entries = colorType == .palette ? 1 << bitDepth : 0
        let palette = (0..<(entries * 3)).map { _ in UInt8(rng.below(256)) }
        return PNGImage(pixels: randomImage(width: width, height: height, colorType: colorType, bitDepth: bitDepth,
                                            rng: &rng, paletteSize: entries),
                        colorType: colorType, palette: palette, interlaced: interlaced)
    }

    /// Every (colour type, bit depth) PNG allows.
    static var allFormats: [(PNGColorType, Int)] {
        PNGColorType.allCases.flatMap { ct in ct.allowedBitDepths.map { (ct, $0) } }
    }
}
