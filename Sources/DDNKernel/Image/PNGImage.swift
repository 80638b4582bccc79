/// A PNG file as ddnzip keeps it: the pixels plus everything needed to write the file again
/// with the same colour type, bit depth, palette, transparency, interlace method and ancillary
/// chunks (only the zlib stream inside IDAT is new).
///
/// Source: Spec/ARCHIVE.md §4 (entry metadata).
public struct PNGImage: Equatable, Sendable {
    /// Samples at native bit depth (palette images: indices, `channels == 1`).
    public var pixels: PixelImage
    /// PNG colour type.
    public var colorType: PNGColorType
    /// PLTE payload verbatim (3 bytes per entry), empty when the file has none. RGB images may
    /// carry a suggested palette; it is kept too.
    public var palette: [UInt8]
    /// tRNS payload verbatim, empty when the file has none.
    public var transparency: [UInt8]
    /// True for Adam7 interlacing.
    public var interlaced: Bool
    /// Every ancillary chunk except tRNS, verbatim, in file order.
    public var chunks: [PNGChunk]

    /// - Precondition: `pixels.channels == colorType.channels`.
    public init(pixels: PixelImage, colorType: PNGColorType, palette: [UInt8] = [], transparency: [UInt8] = [],
                interlaced: Bool = false, chunks: [PNGChunk] = []) {
        precondition(pixels.channels == colorType.channels, "channels must match the colour type")
        self.pixels = pixels
        self.colorType = colorType
        self.palette = palette
        self.transparency = transparency
        self.interlaced = interlaced
        self.chunks = chunks
    }
}

/// The five PNG colour types, with their IHDR codes.
public enum PNGColorType: UInt8, Sendable, CaseIterable {
    case gray = 0, rgb = 2, palette = 3, grayAlpha = 4, rgba = 6

    /// Samples per pixel.
    public var channels: Int {
        switch self {
        case .gray, .palette: return 1
        case .grayAlpha: return 2
        case .rgb: return 3
        case .rgba: return 4
        }
    }

    /// Bit depths PNG allows for this colour type.
    public var allowedBitDepths: [Int] {
        switch self {
        case .gray: return [1, 2, 4, 8, 16]
        case .palette: return [1, 2, 4, 8]
        case .rgb, .grayAlpha, .rgba: return [8, 16]
        }
    }
}

/// An ancillary chunk kept verbatim, with where it sits relative to PLTE and IDAT.
public struct PNGChunk: Equatable, Sendable {
    /// Where a chunk sits in the file.
    public enum Position: UInt8, Sendable {
        /// After IHDR, before PLTE (or before IDAT when there is no PLTE).
        case beforePLTE = 0
        /// After PLTE, before the first IDAT.
        case beforeIDAT = 1
        /// After the last IDAT, before IEND.
        case afterIDAT = 2
    }
    /// Four ASCII letters, e.g. `tEXt`.
    public var type: [UInt8]
    /// Where the chunk sits.
    public var position: Position
    /// Chunk data (without length, type and CRC).
    public var data: [UInt8]

    /// - Precondition: `type` has 4 bytes.
    public init(type: [UInt8], position: Position, data: [UInt8]) {
        precondition(type.count == 4, "a chunk type has 4 bytes")
        self.type = type
        self.position = position
        self.data = data
    }

    /// The type as a string, e.g. "tEXt".
    public var typeName: String { String(decoding: type, as: UTF8.self) }
}
