/// Reads an archive (Spec/ARCHIVE.md): parses and checks the header, finds every entry (version
/// 2: stepping over damaged bytes, §6), then decodes entries on demand, each independent and each
/// checked by its own CRC-32.
public struct ArchiveReader: Sendable {
    /// The header.
    public let header: ArchiveHeader
    /// Every entry found, in archive order. Version 2: names as the chain of names gives them,
    /// confirmed by each entry's CRC-32 when it is decoded.
    public let entries: [ArchiveEntry]
    /// Entries that cannot be decoded whatever their bytes (an unknown coder, a shape the entries
    /// before cannot give, too many pixels; version 1: a repeated name), by index.
    public let problems: [Int: ArchiveError]
    /// Version 2: byte ranges that could not be read as entries; each held at least one entry.
    /// An empty range at the end: the archive is truncated (no end record).
    public let unreadable: [Range<Int>]
    /// The entry count the end record declares (nil when it is missing).
    public let declaredEntryCount: Int?
    /// Version 2: where a truncated archive (no end record) is cut (nil when the end record is
    /// there).
    public let truncation: Truncation?
    /// Bytes after the last whole entry that are neither an entry nor a whole end record (junk
    /// appended after a cut, or a damaged end record), or junk after the end record; nil when
    /// there are none.
    public let damagedEnd: DamagedEnd?
    /// Version 2: entries whose fields (kind, name length, shape, payload length) held one
    /// damaged byte, repaired by their CRC-32 (`repairLostEntries`), by index.
    public let repairedEntries: [Int]
    /// The archive's bytes, and (version 2) the CRC-32 of its header (damaged entries are read
    /// again from them).
    let archiveBytes: [UInt8]
    let headerCRC: UInt32?
    /// Version 3: the blocks (without their entries, which are in `entries`).
    let blocks: [ArchiveBlock]
    /// Version 3: the names of the entries of the block a cut falls in, when its fields are there.
    let cutNames: [String]
    /// The first 1,024 bytes of each `unreadable` range (a lost entry's name may be read there).
    let unreadableBytes: [[UInt8]]
    /// Coders this reader can decode with.
    public let coders: CoderSet
    /// Shared coding state built from the header.
    public let context: CodingContext
    /// Largest width × height an entry may declare (protects against huge allocations).
    public let maxPixels: Int

