/// An entry damaged in one byte among its fields, read again (Spec/ARCHIVE.md §6).
///
/// A damaged kind byte, name length, shape or payload length either makes an entry unreadable
/// (its bytes are stepped over) or makes it read wrongly (a wrong coder or shape); when it was the
/// entry whose name or shape the next entries repeat, those are lost with it. The fields sit in
/// the entry's first bytes, so every one-byte change of them is read as an entry; a reading that
/// ends where the next entry starts and passes its CRC-32 is the entry.
extension ArchiveReader {
    /// The offsets in an entry's bytes where its fields can be: the kind byte and name lengths,
    /// and the 12 bytes after the name (width, height, type, extras, payload length) wherever
    /// the name lengths as they stand, or a counted-on name, put them.
    static func fieldOffsets(_ buffer: [UInt8]) -> [Int] {
        var starts = [1]
        var r = ByteReader(buffer, offset: 1)
        if let lengths = try? r.varint("name lengths") { starts.append(r.offset + (lengths & 1023)) }
        let offsets = Set(0..<3).union(starts.flatMap { $0..<($0 + 12) })
        return offsets.filter { $0 < buffer.count }.sorted()
    }

    /// Calls `body` with each entry that `buffer`, with one byte among its fields
    /// (`fieldOffsets`) changed, reads as from its start to an end that `ends` accepts (an
    /// offset in `buffer`), until `body` returns true: first every one-bit change (the
    /// commonest damage), then every other value of the kind byte and name lengths, first offset
    /// first. Its `byteRange` is within `buffer`.
    static func forEachOneByteReading(_ buffer: [UInt8], headerCRC: UInt32, maxPixels: Int, ends: (Int) -> Bool,
                                      _ body: (ArchiveEntry) -> Bool) {
        var buffer = buffer
        let offsets = fieldOffsets(buffer)
        for bitsOnly in [true, false] {
            for p in offsets where bitsOnly || p < 3 {
                let original = buffer[p]
                defer { buffer[p] = original }
                for value in 0...255 {
                    let change = UInt8(value) ^ original
                    guard change != 0, (change & (change - 1) == 0) == bitsOnly else { continue }
                    buffer[p] = UInt8(value)
                    var skim = ByteReader(buffer)
                    guard (try? ArchiveEntry.read(from: &skim, headerCRC: headerCRC, maxPixels: maxPixels, skimming: true)) != nil,
                          ends(skim.offset) else { continue }
                    var r = ByteReader(buffer)
                    if let entry = try? ArchiveEntry.read(from: &r, headerCRC: headerCRC, maxPixels: maxPixels), body(entry) { return }
                }
            }
        }
    }

    /// How many readings of a damaged entry of `size` bytes are decoded at most: 32, fewer for
    /// entries over 64 KB (2^21 bytes in all), at least 2.
    static func decodeBudget(size: Int) -> Int { min(32, max(2, (1 << 21) / max(size, 1))) }

