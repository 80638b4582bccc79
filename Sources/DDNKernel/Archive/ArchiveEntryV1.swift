extension ArchiveEntry {
    /// The version-1 field list (Spec/ARCHIVE.md §8, read only by `ArchiveReader`; kept so archives
    /// of the previous version still read). `previous` is the state after the entries before it.
    mutating func visitFieldsV1<V: FieldVisitor>(_ v: inout V, previous: EntryPredecessor) throws {
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
            try Self.validateName(name, allowFolders: false)
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
            if v.isReading { try Self.checkShape(width: width, height: height, colorType: colorType, bitDepth: bitDepth) }
            try visitRestoreMetadata(&v, palette: flags & 2 != 0, transparency: flags & 4 != 0, chunks: flags & 8 != 0)
        }
        try v.bytes(&payload, max: 0xFFFF_FFFF, "payload")
    }

    /// Reads a version-1 entry at `reader`'s offset and advances it.
    static func readV1(from reader: inout ByteReader, after previous: EntryPredecessor) throws -> ArchiveEntry {
        var entry = ArchiveEntry()
        var v = ReadingVisitor(input: reader)
        try entry.visitFieldsV1(&v, previous: previous)
        reader = v.input
        return entry
    }
}
