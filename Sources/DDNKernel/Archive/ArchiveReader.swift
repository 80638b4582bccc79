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
        let entry = entries[index]
        precondition(!entry.isStored, "stored entries have no pixels")
        let coder = coders.coders[entry.coder]!
        let pixels: PixelImage
        do {
            pixels = try coder.decode(entry.payload, width: entry.width, height: entry.height, channels: entry.channels,
                                      bitDepth: Int(entry.bitDepth), isPalette: entry.colorType == PNGColorType.palette.rawValue,
                                      context: context)
        } catch let e as ArchiveError {
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
        let image = try decodePixels(index)
        do { return try PNGWriter.encode(image) } catch {
            throw ArchiveError.corruptPayload(entry: entry.name, detail: "\(error)")
        }
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
