/// Reads an archive (Spec/ARCHIVE.md): parses and checks the header and every entry up front
/// (lengths against remaining bytes, CRC-32s), then decodes entries on demand, each independent.
public struct ArchiveReader: Sendable {
    /// The header.
    public let header: ArchiveHeader
    /// Every entry, in archive order.
    public let entries: [ArchiveEntry]
    /// Coders this reader can decode with.
    public let coders: CoderSet
    /// Shared coding state built from the header.
    public let context: CodingContext
    /// Largest width × height an entry may declare (protects against huge allocations).
    public let maxPixels: Int

    /// Parses `bytes`.
    /// - Throws: `ArchiveError` for anything malformed: wrong magic or version, truncation, a
    ///   count or length larger than what remains, a CRC mismatch, an unsafe or duplicate name,
    ///   an unknown coder, trailing bytes.
    /// - Complexity: O(archive size); no payload is decoded.
    public init(_ bytes: [UInt8], coders: CoderSet = .standard, maxPixels: Int = 1 << 26) throws {
        guard bytes.count >= 4, Array(bytes[0..<4]) == ArchiveHeader.magic else {
            if bytes.count < 4 && bytes == Array(ArchiveHeader.magic.prefix(bytes.count)) && !bytes.isEmpty {
                throw ArchiveError.truncated(field: "magic", offset: bytes.count)
            }
            throw ArchiveError.notAnArchive
        }
        guard bytes.count >= 4 + 3 + 4 else { throw ArchiveError.truncated(field: "header", offset: bytes.count) }
        // Everything but the trailing CRC-32; counts are checked against this, not the whole file.
        var r = ByteReader(Array(bytes[0..<(bytes.count - 4)]))
        let header = try ArchiveHeader.read(from: &r)
        var entries: [ArchiveEntry] = []
        entries.reserveCapacity(header.entryCount)
        var names = Set<String>()
        var previous = EntryPredecessor()
        for _ in 0..<header.entryCount {
            let entry = try ArchiveEntry.read(from: &r, after: previous)
            previous.advance(past: entry)
            guard names.insert(entry.name).inserted else { throw ArchiveError.duplicateName(entry.name) }
            if !entry.isStored {
                guard coders.coders[entry.coder] != nil else { throw ArchiveError.unknownCoder(entry.coder, entry: entry.name) }
                guard entry.width * entry.height <= maxPixels else {
                    throw ArchiveError.invalidField(field: "size", detail: "\(entry.width)×\(entry.height) of \(entry.name) exceeds the pixel limit of \(maxPixels) (see --max-pixels)")
                }
            }
            entries.append(entry)
        }
        guard r.remaining == 0 else { throw ArchiveError.trailingData(r.remaining) }
        var trailer = ByteReader(bytes, offset: bytes.count - 4)
        let stored = try trailer.u32("archive CRC-32")
        guard stored == crc32(r.bytes) else { throw ArchiveError.checksumMismatch(what: "the archive") }
        var context = CodingContext(modelIdentity: header.modelIdentity, statistics: header.statistics)
        try coders.prepare(&context)
        self.header = header
        self.entries = entries
        self.coders = coders
        self.context = context
        self.maxPixels = maxPixels
    }

    /// Decodes entry `index`'s pixels and checks them against the entry's CRC-32.
    /// - Precondition: the entry is not stored.
    /// - Throws: `ArchiveError.corruptPayload` or `.pixelChecksumMismatch`.
    public func decodePixels(_ index: Int) throws -> PNGImage {
        try decodePixels(batch: [index])[0].get()
    }

