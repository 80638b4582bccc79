import CPNG

/// One archive entry: a file's name, how to restore its PNG, which coder coded its pixels, and
/// the coded payload. Its field list below is the byte layout of a version-2 entry
/// (Spec/ARCHIVE.md §3); it ends with a CRC-32 over the entry's bytes, its decoded pixels and its
/// full name, so each entry is checked on its own.
public struct ArchiveEntry: Equatable, Sendable {
    /// Safe relative name: path components joined by `/` (see `ArchiveEntry.validateName`). For an
    /// entry read from a version-2 archive, the name as the chain of names gives it; the reader
    /// confirms it with the entry's CRC-32 when the entry is restored.
    public var name: String = ""
    /// Which coder made the payload (`CoderID`); 0 = the original file stored verbatim.
    public var coder: UInt8 = 0
    /// The entry's stored CRC-32 (version 2: entry bytes, pixels and name, Spec/ARCHIVE.md §3.2;
    /// version 1: the pixels, or the file bytes of a stored entry).
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

    /// How a version-2 entry codes its name relative to the entry before it.
    var nameCoding = NameCoding.explicit(shared: 0, suffix: [])
    /// Version 2: the shape fields were absent (same as the previous non-stored entry).
    var sameShape = false
    /// Version 2: CRC-32 of the archive header and the entry's bytes from its kind byte through
    /// its payload — the start of the running CRC that `checksum` ends (Spec/ARCHIVE.md §3.2).
    var bytesCRC: UInt32 = 0
    /// Where the entry lies in the archive (byte offsets; version 3: its block's).
    public var byteRange: Range<Int> = 0..<0
    /// Version 3: the index of the entry's block among the archive's blocks (−1 otherwise).
    public var block = -1

    /// How a version-2 entry's name is coded (Spec/ARCHIVE.md §3).
    enum NameCoding: Equatable, Sendable {
        /// The previous entry's name counted on by one (`countedOn`); no name bytes.
        case countedOn
        /// `shared` leading bytes of the previous entry's name, then `suffix`.
        case explicit(shared: Int, suffix: [UInt8])
    }

    /// An empty stored entry (fields are filled in by the writer or reader).
    public init() {}

    /// True when the entry holds the original file verbatim.
    public var isStored: Bool { coder == CoderID.stored }

    /// Longest entry name in bytes.
    public static let maxNameBytes = 1023

    /// Checks that `name` is a safe relative path: 1…1023 bytes of UTF-8, components joined by `/`
    /// (only one component when `allowFolders` is false), each 1…255 bytes, not `.` or `..`, with
    /// no `\`, NUL or other control character; so no leading `/` and no empty component.
    /// Spec/ARCHIVE.md §3.
    /// - Throws: `ArchiveError.unsafeName`.
    public static func validateName(_ name: String, allowFolders: Bool = true) throws {
        let utf8 = Array(name.utf8)
        guard !utf8.isEmpty, utf8.count <= maxNameBytes,
              !utf8.contains(where: { $0 == 0x5C || $0 < 0x20 || $0 == 0x7F }),
              allowFolders || !utf8.contains(0x2F)
        else { throw ArchiveError.unsafeName(name) }
        for component in utf8.split(separator: 0x2F, omittingEmptySubsequences: false) {
            guard !component.isEmpty, component.count <= 255, !component.elementsEqual([0x2E]),
                  !component.elementsEqual([0x2E, 0x2E]) else { throw ArchiveError.unsafeName(name) }
        }
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
    /// Width, height, colour type and bit depth.
    typealias Shape = (width: Int, height: Int, colorType: UInt8, bitDepth: UInt8)
    /// The shape of the last non-stored entry, if any.
    var shape: Shape?

    /// Updates the state after `entry`.
    mutating func advance(past entry: ArchiveEntry) {
        name = Array(entry.name.utf8)
        if !entry.isStored { shape = (entry.width, entry.height, entry.colorType, entry.bitDepth) }
    }
}

extension ArchiveEntry {
    /// `name` with its last run of decimal digits counted on by one at the same width
    /// ("img-0099.png" → "img-0100.png"); nil when it has no digits or the run is all nines.
    /// Spec/ARCHIVE.md §3 (entry name).
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

