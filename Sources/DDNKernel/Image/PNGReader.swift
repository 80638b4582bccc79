import CPNG

/// Reads PNG files: first scans the chunk framing (with zlib's CRC-32), then lets libpng's
/// classic API decode the pixels with no transformation.
///
/// What comes back:
/// - `.image`: the pixels and everything needed to write the file again (see `PNGImage`);
/// - `.verbatim`: a file libpng reads but ddnzip cannot re-create exactly (an animated PNG, an
///   ancillary chunk with a bad CRC, bytes after IEND, no IEND, IDAT chunks that are not
///   consecutive, a palette or tRNS libpng would not write back). The archive keeps its bytes.
///
/// Anything else that libpng cannot decode is refused with an `ImageError`.
/// Source: Spec/ARCHIVE.md §5.
public struct PNGReader: Sendable {
    /// Largest `width × height` accepted; larger IHDRs are refused before any pixel memory is
    /// allocated. Default 2^26 (e.g. 8192 × 8192).
    public var maxPixels: Int

    /// - Parameter maxPixels: the pixel limit (default 2^26).
    public init(maxPixels: Int = 1 << 26) {
        self.maxPixels = maxPixels
    }

    /// The result of reading one file.
    public enum Result: Sendable {
        /// A PNG that the archive can re-create exactly from its pixels and metadata.
        case image(PNGImage)
        /// A PNG to keep byte for byte; `reason` says why (one line). `subPixels` counts the
        /// samples of its first image (for statistics such as bits per sub-pixel).
        case verbatim(reason: String, subPixels: Int)
    }

    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Reads a PNG file held in memory.
    /// - Throws: `ImageError` when the file is not a PNG that libpng can decode, or is larger
    ///   than `maxPixels`.
    /// - Complexity: O(file size + pixels).
    public func read(_ bytes: [UInt8]) throws -> Result {
        let scan = try PNGChunkScan(bytes, maxPixels: maxPixels)
        var decoded = cpng_decoded()
        var message = [CChar](repeating: 0, count: 256)
        let code = bytes.withUnsafeBufferPointer { buf in
            cpng_decode(buf.baseAddress, buf.count, UInt64(maxPixels), &decoded, &message, message.count)
        }
        guard code == 0 else {
            let text = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if code == 2 { throw ImageError.tooLarge(width: scan.width, height: scan.height, limit: maxPixels) }
            throw ImageError.unreadable(text.isEmpty ? "libpng error \(code)" : text)
        }
        defer { cpng_free(decoded.samples) }
        if let reason = scan.verbatimReason {
            return .verbatim(reason: reason, subPixels: Int(decoded.width) * Int(decoded.height) * Int(decoded.channels))
        }
        guard Int(decoded.width) == scan.width, Int(decoded.height) == scan.height,
              Int(decoded.bit_depth) == scan.bitDepth, Int(decoded.color_type) == Int(scan.colorType.rawValue),
              Int(decoded.channels) == scan.colorType.channels
        else {
            return .verbatim(reason: "libpng and the chunk scan disagree on IHDR",
                             subPixels: Int(decoded.width) * Int(decoded.height) * Int(decoded.channels))
        }
        let count = scan.width * scan.height * scan.colorType.channels
        let samples = Array(UnsafeBufferPointer(start: decoded.samples, count: count))
        let pixels = PixelImage(width: scan.width, height: scan.height, channels: scan.colorType.channels,
                                bitDepth: scan.bitDepth, samples: samples)
        return .image(PNGImage(pixels: pixels, colorType: scan.colorType, palette: scan.palette,
                               transparency: scan.transparency, interlaced: scan.interlaced, chunks: scan.chunks))
    }
}

/// The chunk framing of a PNG file: IHDR fields, PLTE, tRNS, ancillary chunks with positions,
/// and whether the file must be kept verbatim. Checks every chunk's CRC with zlib.
struct PNGChunkScan {
    var width = 0, height = 0, bitDepth = 0
    var colorType = PNGColorType.gray
    var interlaced = false
    var palette: [UInt8] = []
    var transparency: [UInt8] = []
    var chunks: [PNGChunk] = []
    /// Non-nil when the file must be stored byte for byte.
    var verbatimReason: String?