    /// Parses `bytes`.
    /// - Throws: `ArchiveError` when nothing can be read: wrong magic or version, a damaged or
    ///   truncated header. A version-1 archive (no per-entry checks) is refused whole for any
    ///   damage, as that version's reader did. Damage to version-2 entries is reported per entry
    ///   (`problems`, `unreadable`, and the checks when decoding).
    /// - Complexity: O(archive size); no payload is decoded.
    public init(_ bytes: [UInt8], coders: CoderSet = .standard, maxPixels: Int = 1 << 26) throws {
        guard bytes.count >= 4, Array(bytes[0..<4]) == ArchiveHeader.magic else {
            if bytes.count < 4 && bytes == Array(ArchiveHeader.magic.prefix(bytes.count)) && !bytes.isEmpty {
                throw ArchiveError.truncated(field: "magic", offset: bytes.count)
            }
            throw ArchiveError.notAnArchive
        }
        guard bytes.count >= 5, (1...3).contains(bytes[4]) else {
            throw bytes.count < 5 ? ArchiveError.truncated(field: "version", offset: 4) : ArchiveError.unsupportedVersion(bytes[4])
        }
        var problems: [Int: ArchiveError] = [:]
        var unreadable: [Range<Int>] = []
        var declaredEntryCount: Int?
        var repaired: [Range<Int>] = []
        var headerCRC: UInt32?
        var cut: Int?
        var damagedEnd: DamagedEnd?
        var blocks: [ArchiveBlock] = [], cutNames: [String] = []
        let header: ArchiveHeader, entries: [ArchiveEntry]
        if bytes[4] == 1 {
            (header, entries) = try Self.readVersion1(bytes, maxPixels: maxPixels)
        } else if bytes[4] == 3 {
            var r = ByteReader(bytes)
            header = try ArchiveHeader.read(from: &r)
            headerCRC = crc32(Array(bytes[0..<r.offset]))
            let scan = Self.findBlocks(bytes, from: r.offset, headerCRC: headerCRC!)
            (entries, blocks) = Self.flatten(scan)
            (unreadable, declaredEntryCount, cut, cutNames, damagedEnd) = (scan.unreadable, scan.declared, scan.cut, scan.cutNames, scan.damagedEnd)
        } else {
            var r = ByteReader(bytes)
            header = try ArchiveHeader.read(from: &r)
            let crc = crc32(Array(bytes[0..<r.offset]))
            headerCRC = crc
            var found: [ArchiveEntry] = []
            // An entry that repeats a shape when the entry that gave it is lost: the model's shape
            // (the likeliest; the entry's CRC-32 decides)
            let modelShape = coders.preferredDDNCoder.map { ddn -> EntryPredecessor.Shape in
                let c = ddn.coder.model.config
                return (c.width, c.height, [PNGColorType.gray, .grayAlpha, .rgb, .rgba][c.channels - 1].rawValue, UInt8(c.bitDepth))
            }
            // Bytes that do not end with an end record may be a cut archive (Spec/ARCHIVE.md §6).
            // Bytes that do may still be cut (their last bytes read as an end record by chance):
            // when the end record was not reached or miscounts the entries, they are read as cut
            // too; that reading is kept when the end record cannot count the entries lost
            // (`canCount`), or when it leaves fewer bytes unread (its cut entry's included).
            let endsWhole = Self.endsWithEndRecord(bytes, from: r.offset)
            // Entries are found with at least the default limit: a lower --max-pixels leaves the
            // larger entries out (when decoding), it does not make their neighbours look damaged.
            let findLimit = max(maxPixels, 1 << 26)
            (found, unreadable, declaredEntryCount, cut, damagedEnd) = Self.findEntries(bytes, from: r.offset, headerCRC: crc, maxPixels: findLimit,
                                                                            mayBeCut: !endsWhole)
            if endsWhole && declaredEntryCount != found.count {
                let asCut = Self.findEntries(bytes, from: r.offset, headerCRC: crc, maxPixels: findLimit, mayBeCut: true)
                func unread(_ ranges: [Range<Int>], _ cut: Int?) -> Int { ranges.reduce(bytes.count - (cut ?? bytes.count)) { $0 + $1.count } }
                if asCut.cut != nil && (!Self.canCount(declaredEntryCount, found, unreadable: unreadable, against: asCut.entries)
                                        || unread(asCut.unreadable, asCut.cut) < unread(unreadable, cut)) {
                    (found, unreadable, declaredEntryCount, cut, damagedEnd) = asCut
                }
            }
            // An end record that miscounts entries read to it with no byte unread (no room for a
            // lost entry): its count is damaged when one changed byte makes it count them.
            if endsWhole, cut == nil, damagedEnd == nil, let n = declaredEntryCount, n != found.count, unreadable.isEmpty {
                let at = found.last?.byteRange.upperBound ?? r.offset
                if Self.isDamagedEndRecord(Array(bytes[at...]), counting: found.count) {
                    declaredEntryCount = found.count
                    damagedEnd = DamagedEnd(bytes: at..<bytes.count, repairedCount: found.count)
                }
            }
            unreadable = Self.joined(unreadable)
            if unreadable.contains(where: { !$0.isEmpty }), let context = try? Self.codingContext(header, coders) {
                repaired = Self.repairLostEntries(bytes, entries: &found, unreadable: &unreadable, headerCRC: crc, maxPixels: maxPixels,
                                                  fallbackShape: modelShape) { entry in
                    guard case .success(let d) = Self.decode([entry], version: 2, coders: coders, context: context)[0] else { return false }
                    return ArchiveEntry.finishChecksum(d.running, name: Array(entry.name.utf8)) == entry.checksum
                }
            }
            problems = Self.resolveChain(&found, fallbackShape: modelShape)
            entries = found
        }
        var seen = Set<String>()
        for (i, e) in entries.enumerated() where problems[i] == nil {
            if !e.isStored && coders.coders[e.coder] == nil { problems[i] = .unknownCoder(e.coder, entry: e.name) }
            else if !e.isStored && e.width * e.height > maxPixels {
                problems[i] = .overPixelLimit(entry: e.name, width: e.width, height: e.height, limit: maxPixels)
            } else if header.version == 1 && !seen.insert(e.name).inserted {
                problems[i] = .duplicateName(e.name)   // version 2: checked on confirmed names (restoreAll)
            }
        }
        if header.version == 1, let first = problems.filter({ !$0.value.isPixelLimit }).keys.min() { throw problems[first]! }
        let context = try Self.codingContext(header, coders)
        self.header = header
        self.entries = entries
        self.problems = problems
        self.unreadable = unreadable
        self.declaredEntryCount = header.version == 1 ? header.entryCount : declaredEntryCount
        // (junk after the last whole entry, version 2: the archive is cut where the junk starts)
        let end = damagedEnd?.bytes.lowerBound ?? bytes.count
        self.truncation = cut.map { Truncation(offset: $0, end: end,
                                               part: $0 >= end ? .betweenEntries
                                                   : header.version == 3 ? Self.blockCutPart(bytes, at: $0) : Truncation.part(bytes, at: $0)) }
        self.damagedEnd = damagedEnd
        self.blocks = blocks
        self.cutNames = cutNames
        self.unreadableBytes = unreadable.map { Array(bytes[$0.lowerBound..<min($0.upperBound, $0.lowerBound + 1024)]) }
        self.coders = coders
        self.context = context
        self.maxPixels = maxPixels
        self.archiveBytes = bytes
        self.headerCRC = headerCRC
        self.repairedEntries = repaired.compactMap { range in entries.firstIndex { $0.byteRange == range } }
    }