    /// The kind byte of the end record (coder id 7, no flags), which follows the last entry.
    static let endMarker: UInt8 = 7

    /// Kind byte bits (Spec/ARCHIVE.md §3).
    enum Kind {
        static let coderMask: UInt8 = 7, countedOn: UInt8 = 8, sameShape: UInt8 = 16, extras: UInt8 = 32
        static let lengthShift: UInt8 = 6
    }

    /// The version-2 field list, from the kind byte through the payload (the checksum follows).
    /// Writing derives the name coding and the shape flag from `previous`; reading records them
    /// raw (`nameCoding`, `sameShape`) and `resolve(after:)` applies them, so an entry can be
    /// parsed without knowing the entries before it (salvage, Spec/ARCHIVE.md §6).
    mutating func visitFields<V: FieldVisitor>(_ v: inout V, previous: EntryPredecessor) throws {
        if !v.isReading { deriveCoding(after: previous) }
        var kind = kindByte | UInt8(payload.count & 3) << Kind.lengthShift
        try v.u8(&kind, "entry kind")
        if v.isReading { try apply(kind: kind) }
        try visitDescription(&v, kind: kind)
        // Payload length: its two low bits are in the kind byte, the rest is a varint.
        var high = payload.count >> 2
        try v.varint(&high, max: 0xFFFF_FFFF >> 2, "payload length")
        try v.payload(&payload, count: high << 2 | Int(kind >> Kind.lengthShift), "payload")
    }

    /// Sets `nameCoding` and `sameShape` (for writing) from the entry before.
    mutating func deriveCoding(after previous: EntryPredecessor) {
        let nameBytes = Array(name.utf8)
        if let counted = Self.countedOn(previous.name), counted == nameBytes {
            nameCoding = .countedOn
        } else {
            var shared = 0
            while shared < min(nameBytes.count - 1, previous.name.count) && nameBytes[shared] == previous.name[shared] { shared += 1 }
            nameCoding = .explicit(shared: shared, suffix: Array(nameBytes[shared...]))
        }
        sameShape = !isStored && previous.shape.map {
            $0.width == width && $0.height == height && $0.colorType == colorType && $0.bitDepth == bitDepth } ?? false
    }

    /// Whether the entry has an extras byte (interlace, palette, tRNS or chunks).
    var hasExtras: Bool { interlaced || !palette.isEmpty || !transparency.isEmpty || !chunks.isEmpty }

    /// The kind byte's bits 0–5: coder id, name counted on, same shape, extras.
    var kindByte: UInt8 {
        coder | (nameCoding == .countedOn ? Kind.countedOn : 0) | (sameShape ? Kind.sameShape : 0) | (hasExtras ? Kind.extras : 0)
    }

    /// Takes the coder id and flags of a kind byte as read.
    /// - Throws: `ArchiveError.invalidField` for the end record's id or a stored entry with image fields.
    mutating func apply(kind: UInt8) throws {
        coder = kind & Kind.coderMask
        if coder == Self.endMarker { throw ArchiveError.invalidField(field: "entry kind", detail: "uses coder id 7 (the end record's)") }
        sameShape = kind & Kind.sameShape != 0
        if isStored && kind & (Kind.sameShape | Kind.extras) != 0 {
            throw ArchiveError.invalidField(field: "entry kind", detail: "gives a stored entry image fields")
        }
        if kind & Kind.countedOn != 0 { nameCoding = .countedOn }
    }

