import CPNG

/// A version-3 solid block (Spec/ARCHIVE.md §3.4): up to `maxEntries` entries that share one
/// length, one CRC-32 and, for the entries of coder 5, one rANS message with their paths coded by
/// bits-back (Spec/CODEC.md §9). The block's entry fields come first (names and shapes: a listing
/// reads them without decoding), then the payloads of the entries with their own, then the shared
/// message, then the CRC-32.
///
/// A block is self-contained: its first entry's name and shape refer to nothing before it, so a
/// block decodes, and is lost to damage, on its own.
struct ArchiveBlock: Sendable {
    /// "DDNB": every block starts with it (a reader finds blocks after damage by it).
    static let magic: [UInt8] = [0x44, 0x44, 0x4E, 0x42]
    /// "DDNE": the end record of a version-3 archive starts with it.
    static let endMagic: [UInt8] = [0x44, 0x44, 0x4E, 0x45]
    /// Most entries a block may hold.
    static let maxEntries = 4096
    /// Kind byte bit 6 in version 3: a run length follows (Spec/ARCHIVE.md §3.4).
    static let runBit: UInt8 = 64

    /// The entries, names and shapes resolved; `payload` empty for the entries in the shared message.
    var entries: [ArchiveEntry]
    /// The shared rANS message of the block's coder-5 entries (empty when it has none).
    var stream: [UInt8]
    /// The posterior weight c of the shared message's bits-back, in eighths (1…255; present when
    /// the message is; Spec/CODEC.md §9.2).
    var posteriorWeight: UInt8 = 0
    /// The stored CRC-32.
    var checksum: UInt32 = 0
    /// The archive header's CRC-32 continued over the block's bytes from its magic through the
    /// shared message: where the checksum's running CRC stands before the pixels.
    var bytesCRC: UInt32 = 0
    /// Where the block lies in the archive.
    var byteRange: Range<Int> = 0..<0
    /// As a reader keeps it (`entries` emptied): the index of its first entry among the
    /// archive's entries, and how many it holds.
    var firstEntry = 0, entryCount = 0
    /// The indices of the block's entries among the archive's (as a reader keeps it).
    var entryIndices: Range<Int> { firstEntry..<(firstEntry + entryCount) }

    /// Whether entries of coder `id` are coded in the block's shared message (coder 5) rather than
    /// in a payload of their own.
    static func inSharedStream(_ id: UInt8) -> Bool { id == CoderID.ddnNetwork }

    /// Whether an entry with kind byte `kind` (run bit clear) has no fields after it: its name is
    /// counted on, its shape repeated, it has no extras and no payload of its own. Only such an
    /// entry may start a run.
    static func isBare(_ kind: UInt8) -> Bool {
        let k = ArchiveEntry.Kind.self
        return kind & (k.countedOn | k.sameShape | k.extras) == k.countedOn | k.sameShape && inSharedStream(kind & k.coderMask)
    }
}

extension ArchiveBlock {
    /// The block's bytes, its CRC-32 included: the CRC starts from `headerCRC`, runs over the
    /// block's bytes, then over each non-stored entry's pixels (`pixels`, in entry order; nil for
    /// a stored entry) and then over every entry's full name (Spec/ARCHIVE.md §3.5).
    func serialized(headerCRC: UInt32, pixels: [PixelImage?]) -> [UInt8] {
        var v = WritingVisitor()
        v.out.raw(Self.magic)
        v.out.varint(entries.count)
        var previous = EntryPredecessor()
        var i = 0
        while i < entries.count {
            var entry = entries[i]
            entry.deriveCoding(after: previous)
            previous.advance(past: entry)
            var kind = entry.kindByte, run = 0
            if Self.isBare(kind) {
                while i + run + 1 < entries.count && run + 1 < Self.maxEntries {
                    var next = entries[i + run + 1]
                    next.deriveCoding(after: previous)
                    guard next.kindByte == kind else { break }
                    previous.advance(past: next)
                    run += 1
                }
            }
            if run > 0 { kind |= Self.runBit }
            v.out.u8(kind)
            if run > 0 { v.out.varint(run) }
            try! entry.visitDescription(&v, kind: kind)   // writing never throws
            if !Self.inSharedStream(entry.coder) { v.out.varint(entry.payload.count) }
            i += run + 1
        }
        v.out.varint(stream.count)
        if !stream.isEmpty { v.out.u8(posteriorWeight) }
        for entry in entries where !Self.inSharedStream(entry.coder) { v.out.raw(entry.payload) }
        v.out.raw(stream)
        var crc = v.out.bytes.withUnsafeBufferPointer { cpng_crc32(headerCRC, $0.baseAddress, $0.count) }
        crc = Self.finishChecksum(crc, entries: entries, pixels: pixels)
        v.out.u32(crc)
        return v.out.bytes
    }

