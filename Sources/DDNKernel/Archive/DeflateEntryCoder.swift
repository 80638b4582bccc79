import CPNG

/// Entry coder id 4: PNG's own method (per-row filters, all five tried, then zlib level 9) by
/// libpng. Payload: the zlib stream of a non-interlaced PNG with the entry's shape (grey, grey +
/// alpha, RGB or RGBA by channel count; palette indices as grey). It is the safety net that keeps
/// every entry within a few bytes of "PNG at its best" where the context coder does worse
/// (e.g. smooth synthetic 16-bit gradients).
public struct DeflateEntryCoder: EntryCoder {
    /// The coder (stateless).
    public init() {}
    /// `CoderID.deflate`.
    public var id: UInt8 { CoderID.deflate }
    /// Nothing to prepare.
    public func prepare(_ context: inout CodingContext) throws {}

    /// See `EntryCoder.accepts`.
    public func accepts(_ image: PixelImage, isPalette: Bool, context: CodingContext) -> Bool { true }

    static func colorType(channels: Int) -> PNGColorType {
        [PNGColorType.gray, .grayAlpha, .rgb, .rgba][channels - 1]
    }

    /// See `EntryCoder.encode`.
    public func encode(_ image: PixelImage, isPalette: Bool, context: CodingContext) throws -> [UInt8] {
        let png = PNGImage(pixels: image, colorType: Self.colorType(channels: image.channels))
        let file = try PNGWriter.encode(png, effort: .best)
        // Concatenate the IDAT payloads.
        var out: [UInt8] = []
        var pos = 8
        while pos + 12 <= file.count {
            let n = Int(file[pos]) << 24 | Int(file[pos + 1]) << 16 | Int(file[pos + 2]) << 8 | Int(file[pos + 3])
            if file[pos + 4] == 0x49 && file[pos + 5] == 0x44 && file[pos + 6] == 0x41 && file[pos + 7] == 0x54 {
                out += file[(pos + 8)..<(pos + 8 + n)]
            }
            pos += 12 + n
        }
        return out
    }

    /// See `EntryCoder.decode`.
    public func decode(_ payload: [UInt8], width: Int, height: Int, channels: Int, bitDepth: Int, isPalette: Bool,
                       context: CodingContext) throws -> PixelImage {
        guard (1...4).contains(channels), width > 0, height > 0, width <= 0x7FFF_FFFF, height <= 0x7FFF_FFFF,
              Self.colorType(channels: channels).allowedBitDepths.contains(bitDepth) else {
            throw ArchiveError.invalidField(field: "deflate entry", detail: "has an invalid shape")
        }
        var file = PNGReader.signature
        func chunk(_ type: String, _ data: [UInt8]) {
            var w = ByteWriter()
            w.u32(UInt32(data.count))
            let body = Array(type.utf8) + data
            w.raw(body)
            w.u32(crc32(body))
            file += w.bytes
        }
        var ihdr = ByteWriter()
        ihdr.u32(UInt32(width)); ihdr.u32(UInt32(height))
        ihdr.u8(UInt8(bitDepth)); ihdr.u8(Self.colorType(channels: channels).rawValue); ihdr.u8(0); ihdr.u8(0); ihdr.u8(0)
        chunk("IHDR", ihdr.bytes)
        chunk("IDAT", payload)
        chunk("IEND", [])
        guard case .image(let png) = try PNGReader(maxPixels: width * height).read(file) else {
            throw ArchiveError.invalidField(field: "deflate entry", detail: "does not decode")
        }
        return png.pixels
    }
}