    /// The fields after the kind byte that describe the entry, as `kind` announces them: name
    /// (unless counted on), shape (unless repeated or stored), extras and restore metadata.
    /// Shared by versions 2 and 3 (Spec/ARCHIVE.md §3, §3.4).
    mutating func visitDescription<V: FieldVisitor>(_ v: inout V, kind: UInt8) throws {
        if kind & Kind.countedOn == 0 {
            // One varint: shared · 1024 + suffix length (both ≤ 1023), then the suffix.
            var shared = 0, suffix: [UInt8] = []
            if case .explicit(let s, let rest) = nameCoding { shared = s; suffix = rest }
            var lengths = shared << 10 | suffix.count
            try v.varint(&lengths, max: (Self.maxNameBytes - 1) << 10 | Self.maxNameBytes, "entry name lengths")
            if v.isReading {
                shared = lengths >> 10
                guard lengths & 1023 > 0, shared + lengths & 1023 <= Self.maxNameBytes else {
                    throw ArchiveError.invalidField(field: "entry name", detail: "length \(shared + lengths & 1023) is not 1…\(Self.maxNameBytes)")
                }
            }
            try v.fixed(&suffix, count: lengths & 1023, "entry name")
            if v.isReading { nameCoding = .explicit(shared: shared, suffix: suffix) }
        }
        if !isStored && !sameShape {
            try v.varint(&width, max: 0x7FFF_FFFF, "width")
            try v.varint(&height, max: 0x7FFF_FFFF, "height")
            var type = colorType << 5 | bitDepth
            try v.u8(&type, "colour type and bit depth")
            if v.isReading {
                colorType = type >> 5
                bitDepth = type & 31
                try Self.checkShape(width: width, height: height, colorType: colorType, bitDepth: bitDepth)
            }
        }
        if kind & Kind.extras != 0 {
            // extras: bit 0 interlaced, bit 1 palette follows, bit 2 tRNS follows, bit 3 chunks follow.
            var flags: UInt8 = (interlaced ? 1 : 0) | (palette.isEmpty ? 0 : 2) | (transparency.isEmpty ? 0 : 4) | (chunks.isEmpty ? 0 : 8)
            try v.u8(&flags, "entry extras")
            if v.isReading {
                guard flags != 0, flags & ~15 == 0 else { throw ArchiveError.invalidField(field: "entry extras", detail: "are \(flags)") }
                interlaced = flags & 1 != 0
            }
            try visitRestoreMetadata(&v, palette: flags & 2 != 0, transparency: flags & 4 != 0, chunks: flags & 8 != 0)
        }
    }