    /// What every entry's coder shares: the header's statistics and the model's identity (the
    /// coders compare full identities: the header's prefix stands for the given model's).
    private static func codingContext(_ header: ArchiveHeader, _ coders: CoderSet) throws -> CodingContext {
        var identity = [UInt8](repeating: 0, count: 32)
        if header.hasModel {
            identity = coders.modelIdentity.flatMap { header.names(model: $0) ? $0 : nil } ?? header.modelIdentity
        }
        var context = CodingContext(modelIdentity: identity, statistics: header.statistics)
        try coders.prepare(&context)
        return context
    }

    /// True when parsing already found damage (decoding may find more); an entry over the pixel
    /// limit is not damage.
    public var foundDamage: Bool { problems.values.contains { !$0.isPixelLimit } || !unreadable.isEmpty || !repairedEntries.isEmpty || declaredEntryCount != entries.count
        || damagedEnd != nil }

    /// Restores entry `index` alone, checked under the name the chain of names gives it.
    public func restore(_ index: Int) throws -> [UInt8] { try restore(batch: [index])[0].get() }

    /// A version-1 archive: header, counted entries, a CRC-32 of everything (Spec/ARCHIVE.md §8).
    private static func readVersion1(_ bytes: [UInt8], maxPixels: Int) throws -> (ArchiveHeader, [ArchiveEntry]) {
        guard bytes.count >= 4 + 3 + 4 else { throw ArchiveError.truncated(field: "header", offset: bytes.count) }
        var r = ByteReader(Array(bytes[0..<(bytes.count - 4)]))
        let header = try ArchiveHeader.read(from: &r)
        var entries: [ArchiveEntry] = []
        var previous = EntryPredecessor()
        for _ in 0..<header.entryCount {
            let entry = try ArchiveEntry.readV1(from: &r, after: previous)
            previous.advance(past: entry)
            entries.append(entry)
        }
        guard r.remaining == 0 else { throw ArchiveError.trailingData(r.remaining) }
        var trailer = ByteReader(bytes, offset: bytes.count - 4)
        guard try trailer.u32("archive CRC-32") == crc32(r.bytes) else { throw ArchiveError.checksumMismatch(what: "the archive") }
        return (header, entries)
    }

    /// Decodes entry `index`'s pixels and checks them against the entry's CRC-32.
    /// - Precondition: the entry is not stored.
    /// - Throws: `ArchiveError.corruptPayload` or `.pixelChecksumMismatch`.
    public func decodePixels(_ index: Int) throws -> PNGImage {
        try decodePixels(batch: [index])[0].get()
    }

