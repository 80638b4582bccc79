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
    /// Height in pixels (width: above).
    public var height: Int = 0
    /// PNG colour type (0, 2, 3, 4, 6).
    public var colorType: UInt8 = 0
    /// Bits per sample.
    public var bitDepth: UInt8 = 0
    /// Adam7 interlacing when restored.
    public var interlaced: Bool = false
    /// PLTE payload verbatim, empty when none.
    public var palette: [UInt8] = []
    /// tRNS payload verbatim, empty when none.
    public var transparency: [UInt8] = []
    /// Ancillary chunks (tRNS excluded) verbatim with positions, in file order.
    public var chunks: [PNGChunk] = []
    /// The coded pixels (or the stored file).
    public var payload: [UInt8] = []

    /// An empty stored entry (fields are filled in by the writer or reader).
    public init() {}

    /// Fewest bytes an entry can take: name prefix, name length, coder, checksum, payload length.
    static let minimumSize = 1 + 1 + 1 + 4 + 1

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

/// What an entry's fields may refer to: the entry before it (Spec/ARCHIVE.md §3).
struct EntryPredecessor {
    /// The previous entry's name bytes (empty for the first entry).
    var name: [UInt8] = []
    /// Width, height, colour type and bit depth of the last non-stored entry, if any.
    var shape: (width: Int, height: Int, colorType: UInt8, bitDepth: UInt8)?

    /// Updates the state after `entry`.
    mutating func advance(past entry: ArchiveEntry) {
        name = Array(entry.name.utf8)
        if !entry.isStored { shape = (entry.width, entry.height, entry.colorType, entry.bitDepth) }
    }
}