    init(_ b: [UInt8], maxPixels: Int) throws {
        guard b.count >= 8, Array(b[0..<8]) == PNGReader.signature else {
            throw b.count < 8 && b == Array(PNGReader.signature.prefix(b.count)) && !b.isEmpty
                ? ImageError.truncated : ImageError.notPNG
        }
        var pos = 8
        var position = PNGChunk.Position.beforePLTE
        var sawIHDR = false, sawIEND = false, idatEnded = false, sawIDAT = false
        func keep(_ reason: String) { if verbatimReason == nil { verbatimReason = reason } }
        while pos < b.count {
            guard b.count - pos >= 12 else { throw ImageError.truncated }
            let length = Int(b[pos]) << 24 | Int(b[pos + 1]) << 16 | Int(b[pos + 2]) << 8 | Int(b[pos + 3])
            guard length <= 0x7FFF_FFFF else { throw ImageError.badChunk("chunk length over 2^31−1") }
            guard b.count - pos - 12 >= length else { throw ImageError.truncated }
            let type = Array(b[(pos + 4)..<(pos + 8)])
            guard type.allSatisfy({ ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) }) else {
                throw ImageError.badChunk("invalid chunk type at byte \(pos + 4)")
            }
            let name = String(decoding: type, as: UTF8.self)
            let dataStart = pos + 8, dataEnd = pos + 8 + length
            let stored = UInt32(b[dataEnd]) << 24 | UInt32(b[dataEnd + 1]) << 16 | UInt32(b[dataEnd + 2]) << 8 | UInt32(b[dataEnd + 3])
            let crc = b.withUnsafeBufferPointer { cpng_crc32(0, $0.baseAddress! + pos + 4, length + 4) }
            let critical = type[0] & 0x20 == 0
            if crc != stored {
                if critical { throw ImageError.badCRC(chunk: name) }
                keep("the \(name) chunk fails its CRC")
            }
            if !sawIHDR && name != "IHDR" { throw ImageError.badChunk("first chunk is \(name), not IHDR") }
            let data = name == "IDAT" ? [] : Array(b[dataStart..<dataEnd])  // IDAT is libpng's to read
            pos = dataEnd + 4
            if sawIDAT && name != "IDAT" { idatEnded = true }
            switch name {
            case "IHDR":
                guard !sawIHDR else { throw ImageError.badChunk("two IHDR chunks") }
                guard length == 13 else { throw ImageError.badChunk("IHDR length is \(length)") }
                sawIHDR = true
                width = Int(data[0]) << 24 | Int(data[1]) << 16 | Int(data[2]) << 8 | Int(data[3])
                height = Int(data[4]) << 24 | Int(data[5]) << 16 | Int(data[6]) << 8 | Int(data[7])
                bitDepth = Int(data[8])
                guard width > 0, height > 0 else { throw ImageError.badChunk("width or height is 0") }
                guard width <= 0x7FFF_FFFF, height <= 0x7FFF_FFFF else { throw ImageError.badChunk("width or height over 2^31−1") }
                guard let ct = PNGColorType(rawValue: data[9]) else { throw ImageError.badChunk("invalid colour type \(data[9])") }
                guard ct.allowedBitDepths.contains(bitDepth) else {
                    throw ImageError.badChunk("bit depth \(bitDepth) is invalid for colour type \(data[9])")
                }
                guard data[10] == 0, data[11] == 0, data[12] <= 1 else { throw ImageError.badChunk("invalid IHDR method byte") }
                colorType = ct
                interlaced = data[12] == 1
                guard width * height <= maxPixels else { throw ImageError.tooLarge(width: width, height: height, limit: maxPixels) }
            case "PLTE":
                if !palette.isEmpty || sawIDAT { keep("misplaced or repeated PLTE") }
                palette = data
                position = .beforeIDAT
                if colorType == .palette && (length % 3 != 0 || length / 3 > 1 << bitDepth) {
                    keep("the palette does not fit the bit depth")
                }
                if length % 3 != 0 || length > 768 { keep("invalid palette length") }
            case "tRNS":
                if !transparency.isEmpty || sawIDAT { keep("misplaced or repeated tRNS") }
                transparency = data
                switch colorType {
                case .palette: if length > palette.count / 3 || length == 0 { keep("tRNS longer than the palette") }
                case .gray: if length != 2 { keep("tRNS of the wrong length") }
                case .rgb: if length != 6 { keep("tRNS of the wrong length") }
                default: keep("tRNS on an image with alpha")
                }
                if (colorType == .gray || colorType == .rgb) && length % 2 == 0 && bitDepth < 16 {
                    for i in stride(from: 0, to: length, by: 2) where Int(data[i]) << 8 | Int(data[i + 1]) >= 1 << bitDepth {
                        keep("tRNS value out of range")
                    }
                }
            case "IDAT":
                if idatEnded { keep("IDAT chunks are not consecutive") }
                sawIDAT = true
                position = .afterIDAT
            case "IEND":
                sawIEND = true
            case "acTL", "fcTL", "fdAT":
                keep("animated PNG (APNG)")
                chunks.append(PNGChunk(type: type, position: position, data: data))
            default:
                if critical { throw ImageError.unreadable("unknown critical chunk \(name)") }
                chunks.append(PNGChunk(type: type, position: position, data: data))
            }
            if sawIEND { break }
        }
        guard sawIHDR else { throw ImageError.truncated }
        if !sawIDAT { throw ImageError.badChunk("no IDAT chunk") }
        if !sawIEND { keep("no IEND chunk") }
        if sawIEND && pos < b.count { keep("\(b.count - pos) bytes after IEND") }
        if colorType == .palette && palette.isEmpty { throw ImageError.badChunk("palette image without PLTE") }
        if (colorType == .gray || colorType == .grayAlpha) && !palette.isEmpty { keep("PLTE in a grey image") }
    }
}