    /// Decodes the entries of one batch together (`batches()`: version 2, one coder and shape,
    /// coder 5 in lockstep; version 3, whole blocks, their messages in lockstep) and checks each
    /// against its CRC-32 under its name. A stored entry gives the PNG image its file holds.
    /// - Precondition: the batch is one of `batches()`'s groups (or a part of one).
    /// - Returns: per entry, its image or its `ArchiveError` (as `decodePixels(_:)` throws it; a
    ///   stored file the archive could not re-create is refused as `.input`).
    public func decodePixels(batch: [Int]) -> [Result<PNGImage, Error>] {
        checked(batch: batch).map { r in Result { let (i, d) = try r.get(); return try d.image ?? storedImage(i).get() } }
    }

    /// Decodes one batch and checks each entry under the name the chain of names gives it.
    private func checked(batch: [Int]) -> [Result<(index: Int, decoded: Decoded), Error>] {
        zip(batch, decode(batch: batch)).map { index, decoded in
            Result {
                let d = try decoded.get()
                guard check(index, running: d.running, name: Array(entries[index].name.utf8)) else {
                    throw ArchiveError.pixelChecksumMismatch(entry: entries[index].name)
                }
                // whole (its CRC-32 passes), but refused: the archive was made with this name
                try ArchiveEntry.validateName(entries[index].name)
                return (index, d)
            }
        }
    }

    /// An entry decoded but not yet checked: its image (nil when stored) and, for version 2, the
    /// running CRC-32 over its bytes and pixels that its name completes (Spec/ARCHIVE.md §3.2).
    struct Decoded {
        var image: PNGImage?
        var running: UInt32
    }

    /// Decodes the entries of one batch (`batches()`) without checking them.
    func decode(batch: [Int]) -> [Result<Decoded, Error>] {
        guard let first = batch.first else { return [] }
        if header.version == 3 {   // the batch's blocks, decoded whole and checked
            var bs: [Int] = []
            for i in batch where bs.last != entries[i].block { bs.append(entries[i].block) }
            let decoded = decodeBlocks(bs)
            return batch.map { i in decoded[bs.firstIndex(of: entries[i].block)!][i - blocks[entries[i].block].firstEntry] }
        }
        if let problem = problems[first] { return batch.map { _ in .failure(problem) } }
        precondition(batch.allSatisfy { problems[$0] == nil }, "a batch has no problem entries")
        return decode(batch.map { entries[$0] })
    }

    /// Decodes entries of one coder and shape (or one stored entry) without checking them.
    func decode(_ list: [ArchiveEntry]) -> [Result<Decoded, Error>] {
        Self.decode(list, version: header.version, coders: coders, context: context)
    }

    /// `decode(_:)` for an archive of format `version` read with `coders` and `context`.
    static func decode(_ list: [ArchiveEntry], version: UInt8, coders: CoderSet, context: CodingContext) -> [Result<Decoded, Error>] {
        guard let first = list.first else { return [] }
        if first.isStored {
            precondition(list.count == 1, "a stored entry is a batch of its own")
            return [.success(Decoded(image: nil, running: version == 1 ? crc32(first.payload) : first.bytesCRC))]
        }
        precondition(list.allSatisfy { !$0.isStored && $0.coder == first.coder }, "a batch is one coder")
        guard let coder = coders.coders[first.coder] else { return list.map { .failure(ArchiveError.unknownCoder(first.coder, entry: $0.name)) } }
        let results = coder.decodeBatch(list.map(\.payload), width: first.width, height: first.height,
                                        channels: first.channels, bitDepth: Int(first.bitDepth),
                                        isPalette: first.colorType == PNGColorType.palette.rawValue, context: context)
        return zip(list, results).map { entry, result in
            Result {
                let pixels: PixelImage
                do { pixels = try result.get() } catch {
                    if case ArchiveError.modelMismatch = error { throw error }
                    throw ArchiveError.corruptPayload(entry: entry.name, detail: ArchiveError.detail(error))
                }
                guard pixels.width == entry.width, pixels.height == entry.height, pixels.channels == entry.channels,
                      pixels.bitDepth == Int(entry.bitDepth)
                else { throw ArchiveError.pixelChecksumMismatch(entry: entry.name) }
                let running = pixelCRC32(pixels, continuing: version == 1 ? 0 : entry.bytesCRC)
                return Decoded(image: entry.pngImage(pixels: pixels), running: running)
            }
        }
    }