    /// Palette, tRNS and ancillary chunks (shared by both versions' field lists).
    mutating func visitRestoreMetadata<V: FieldVisitor>(_ v: inout V, palette hasPalette: Bool, transparency hasTRNS: Bool, chunks hasChunks: Bool) throws {
        if hasPalette {
            try v.bytes(&palette, max: 768, "palette")
            if v.isReading && (palette.isEmpty || palette.count % 3 != 0) {
                throw ArchiveError.invalidField(field: "palette", detail: "length \(palette.count) is not a positive multiple of 3")
            }
        }
        if hasTRNS {
            try v.bytes(&transparency, max: 256, "tRNS")
            if v.isReading && transparency.isEmpty { throw ArchiveError.invalidField(field: "tRNS", detail: "is empty") }
        }
        guard hasChunks else { return }
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

    /// Checks an entry's size, colour type and bit depth.
    static func checkShape(width: Int, height: Int, colorType: UInt8, bitDepth: UInt8) throws {
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

    /// The name and shape the raw fields give after `previous` (a version-2 entry as read). The
    /// name is not checked for safety here (the reader checks it once the entry's CRC confirms it).
    /// - Returns: the name's bytes.
    /// - Throws: `ArchiveError` when a repeated shape has none before it.
    @discardableResult
    mutating func resolve(after previous: EntryPredecessor) throws -> [UInt8] {
        // A name the previous one cannot give (after damage) is left empty: the reader tries
        // other names when it checks the entry (ArchiveReader.restoreAll).
        let bytes = ArchiveReader.name(nameCoding, after: previous.name) ?? []
        name = String(decoding: bytes, as: UTF8.self)
        if sameShape {
            guard let shape = previous.shape else {
                throw ArchiveError.invalidField(field: "entry kind", detail: "repeats a shape but no entry before has one")
            }
            (width, height, colorType, bitDepth) = shape
        }
        return bytes
    }

    /// The entry's bytes after `previous`, its CRC-32 included: the CRC starts from `headerCRC`
    /// (the CRC-32 of the archive header), runs over the entry's bytes, then `pixelBytesCRC`
    /// continues it over the pixels (Spec/ARCHIVE.md §3.2; identity for a stored entry).
    func serialized(after previous: EntryPredecessor, headerCRC: UInt32, pixelBytesCRC: (UInt32) -> UInt32) -> [UInt8] {
        var copy = self
        var v = WritingVisitor()
        try! copy.visitFields(&v, previous: previous)  // writing never throws
        let crc = Self.finishChecksum(pixelBytesCRC(copy.bytesCRC(v.out.bytes[...], headerCRC: headerCRC)), name: Array(name.utf8))
        v.out.u32(crc)
        return v.out.bytes
    }

    /// The CRC-32 `headerCRC` continued over the entry's `bytes` (kind byte through payload)
    /// except its name suffix, which the full name at the end of the CRC covers (so a damaged
    /// name byte can be repaired by trying names alone, Spec/ARCHIVE.md §3.2).
    func bytesCRC(_ bytes: ArraySlice<UInt8>, headerCRC: UInt32) -> UInt32 {
        var parts = [bytes]
        if case .explicit(let shared, let suffix) = nameCoding {
            let at = bytes.startIndex + 1 + ByteWriter.varintSize(shared << 10 | suffix.count)
            parts = [bytes[bytes.startIndex..<at], bytes[(at + suffix.count)...]]
        }
        return parts.reduce(headerCRC) { crc, part in part.withUnsafeBufferPointer { cpng_crc32(crc, $0.baseAddress, $0.count) } }
    }

    /// The entry CRC-32 from the running CRC after the pixels: continued over the full name.
    static func finishChecksum(_ running: UInt32, name: [UInt8]) -> UInt32 {
        crc32(continuing: running, name)
    }

    /// Parses a version-2 entry at `reader`'s offset (raw fields, checksum included) and advances
    /// the reader. The name and a repeated shape are applied later by `resolve(after:)`.
    /// `skimming` steps over the payload (left empty) and skips the CRC of the bytes, which
    /// otherwise continues `headerCRC`.
    static func read(from reader: inout ByteReader, headerCRC: UInt32, maxPixels: Int, skimming: Bool = false) throws -> ArchiveEntry {
        let start = reader.offset
        guard reader.remaining > 0, reader.bytes[start] != ArchiveEntry.endMarker else {
            throw ArchiveError.invalidField(field: "entry kind", detail: "is the end record")
        }
        var entry = ArchiveEntry()
        var v = ReadingVisitor(input: reader, skimming: skimming)
        try entry.visitFields(&v, previous: EntryPredecessor())
        reader = v.input
        if !skimming { entry.bytesCRC = entry.bytesCRC(reader.bytes[start..<reader.offset], headerCRC: headerCRC) }
        entry.checksum = try reader.u32("entry CRC-32")
        entry.byteRange = start..<reader.offset
        // While looking for entries after damage, a size above the limit marks a misread start;
        // an entry as read is reported by the reader instead (ArchiveReader.problems).
        if skimming && !entry.isStored && !entry.sameShape && entry.width * entry.height > maxPixels {
            throw ArchiveError.invalidField(field: "size", detail: "\(entry.width)×\(entry.height) exceeds the pixel limit of \(maxPixels) (see --max-pixels)")
        }
        return entry
    }
}