    /// The running CRC `crc` after the block's bytes continued over the pixels of its non-stored
    /// entries (nil for stored ones), then over every entry's name.
    static func finishChecksum(_ crc: UInt32, entries: [ArchiveEntry], pixels: [PixelImage?]) -> UInt32 {
        var crc = crc
        for image in pixels { if let image { crc = pixelCRC32(image, continuing: crc) } }
        for entry in entries { crc = crc32(continuing: crc, Array(entry.name.utf8)) }
        return crc
    }

    /// Parses the block at `offset` (Spec/ARCHIVE.md §3.4): its fields, names and shapes resolved
    /// within the block, payloads and shared message copied, the checksum read.
    /// - Throws: `ArchiveError` for a field out of range or bytes that run out (`truncated`,
    ///   `lengthExceedsData`); the caller tells a cut from damage.
    /// `fieldsOnly` stops after the entry fields (the names of the entries of a cut block).
    static func read(_ bytes: [UInt8], at offset: Int, headerCRC: UInt32, fieldsOnly: Bool = false) throws -> ArchiveBlock {
        var v = ReadingVisitor(input: ByteReader(bytes, offset: offset))
        var magic: [UInt8] = []
        try v.fixed(&magic, count: 4, "block magic")
        guard magic == Self.magic else { throw ArchiveError.invalidField(field: "block magic", detail: "is not DDNB") }
        var count = 0
        try v.count(&count, minItemSize: 1, "block entry count")
        guard count >= 1, count <= maxEntries else {
            throw ArchiveError.invalidField(field: "block entry count", detail: "is \(count), not 1…\(maxEntries)")
        }
        var entries: [ArchiveEntry] = [], lengths: [Int] = []
        var previous = EntryPredecessor()
        func append(_ entry: inout ArchiveEntry) throws {
            let name = try entry.resolve(after: previous)
            guard !name.isEmpty else {
                throw ArchiveError.invalidField(field: "entry name", detail: "is counted on from a name without digits to count")
            }
            previous.advance(past: entry)
            entries.append(entry)
        }
        while entries.count < count {
            var kind: UInt8 = 0
            try v.u8(&kind, "entry kind")
            guard kind & 0x80 == 0 else { throw ArchiveError.invalidField(field: "entry kind", detail: "has bit 7 set") }
            var entry = ArchiveEntry()
            try entry.apply(kind: kind & ~runBit)
            var run = 0
            if kind & runBit != 0 {
                guard isBare(kind & ~runBit) else {
                    throw ArchiveError.invalidField(field: "entry kind", detail: "starts a run but has fields of its own")
                }
                try v.varint(&run, max: count - entries.count - 1, "entry run")
                guard run >= 1 else { throw ArchiveError.invalidField(field: "entry run", detail: "is 0") }
            }
            try entry.visitDescription(&v, kind: kind)
            var length = 0
            if !inSharedStream(entry.coder) {
                try v.varint(&length, max: 0xFFFF_FFFF, "payload length")
                lengths.append(length)
            }
            try append(&entry)
            for _ in 0..<run {
                var next = ArchiveEntry()
                try next.apply(kind: kind & ~runBit)
                try append(&next)
            }
        }
        if fieldsOnly { return ArchiveBlock(entries: entries, stream: []) }
        var streamLength = 0
        try v.varint(&streamLength, max: 0xFFFF_FFFF, "block message length")
        guard entries.contains(where: { inSharedStream($0.coder) }) == (streamLength > 0) else {
            throw ArchiveError.invalidField(field: "block message length", detail: "is \(streamLength) for the entries the block holds")
        }
        var weight: UInt8 = 0
        if streamLength > 0 {
            try v.u8(&weight, "posterior weight")
            guard weight > 0 else { throw ArchiveError.invalidField(field: "posterior weight", detail: "is 0") }
        }
        var k = 0
        for i in entries.indices where !inSharedStream(entries[i].coder) {
            try v.payload(&entries[i].payload, count: lengths[k], "payload")
            k += 1
        }
        var stream: [UInt8] = []
        try v.payload(&stream, count: streamLength, "block message")
        let end = v.input.offset
        var block = ArchiveBlock(entries: entries, stream: stream, posteriorWeight: weight)
        block.bytesCRC = bytes[offset..<end].withUnsafeBufferPointer { cpng_crc32(headerCRC, $0.baseAddress, $0.count) }
        block.checksum = try v.input.u32("block CRC-32")
        block.byteRange = offset..<v.input.offset
        return block
    }

    /// The entry count of a version-3 end record at `offset` ("DDNE", then a varint) and where it
    /// ends; nil when the bytes there are not a whole end record.
    static func endRecord(_ bytes: [UInt8], at offset: Int) -> (count: Int, end: Int)? {
        guard bytes.count - offset >= 5, bytes[offset..<(offset + 4)].elementsEqual(endMagic) else { return nil }
        var r = ByteReader(bytes, offset: offset + 4)
        guard let count = try? r.varint("entry count") else { return nil }
        return (count, r.offset)
    }
}