    /// True when entry `index`, decoded to the running CRC `running`, matches its CRC-32 under
    /// the name `name` (version 1: the pixel or file CRC; the name was checked with the archive).
    func check(_ index: Int, running: UInt32, name: [UInt8]) -> Bool {
        header.version != 2 ? running == entries[index].checksum
            : ArchiveEntry.finishChecksum(running, name: name) == entries[index].checksum
    }

    /// The group size for `batches(of:size:)` that keeps `threads` threads busy: version 3, the
    /// blocks spread evenly over the threads, at most 16 in lockstep; version 2, 16 entries.
    public func batchSize(threads: Int) -> Int {
        guard header.version == 3 else { return 16 }
        return max(1, min(16, (blocks.count + threads - 1) / max(threads, 1)))
    }

    /// Every entry index once, in groups to decode together (version 3: the selected entries of
    /// up to `size` blocks, which decode whole, their messages in lockstep): entries of a lockstep coder
    /// (`EntryCoder.decodesInLockstep`) with the same coder and shape, in archive order, up to
    /// `size` per group; every other entry alone. Groups are ordered by their first entry.
    public func batches(of indices: [Int]? = nil, size: Int = 16) -> [[Int]] {
        struct Key: Hashable { let coder: UInt8, width: Int, height: Int, channels: Int, bitDepth: UInt8, colorType: UInt8 }
        var out: [[Int]] = []
        if header.version == 3 {   // blocks decode whole: up to `size` blocks' selected entries a group
            var blocksIn = 0
            for i in indices ?? Array(entries.indices) {
                if let last = out.last?.last, entries[last].block == entries[i].block { out[out.count - 1].append(i); continue }
                if !out.isEmpty && blocksIn < size { out[out.count - 1].append(i); blocksIn += 1 } else { out.append([i]); blocksIn = 1 }
            }
            return out
        }
        var open: [Key: Int] = [:]   // the group still filling, per key
        for i in indices ?? Array(entries.indices) {
            let e = entries[i]
            guard !e.isStored, problems[i] == nil, coders.coders[e.coder]?.decodesInLockstep ?? false else { out.append([i]); continue }
            let key = Key(coder: e.coder, width: e.width, height: e.height, channels: e.channels, bitDepth: e.bitDepth, colorType: e.colorType)
            if let g = open[key], out[g].count < size { out[g].append(i) } else { open[key] = out.count; out.append([i]) }
        }
        return out
    }

    /// The restored file of entry `index` from its checked decoding: the stored bytes, or a PNG
    /// written by libpng from the pixels and the entry's metadata.
    /// - Throws: `ArchiveError.corruptPayload` when libpng cannot write the metadata back.
    func file(_ index: Int, _ decoded: Decoded) throws -> [UInt8] { try file(of: entries[index], decoded) }

    /// `file(_:_:)` of an entry as given.
    func file(of entry: ArchiveEntry, _ decoded: Decoded) throws -> [UInt8] {
        guard let image = decoded.image else { return entry.payload }
        do { return try PNGWriter.encode(image) } catch {
            throw ArchiveError.corruptPayload(entry: entry.name, detail: "\(error)")
        }
    }

    /// The restored files of the entries of one batch (`batches()`), each its bytes or its error;
    /// each entry checked under the name the chain of names gives it.
    public func restore(batch: [Int]) -> [Result<[UInt8], Error>] {
        checked(batch: batch).map { r in Result { let (index, d) = try r.get(); return try file(index, d) } }
    }

    /// Checks that the archive names the model whose SHA-256 is `identity` (or needs none).
    /// - Throws: `ArchiveError.modelMismatch`.
    public func checkModel(_ identity: [UInt8]?) throws {
        guard header.hasModel else { return }
        let given = identity ?? [UInt8](repeating: 0, count: 32)
        if !header.names(model: given) {
            throw ArchiveError.modelMismatch(expected: hex(header.modelIdentity), given: hex(Array(given.prefix(header.modelIdentity.count))))
        }
    }
}

/// Lower-case hex of `bytes`.
public func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef")
    return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] })
}