    /// Puts back into `entries` (in archive order) the entries of each unreadable range whose
    /// first entry one changed byte among its fields makes readable, when the entries after it
    /// read on to the range's end and it `passes` (its CRC-32, with its name and shape from the
    /// entries before, as `resolveChain` gives them). The range is tried alone, then with the
    /// entry just before or after it (a misread entry that ends early, or the tail of the
    /// damaged entry read as one). Ranges over 2^24 bytes are left as they are.
    /// - Returns: the byte ranges of the repaired entries.
    static func repairLostEntries(_ bytes: [UInt8], entries: inout [ArchiveEntry], unreadable: inout [Range<Int>], headerCRC: UInt32,
                                  maxPixels: Int, fallbackShape: EntryPredecessor.Shape?, passes: (ArchiveEntry) -> Bool) -> [Range<Int>] {
        var kept: [Range<Int>] = [], repaired: [Range<Int>] = []
        /// The entries from `offset` when they read on exactly to `end` (none when offset == end).
        func readOn(from offset: Int, to end: Int) -> [ArchiveEntry]? {
            var r = ByteReader(bytes, offset: offset), found: [ArchiveEntry] = []
            while r.offset < end {
                guard let e = try? ArchiveEntry.read(from: &r, headerCRC: headerCRC, maxPixels: maxPixels), r.offset <= end else { return nil }
                found.append(e)
            }
            return found
        }
        /// The entries of `range`, the first repaired, at `index` of `entries` (inserted, or
        /// replacing the entry there), if its repair passes.
        func reading(_ range: Range<Int>, at index: Int, replacing: Bool) -> [ArchiveEntry]? {
            var found: [ArchiveEntry]?, budget = decodeBudget(size: range.count)
            let start = range.lowerBound
            forEachOneByteReading(Array(bytes[range]), headerCRC: headerCRC, maxPixels: maxPixels,
                                  ends: { readOn(from: start + $0, to: range.upperBound) != nil }) { entry in
                var entry = entry
                entry.byteRange = start..<(start + entry.byteRange.upperBound)
                var trial = entries
                if replacing { trial[index] = entry } else { trial.insert(entry, at: index) }
                guard resolveChain(&trial, fallbackShape: fallbackShape)[index] == nil else { return false }
                budget -= 1
                if passes(trial[index]) { found = [entry] + readOn(from: entry.byteRange.upperBound, to: range.upperBound)! }
                return found != nil || budget == 0
            }
            return found
        }
        for range in unreadable {
            guard !range.isEmpty, range.count <= 1 << 24 else { kept.append(range); continue }
            let index = entries.firstIndex { $0.byteRange.lowerBound >= range.upperBound } ?? entries.count
            var put: [ArchiveEntry]?
            if let list = reading(range, at: index, replacing: false) {
                entries.insert(contentsOf: list, at: index)
                put = list
            } else if index > 0, entries[index - 1].byteRange.upperBound == range.lowerBound,
                      let list = reading(entries[index - 1].byteRange.lowerBound..<range.upperBound, at: index - 1, replacing: true) {
                entries.replaceSubrange((index - 1)..<index, with: list)
                put = list
            } else if index < entries.count, entries[index].byteRange.lowerBound == range.upperBound,
                      let list = reading(range.lowerBound..<entries[index].byteRange.upperBound, at: index, replacing: true) {
                entries.replaceSubrange(index..<(index + 1), with: list)
                put = list
            }
            if let first = put?.first { repaired.append(first.byteRange) } else { kept.append(range) }
        }
        unreadable = kept
        return repaired
    }

    /// Entry `index`, which reads but fails its CRC-32, read again with one byte among its fields
    /// changed (a damaged kind, width, height or type byte that the entries after it
    /// repeat): the first reading that passes under the name its name coding gives after
    /// `previous`, with `shape` when it repeats one. Decodes once per distinct coder, shape and
    /// payload, at most `decodeBudget` times; shapes of more than 4× the entry's own pixels (at
    /// least 2^16) are not tried.
    /// - Returns: the reading's name, its decoding (the running CRC before the name) and file.
    func repairedFields(_ index: Int, after previous: [UInt8], shape: EntryPredecessor.Shape?)
        -> (name: [UInt8], decoded: Decoded, file: [UInt8])? {
        guard header.version == 2, let headerCRC else { return nil }
        let range = entries[index].byteRange
        let pixelLimit = max(4 * entries[index].width * entries[index].height, 1 << 16)
        struct Key: Hashable { let coder: UInt8, width: Int, height: Int, colorType: UInt8, bitDepth: UInt8, payload: Int }
        // the pixels each distinct reading decodes to (nil: none); the metadata (palette, chunks)
        // is each reading's own
        var decodedPixels: [Key: PixelImage?] = [:]
        var result: (name: [UInt8], decoded: Decoded, file: [UInt8])?
        let buffer = Array(archiveBytes[range])
        Self.forEachOneByteReading(buffer, headerCRC: headerCRC, maxPixels: maxPixels, ends: { $0 == buffer.count }) { reading in
            var entry = reading
            if entry.sameShape {
                guard let shape else { return false }
                (entry.width, entry.height, entry.colorType, entry.bitDepth) = shape
            }
            guard let name = Self.name(entry.nameCoding, after: previous), entry.isStored || entry.width * entry.height <= pixelLimit else { return false }
            entry.name = String(decoding: name, as: UTF8.self)
            var decoded = Decoded(image: nil, running: entry.bytesCRC)
            if !entry.isStored {
                let key = Key(coder: entry.coder, width: entry.width, height: entry.height, colorType: entry.colorType, bitDepth: entry.bitDepth,
                              payload: entry.byteRange.upperBound - 4 - entry.payload.count)
                if decodedPixels[key] == nil {
                    guard decodedPixels.count < Self.decodeBudget(size: range.count) else { return true }
                    decodedPixels.updateValue((try? decode([entry])[0].get())?.image?.pixels, forKey: key)
                }
                guard let pixels = decodedPixels[key]! else { return false }
                decoded = Decoded(image: entry.pngImage(pixels: pixels), running: pixelCRC32(pixels, continuing: entry.bytesCRC))
            }
            guard ArchiveEntry.finishChecksum(decoded.running, name: name) == entry.checksum,
                  let file = try? file(of: entry, decoded) else { return false }
            result = (name, decoded, file)
            return true
        }
        return result
    }
}