    /// Decodes several entries of one coder and one shape together (`EntryCoder.decodeBatch`:
    /// coder 5 runs them in lockstep) and checks each against its CRC-32.
    /// - Precondition: the entries are not stored and share coder, size, channels, bit depth and
    ///   palette-ness (as `batches()` groups them).
    /// - Returns: per entry, its image or its `ArchiveError` (as `decodePixels(_:)` throws it).
    public func decodePixels(batch: [Int]) -> [Result<PNGImage, Error>] {
        guard let first = batch.first.map({ entries[$0] }) else { return [] }
        precondition(batch.allSatisfy { !entries[$0].isStored && entries[$0].coder == first.coder }, "a batch is one coder")
        let coder = coders.coders[first.coder]!
        let results = coder.decodeBatch(batch.map { entries[$0].payload }, width: first.width, height: first.height,
                                        channels: first.channels, bitDepth: Int(first.bitDepth),
                                        isPalette: first.colorType == PNGColorType.palette.rawValue, context: context)
        return zip(batch, results).map { index, result in
            let entry = entries[index]
            return Result {
                let pixels: PixelImage
                do { pixels = try result.get() } catch let e as ArchiveError {
                    if case .modelMismatch = e { throw e }
                    let detail = e.description.hasPrefix("corrupt archive: ") ? String(e.description.dropFirst(17)) : e.description
                    throw ArchiveError.corruptPayload(entry: entry.name, detail: detail)
                } catch {
                    throw ArchiveError.corruptPayload(entry: entry.name, detail: "\(error)")
                }
                guard pixels.width == entry.width, pixels.height == entry.height, pixels.channels == entry.channels,
                      pixels.bitDepth == Int(entry.bitDepth), pixelCRC32(pixels) == entry.checksum
                else { throw ArchiveError.pixelChecksumMismatch(entry: entry.name) }
                return entry.pngImage(pixels: pixels)
            }
        }
    }

    /// Every entry index once, in groups to decode together: entries of a lockstep coder
    /// (`EntryCoder.decodesInLockstep`) with the same coder and shape, in archive order, up to
    /// `size` per group; every other entry alone. Groups are ordered by their first entry.
    public func batches(size: Int = 16) -> [[Int]] {
        struct Key: Hashable { let coder: UInt8, width: Int, height: Int, channels: Int, bitDepth: UInt8, colorType: UInt8 }
        var out: [[Int]] = []
        var open: [Key: Int] = [:]   // the group still filling, per key
        for (i, e) in entries.enumerated() {
            guard !e.isStored, coders.coders[e.coder]?.decodesInLockstep ?? false else { out.append([i]); continue }
            let key = Key(coder: e.coder, width: e.width, height: e.height, channels: e.channels, bitDepth: e.bitDepth, colorType: e.colorType)
            if let g = open[key], out[g].count < size { out[g].append(i) } else { open[key] = out.count; out.append([i]) }
        }
        return out
    }

    /// The restored file of entry `index`: the stored bytes, or a PNG written by libpng from the
    /// decoded pixels and the entry's metadata.
    /// - Throws: `ArchiveError` (corrupt payload, checksum) or `.corruptPayload` when libpng
    ///   cannot write the metadata back.
    public func restore(_ index: Int) throws -> [UInt8] {
        let entry = entries[index]
        if entry.isStored {
            guard crc32(entry.payload) == entry.checksum else { throw ArchiveError.pixelChecksumMismatch(entry: entry.name) }
            return entry.payload
        }
        return try restore(index, pixels: decodePixels(index))
    }

    /// The restored PNG of non-stored entry `index` from its decoded pixels.
    func restore(_ index: Int, pixels image: PNGImage) throws -> [UInt8] {
        do { return try PNGWriter.encode(image) } catch {
            throw ArchiveError.corruptPayload(entry: entries[index].name, detail: "\(error)")
        }
    }

    /// The restored files of the entries of one batch (`batches()`), each its bytes or its error.
    public func restore(batch: [Int]) -> [Result<[UInt8], Error>] {
        if batch.count == 1 { return [Result { try restore(batch[0]) }] }
        return zip(batch, decodePixels(batch: batch)).map { index, pixels in Result { try restore(index, pixels: pixels.get()) } }
    }

    /// Checks that the archive's model identity is `identity` (or that the archive needs none).
    /// - Throws: `ArchiveError.modelMismatch`.
    public func checkModel(_ identity: [UInt8]?) throws {
        guard header.hasModel else { return }
        let given = identity ?? [UInt8](repeating: 0, count: 32)
        if given != header.modelIdentity {
            throw ArchiveError.modelMismatch(expected: hex(header.modelIdentity), given: hex(given))
        }
    }
}

/// Lower-case hex of `bytes`.
public func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef")
    return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] })
}
