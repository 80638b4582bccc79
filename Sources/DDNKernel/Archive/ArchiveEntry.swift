/// One archive entry: a file's name, how to restore its PNG, which coder coded its pixels, and
/// the coded payload. Its field list below is the byte layout (Spec/ARCHIVE.md §3); on disk it is
/// followed by a CRC-32 of its bytes.
public struct ArchiveEntry: Equatable, Sendable {
    /// Safe relative name: one path component, UTF-8 (see `ArchiveEntry.validateName`).
    public var name: String = ""
    /// Which coder made the payload (`CoderID`); 0 = the original file stored verbatim.
    public var coder: UInt8 = 0
    /// CRC-32 of the pixels (`pixelCRC32`), or of the file bytes for a stored entry.
    public var checksum: UInt32 = 0
    /// PNG restore metadata; unused (and absent on disk) for stored entries.
    public var width: Int = 0
    public var height: Int = 0
    public var colorType: UInt8 = 0
    public var bitDepth: UInt8 = 0
    public var interlaced: Bool = false
    public var palette: [UInt8] = []
    public var transparency: [UInt8] = []
    public var chunks: [PNGChunk] = []
    /// The coded pixels (or the stored file).
    public var payload: [UInt8] = []

    public init() {}

    /// Fewest bytes an entry can take: name length, 1-byte name, coder, checksum, payload length, CRC.
    static let minimumSize = 2 + 1 + 1 + 4 + 4 + 4

    /// True when the entry holds the original file verbatim.
    public var isStored: Bool { coder == CoderID.stored }

    /// Checks that `name` is one safe path component: 1…255 bytes of UTF-8 with no `/`, `\`,
    /// NUL or control character, and not `.` or `..`.
    /// - Throws: `ArchiveError.unsafeName`.
    public static func validateName(_ name: String) throws {
        let utf8 = Array(name.utf8)
        guard !utf8.isEmpty, utf8.count <= 255, name != ".", name != "..",
              !utf8.contains(where: { $0 == 0x2F || $0 == 0x5C || $0 < 0x20 || $0 == 0x7F })
        else { throw ArchiveError.unsafeName(name) }
    }

    /// The PNG metadata and `pixels` as a `PNGImage`.
    public func pngImage(pixels: PixelImage) -> PNGImage {
        PNGImage(pixels: pixels, colorType: PNGColorType(rawValue: colorType)!, palette: palette,
                 transparency: transparency, interlaced: interlaced, chunks: chunks)
    }

    /// Channels implied by the colour type.
    public var channels: Int { PNGColorType(rawValue: colorType)?.channels ?? 0 }
}

extension ArchiveEntry: FieldBundle {
    mutating func visitFields<V: FieldVisitor>(_ v: inout V) throws {
        var nameBytes = Array(name.utf8)
        try v.bytes16(&nameBytes, max: 255, "entry name")
        if v.isReading {
            guard let s = String(validating: nameBytes, as: UTF8.self) else {
                throw ArchiveError.unsafeName(String(decoding: nameBytes, as: UTF8.self))
            }
            name = s
            try Self.validateName(name)
        }
        try v.u8(&coder, "coder id")
        try v.u32(&checksum, "pixel CRC-32")
        if coder != CoderID.stored {
            var w = UInt32(width), h = UInt32(height), il: UInt8 = interlaced ? 1 : 0
            try v.u32(&w, "width")
            try v.u32(&h, "height")
            try v.u8(&colorType, "colour type")
            try v.u8(&bitDepth, "bit depth")
            try v.u8(&il, "interlace")
            if v.isReading {
                width = Int(w); height = Int(h); interlaced = il == 1
                guard let ct = PNGColorType(rawValue: colorType) else {
                    throw ArchiveError.invalidField(field: "colour type", detail: "is \(colorType)")
                }
                guard ct.allowedBitDepths.contains(Int(bitDepth)) else {
                    throw ArchiveError.invalidField(field: "bit depth", detail: "\(bitDepth) is invalid for colour type \(colorType)")
                }
                guard width > 0, height > 0, width <= 0x7FFF_FFFF, height <= 0x7FFF_FFFF else {
                    throw ArchiveError.invalidField(field: "size", detail: "\(width)×\(height) is invalid")
                }
                guard il <= 1 else { throw ArchiveError.invalidField(field: "interlace", detail: "is \(il)") }
            }
            try v.bytes16(&palette, max: 768, "palette")
            if v.isReading && palette.count % 3 != 0 {
                throw ArchiveError.invalidField(field: "palette", detail: "length \(palette.count) is not a multiple of 3")
            }
            try v.bytes16(&transparency, max: 256, "tRNS")
            var count = chunks.count
            try v.count32(&count, minItemSize: 9, "chunk count")
            if v.isReading { chunks = [PNGChunk](repeating: PNGChunk(type: [0, 0, 0, 0], position: .beforePLTE, data: []), count: count) }
            for i in 0..<count {
                var type = chunks[i].type
                var position = chunks[i].position.rawValue
                try v.fixed(&type, count: 4, "chunk type")
                try v.u8(&position, "chunk position")
                try v.bytes32(&chunks[i].data, "chunk data")
                if v.isReading {
                    guard type.allSatisfy({ ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) }), type[0] & 0x20 != 0 else {
                        throw ArchiveError.invalidField(field: "chunk type", detail: "is not an ancillary chunk name")
                    }
                    guard let p = PNGChunk.Position(rawValue: position) else {
                        throw ArchiveError.invalidField(field: "chunk position", detail: "is \(position)")
                    }
                    chunks[i].type = type
                    chunks[i].position = p
                }
            }
        }
        try v.bytes32(&payload, "payload")
    }
}
