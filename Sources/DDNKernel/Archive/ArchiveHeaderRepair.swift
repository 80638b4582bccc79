import CPNG

/// One damaged byte in a version-2 or version-3 header, found by the entries' (version 3: the
/// blocks') CRC-32 (Spec/ARCHIVE.md §6).
///
/// Every entry's (block's) CRC-32 starts with the header's bytes (§3.2, §3.5), so one damaged
/// header byte makes every entry fail its check. The CRC is affine in the header's bytes: with a probe entry decoded
/// once, the entry's CRC for the header with byte p changed by δ (XOR) is its CRC now XOR a linear
/// function of (p, δ), so every one-byte change of the archive id, model identity and statistics
/// is tried by table lookups, without decoding again. Bytes that decide how the header parses
/// (magic, version, flags, the statistics' length) are tried by parsing each possible value.
extension ArchiveReader {
    /// A header with one byte repaired.
    public struct HeaderRepair: Sendable {
        /// The archive's bytes with the header byte repaired.
        public let bytes: [UInt8]
        /// Offset of the repaired byte.
        public let offset: Int
    }

    /// The archive `bytes` with one header byte changed so that its entries pass their CRC-32,
    /// or nil when no single-byte change does (or the header is intact, or the archive is not
    /// version 2). A repair is accepted only when the first one or two entries of the repaired
    /// archive that can be checked pass (a stored entry or one decoded with `coders`).
    /// - Complexity: a few parses of the archive and decodes of one or two entries, plus
    ///   O(header size · 256) table lookups.
    public static func repairHeader(_ bytes: [UInt8], coders: CoderSet, maxPixels: Int = 1 << 26) -> HeaderRepair? {
        guard bytes.count > 14 else { return nil }
        if let reader = try? ArchiveReader(bytes, coders: coders, maxPixels: maxPixels), reader.header.version >= 2 {
            switch reader.probe() {
            case true?: return nil   // intact
            case false?: if let repair = reader.searchHeader(bytes) { return repair }
            case nil:   // nothing to check: unless nothing was found at all (a damaged version byte)
                if !reader.entries.isEmpty || reader.unreadable.allSatisfy(\.isEmpty) { return nil }
            }
        }
        // the bytes that decide the parse, and the model identity a model coder would refuse
        var variants: [(offset: Int, value: UInt8)] = []
        for (i, m) in ArchiveHeader.magic.enumerated() where bytes[i] != m { variants.append((i, m)) }
        for v: UInt8 in 2...3 where bytes[4] != v { variants.append((4, v)) }
        for f: UInt8 in 0...3 where bytes[5] != f { variants.append((5, f)) }
        if bytes[5] & 1 != 0, let model = coders.modelIdentity {
            let stored = ArchiveHeader.namedModel(bytes), given = Array(model.prefix(ArchiveHeader.identityBytes))
            let differing = (0..<4).filter { stored[$0] != given[$0] }
            if differing.count == 1 { variants.append((10 + differing[0], given[differing[0]])) }
        }
        // the statistics' length: each value after which an entry starts where the statistics end
        if bytes[5] & 2 != 0 {
            let at = 10 + (bytes[5] & 1 != 0 ? ArchiveHeader.identityBytes : 0)
            for offset in at..<min(at + 5, bytes.count) {
                for value in 0...255 where value != Int(bytes[offset]) {
                    var field = Array(bytes[at..<min(at + 5, bytes.count)])
                    field[offset - at] = UInt8(value)
                    var r = ByteReader(field)
                    guard let length = try? r.varint("statistics length"), length > 0, at + r.offset + length < bytes.count else { continue }
                    var entry = ByteReader(bytes, offset: at + r.offset + length)
                    if bytes[(at + r.offset + length)...].starts(with: ArchiveBlock.magic)
                        || (try? ArchiveEntry.read(from: &entry, headerCRC: 0, maxPixels: maxPixels, skimming: true)) != nil {
                        variants.append((offset, UInt8(value)))
                    }
                }
            }
        }
        for (offset, value) in variants {
            var repaired = bytes
            repaired[offset] = value
            if let reader = try? ArchiveReader(repaired, coders: coders, maxPixels: maxPixels), reader.probe() == true {
                return HeaderRepair(bytes: repaired, offset: offset)
            }
        }
        return nil
    }

    /// Entries to check a header by: the first two that have no problem, those whose coder does
    /// not use the header's statistics first (version 3: the first entry of each of the first
    /// two such blocks, the block decoded whole).
    private var probeEntries: [Int] {
        let usable = entries.indices.filter { problems[$0] == nil && (entries[$0].isStored || coders.coders[entries[$0].coder] != nil) }
        let ordered = usable.filter { !CoderID.usesStatistics(entries[$0].coder) } + usable.filter { CoderID.usesStatistics(entries[$0].coder) }
        guard header.version == 3 else { return Array(ordered.prefix(2)) }
        func clean(_ b: Int) -> Bool {
            blocks[b].entryIndices.allSatisfy { problems[$0] == nil }
        }
        func statistics(_ b: Int) -> Bool {
            blocks[b].entryIndices.contains { CoderID.usesStatistics(entries[$0].coder) }
        }
        let probes = blocks.indices.filter { clean($0) && !statistics($0) } + blocks.indices.filter { clean($0) && statistics($0) }
        return probes.prefix(2).map { blocks[$0].firstEntry }
    }

    /// Whether the probe entries (the first `first` of them, default all) pass their CRC-32
    /// (nil: there is none).
    private func probe(first: Int = .max) -> Bool? {
        let probes = probeEntries.prefix(first)
        if probes.isEmpty { return nil }
        return probes.allSatisfy { i in
            guard case .success(let d) = decode(batch: [i])[0] else { return false }
            return check(i, running: d.running, name: Array(entries[i].name.utf8))
        }
    }