extension ArchiveEntry {
    /// `name` with its last run of decimal digits counted on by one at the same width
    /// ("img-0099.png" → "img-0100.png"); nil when it has no digits or the run is all nines.
    /// Spec/ARCHIVE.md §3 (entry name prefix).
    static func countedOn(_ name: [UInt8]) -> [UInt8]? {
        guard var i = name.lastIndex(where: { $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        var out = name
        while true {
            if out[i] < 0x39 { out[i] += 1; return out }
            out[i] = 0x30
            guard i > 0, out[i - 1] >= 0x30 && out[i - 1] <= 0x39 else { return nil }
            i -= 1
        }
    }

    /// The entry's field list: one declaration drives read, write and size. `previous` is the
    /// state after the entries before it (names are prefix-coded, shapes may repeat).
    mutating func visitFields<V: FieldVisitor>(_ v: inout V, previous: EntryPredecessor) throws {
        // Name: bytes shared with the previous name, then the rest; or, as the prefix value
        // `previous.name.count + 1`, "the previous name counted on by one" (no suffix follows).
        var nameBytes = Array(name.utf8)
        let counted = Self.countedOn(previous.name)
        var shared = 0
        if !v.isReading {
            if let counted, counted == nameBytes {
                shared = previous.name.count + 1
            } else {
                while shared < min(nameBytes.count - 1, previous.name.count, 255) && nameBytes[shared] == previous.name[shared] { shared += 1 }
            }
        }
        try v.varint(&shared, max: previous.name.count + (counted == nil ? 0 : 1), "entry name prefix")
        if shared <= previous.name.count {
            var suffix = Array(nameBytes[min(shared, nameBytes.count)...])
            try v.bytes(&suffix, max: 255, "entry name")
            if v.isReading { nameBytes = Array(previous.name[0..<shared]) + suffix }
        } else if v.isReading {
            nameBytes = counted!
        }
        if v.isReading {
            guard nameBytes.count <= 255, let s = String(validating: nameBytes, as: UTF8.self) else {
                throw ArchiveError.unsafeName(String(decoding: nameBytes, as: UTF8.self))
            }
            name = s
            try Self.validateName(name)
        }
        try v.u8(&coder, "coder id")
        try v.u32(&checksum, "checksum")
        if coder != CoderID.stored {
            // flags: bit 0 interlaced, bit 1 palette follows, bit 2 tRNS follows, bit 3 chunks
            // follow, bit 4 same width, height, colour type and bit depth as the previous
            // non-stored entry (those fields are then absent).
            let same = previous.shape.map { $0.width == width && $0.height == height && $0.colorType == colorType && $0.bitDepth == bitDepth } ?? false
            var flags: UInt8 = (interlaced ? 1 : 0) | (palette.isEmpty ? 0 : 2) | (transparency.isEmpty ? 0 : 4)
                | (chunks.isEmpty ? 0 : 8) | (same ? 16 : 0)
            try v.u8(&flags, "entry flags")
            if v.isReading {
                guard flags & ~31 == 0 else { throw ArchiveError.invalidField(field: "entry flags", detail: "has unknown bits \(flags)") }
                interlaced = flags & 1 != 0
            }
            if flags & 16 != 0 {
                guard let shape = previous.shape else {
                    throw ArchiveError.invalidField(field: "entry flags", detail: "repeat a shape but no entry before has one")
                }
                (width, height, colorType, bitDepth) = shape
            } else {
                try v.varint(&width, max: 0x7FFF_FFFF, "width")
                try v.varint(&height, max: 0x7FFF_FFFF, "height")
                try v.u8(&colorType, "colour type")
                try v.u8(&bitDepth, "bit depth")
            }
            if v.isReading {
                guard let ct = PNGColorType(rawValue: colorType) else {
                    throw ArchiveError.invalidField(field: "colour type", detail: "is \(colorType)")
                }
                guard ct.allowedBitDepths.contains(Int(bitDepth)) else {
                    throw ArchiveError.invalidField(field: "bit depth", detail: "\(bitDepth) is invalid for colour type \(colorType)")
                }
                guard width > 0, height > 0 else {
                    throw ArchiveError.invalidField(field: "size", detail: "\(width)×\(height) is invalid")
                }
            }
            if flags & 2 != 0 {
                try v.bytes(&palette, max: 768, "palette")
                if v.isReading && (palette.isEmpty || palette.count % 3 != 0) {
                    throw ArchiveError.invalidField(field: "palette", detail: "length \(palette.count) is not a positive multiple of 3")
                }
            }
            if flags & 4 != 0 {
                try v.bytes(&transparency, max: 256, "tRNS")
                if v.isReading && transparency.isEmpty { throw ArchiveError.invalidField(field: "tRNS", detail: "is empty") }
            }
            if flags & 8 != 0 {
                var count = chunks.count
                try v.count(&count, minItemSize: 6, "chunk count")
                if v.isReading {
                    guard count > 0 else { throw ArchiveError.invalidField(field: "chunk count", detail: "is 0") }
                    chunks = [PNGChunk](repeating: PNGChunk(type: [0x61, 0x61, 0x61, 0x61], position: .beforePLTE, data: []), count: count)
                }
                for i in 0..<count {
                    var type = chunks[i].type
                    var position = chunks[i].position.rawValue
                    try v.fixed(&type, count: 4, "chunk type")
                    try v.u8(&position, "chunk position")
                    try v.bytes(&chunks[i].data, max: 0x7FFF_FFFF, "chunk data")
                    if v.isReading {
                        guard type.allSatisfy({ ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) }), type[0] & 0x20 != 0,
                              type != [0x74, 0x52, 0x4E, 0x53] else {
                            throw ArchiveError.invalidField(field: "chunk type", detail: "is not an ancillary chunk name other than tRNS")
                        }
                        guard let p = PNGChunk.Position(rawValue: position) else {
                            throw ArchiveError.invalidField(field: "chunk position", detail: "is \(position)")
                        }
                        chunks[i].type = type
                        chunks[i].position = p
                    }
                }
            }
        }
        try v.bytes(&payload, max: 0xFFFF_FFFF, "payload")
    }

    /// The entry's bytes after `previous`.
    func serialized(after previous: EntryPredecessor) -> [UInt8] {
        var copy = self
        var v = WritingVisitor()
        try! copy.visitFields(&v, previous: previous)  // writing never throws
        return v.out.bytes
    }

    /// Reads an entry at `reader`'s offset and advances it.
    static func read(from reader: inout ByteReader, after previous: EntryPredecessor) throws -> ArchiveEntry {
        var entry = ArchiveEntry()
        var v = ReadingVisitor(input: reader)
        try entry.visitFields(&v, previous: previous)
        reader = v.input
        return entry
    }
}