    /// One byte of the archive id, model identity or (when the probe entry does not use them)
    /// statistics whose change makes the probe entry pass, confirmed by parsing the repaired archive.
    private func searchHeader(_ bytes: [UInt8]) -> HeaderRepair? {
        guard let i = probeEntries.first else { return nil }
        let entry = entries[i], name = Array(entry.name.utf8)
        var r = ByteReader(bytes)
        guard (try? ArchiveHeader.read(from: &r)) != nil else { return nil }
        let h = r.offset
        // F(c): the entry's (block's) CRC-32 when the header's CRC is c (affine in c)
        let entryBytes = bytes[entry.byteRange.lowerBound..<(entry.byteRange.upperBound - 4)]
        let entryCRC: (UInt32) -> UInt32
        if header.version == 3 {
            let block = blocks[entry.block]
            guard case .success(let pixels) = blockPixels([entry.block])[0] else { return nil }
            let list = Array(entries[block.entryIndices])
            entryCRC = { c in
                ArchiveBlock.finishChecksum(entryBytes.withUnsafeBufferPointer { cpng_crc32(c, $0.baseAddress, $0.count) }, entries: list, pixels: pixels)
            }
        } else {
            guard case .success(let decoded) = decode([entry])[0] else { return nil }
            entryCRC = { c in
                let running = entry.bytesCRC(entryBytes, headerCRC: c)
                return ArchiveEntry.finishChecksum(decoded.image.map { pixelCRC32($0.pixels, continuing: running) } ?? running, name: name)
            }
        }
        let f0 = entryCRC(0)
        let columns = (0..<32).map { entryCRC(1 << UInt32($0)) ^ f0 }
        func linear(_ x: UInt32) -> UInt32 {
            var y: UInt32 = 0
            for j in 0..<32 where x >> UInt32(j) & 1 != 0 { y ^= columns[j] }
            return y
        }
        let syndrome = entry.checksum ^ entryCRC(crc32(Array(bytes[0..<h])))
        if syndrome == 0 { return nil }
        // offsets to try: archive id, model identity, and the statistics unless the probe uses them
        var offsets = Set(6..<10)
        if header.hasModel { offsets.formUnion(10..<(10 + ArchiveHeader.identityBytes)) }
        if !header.statistics.isEmpty && !CoderID.usesStatistics(entry.coder) { offsets.formUnion((h - header.statistics.count)..<h) }
        // b[k]: how the header's CRC changes when byte p flips bit k, for p from the last byte down
        let zero = crc32([0])
        var b = (0..<8).map { crc32([UInt8(1 << $0)]) ^ zero }
        var table = [UInt32](repeating: 0, count: 256)
        for p in stride(from: h - 1, through: 6, by: -1) {
            if p < h - 1 { b = b.map { crc32(continuing: $0, [0]) ^ crc32(continuing: 0, [0]) } }
            guard offsets.contains(p) else { continue }
            let c = b.map(linear)
            for delta in 1..<256 {
                table[delta] = table[delta & (delta - 1)] ^ c[delta.trailingZeroBitCount]
                if table[delta] == syndrome {
                    var repaired = bytes
                    repaired[p] ^= UInt8(delta)
                    if let reader = try? ArchiveReader(repaired, coders: coders, maxPixels: maxPixels), reader.probe() == true {
                        return HeaderRepair(bytes: repaired, offset: p)
                    }
                }
            }
        }
        return nil
    }
}

extension ArchiveReader {
    /// An archive opened as `opening(_:maxPixels:model:)` does, with one damaged header byte
    /// repaired by the entries' CRC-32 (`repairHeader`) when the header does not parse or the
    /// first checkable entries fail (version 3: the first checkable block, decoded whole): what
    /// `ddnunzip` and the C ABI both open with.
    /// - Parameters:
    ///   - model: gives the model for the identity the header names (`DDNModel.load(path:needing:)`);
    ///     called only when needed.
    ///   - probingBlocks: version 3, whether to decode a block now to check the header. A caller
    ///     that decodes every entry anyway (`ddnunzip`) passes false and calls `repairHeader`
    ///     when every entry fails, so that an intact archive costs no extra decoding.
    /// - Returns: the reader (of the repaired bytes after a repair) and the repair (nil when the
    ///   header needed none).
    /// - Throws: what `opening` throws for the bytes as given, when no repair helps.
    public static func openingRepairingHeader(_ bytes: [UInt8], maxPixels: Int = 1 << 26, probingBlocks: Bool = true,
                                              model: ModelSource?) throws -> (reader: ArchiveReader, repair: HeaderRepair?) {
        let coders = { (try? model?(ArchiveHeader.namedModel(bytes))).flatMap { try? CoderSet.standard(model: $0) } ?? .withoutModel }
        let reader: ArchiveReader
        do { reader = try opening(bytes, maxPixels: maxPixels, model: model) } catch {
            guard let fix = repairHeader(bytes, coders: coders(), maxPixels: maxPixels) else { throw error }
            return (try opening(fix.bytes, maxPixels: maxPixels, model: model), fix)
        }
        // version 3 probes one block (up to 4,096 entries decoded), not two: repairHeader confirms
        let fails = reader.header.version == 2 ? reader.probe() == false
            : reader.header.version == 3 && probingBlocks && reader.probe(first: 1) == false
        guard fails,
              let fix = repairHeader(bytes, coders: coders(), maxPixels: maxPixels),
              let repaired = try? opening(fix.bytes, maxPixels: maxPixels, model: model) else { return (reader, nil) }
        return (repaired, fix)
    }
}
