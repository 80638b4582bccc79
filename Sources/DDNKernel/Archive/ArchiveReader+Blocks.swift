/// Reading a version-3 archive (Spec/ARCHIVE.md §3.4–§3.6): finding its blocks, also past
/// damage and up to a cut, and decoding a block whole, checked by its one CRC-32. Damage costs
/// the damaged block, its entries named; a cut archive restores every whole block.
extension ArchiveReader {
    /// What reading a version-3 archive's blocks found.
    struct BlockScan {
        var blocks: [ArchiveBlock] = []
        /// Byte ranges that read as no block (each held at least one entry).
        var unreadable: [Range<Int>] = []
        /// The entry count of the end record, when it is there.
        var declared: Int?
        /// Where the archive is cut (no end record): the offset of the block it cuts short, or the
        /// end of the bytes.
        var cut: Int?
        /// The names of the entries of the block the cut falls in, when its fields are all there.
        var cutNames: [String] = []
        /// The bytes after the last whole block that end the archive without a whole end record
        /// (a damaged end record, junk), or junk after the end record.
        var damagedEnd: DamagedEnd?
        /// The entries of the blocks found.
        var found: Int { blocks.reduce(0) { $0 + $1.entries.count } }
    }

    /// Every block from `start` to the end record. Where no block reads (or the one that reads is
    /// not followed by a block, the end record or the end of the bytes), the next offset holding
    /// "DDNB" or "DDNE" from which a block or the end record reads, or a block the end of the
    /// bytes cuts short, starts again; the bytes between are unreadable. A block that reads with
    /// no such offset after it is the last one (its CRC-32 decides), and what follows it ends the
    /// archive (`readEnd`); so does the end record (`readEndRecord`).
    static func findBlocks(_ bytes: [UInt8], from start: Int, headerCRC: UInt32) -> BlockScan {
        var scan = BlockScan(), at = start
        while at < bytes.count {
            if let (count, end) = ArchiveBlock.endRecord(bytes, at: at) {
                readEndRecord(bytes, at: at, count: count, end: end, headerCRC: headerCRC, into: &scan)
                return scan
            }
            if let block = readingOn(bytes, at: at, headerCRC: headerCRC) {
                scan.blocks.append(block)
                at = block.byteRange.upperBound
                continue
            }
            let block = try? ArchiveBlock.read(bytes, at: at, headerCRC: headerCRC)
            if let next = ((at + 1)..<bytes.count).first(where: { startsAgain(bytes, at: $0, headerCRC: headerCRC) }) {
                // A block that reads but is not followed by another is kept when it ends before
                // the next start (the damage follows it; its CRC-32 decides); one that overlaps
                // the next start was misread.
                if let block, block.byteRange.upperBound <= next {
                    scan.blocks.append(block)
                    if block.byteRange.upperBound < next { scan.unreadable.append(block.byteRange.upperBound..<next) }
                } else {
                    scan.unreadable.append(at..<next)
                }
                at = next
                continue
            }
            // Nothing starts again after here: a block that reads here is the last (the end of the
            // bytes stands for the next start), and the bytes after it end the archive.
            if let block {
                scan.blocks.append(block)
                at = block.byteRange.upperBound
            }
            readEnd(bytes, at: at, headerCRC: headerCRC, into: &scan)
            return scan
        }
        scan.cut = bytes.count
        return scan
    }

    /// The end record at `at`, counting `count` entries and ending at `end`: the count, and the
    /// bytes after it junk. When it miscounts blocks that leave no byte unread (no room for a
    /// lost entry), its count is damaged and theirs is taken; with bytes after it, it is no end
    /// record but junk after the last whole block (`readEnd`).
    private static func readEndRecord(_ bytes: [UInt8], at: Int, count: Int, end: Int, headerCRC: UInt32, into scan: inout BlockScan) {
        if count != scan.found && scan.unreadable.isEmpty {
            guard end == bytes.count else { return readEnd(bytes, at: at, headerCRC: headerCRC, into: &scan) }
            scan.declared = scan.found
            scan.damagedEnd = DamagedEnd(bytes: at..<end, repairedCount: scan.found)
            return
        }
        scan.declared = count
        if end < bytes.count { scan.damagedEnd = DamagedEnd(bytes: end..<bytes.count, repairedCount: nil, afterEndRecord: true) }
    }

    /// The bytes from `at` to the end, after the last whole block (or where nothing reads), where
    /// no whole end record is: a damaged end record (one changed byte makes it count the entries
    /// found, the blocks leaving no byte unread); the block or end record the end of the bytes
    /// cuts short (the cut); fewer than `junkWindow` bytes that are not a block's (junk after a
    /// cut: the cut is where they start, no entry is lost in them); else a damaged block,
    /// unreadable to the end.
    private static func readEnd(_ bytes: [UInt8], at: Int, headerCRC: UInt32, into scan: inout BlockScan) {
        let tail = bytes[at...]
        if tail.isEmpty {
            scan.cut = at
        } else if scan.unreadable.isEmpty && isDamagedEndRecord(Array(tail), counting: scan.found, version: 3) {
            scan.declared = scan.found
            scan.damagedEnd = DamagedEnd(bytes: at..<bytes.count, repairedCount: scan.found)
        } else if isCutShort(bytes, at: at, headerCRC: headerCRC) {
            scan.cut = at
            if let fields = try? ArchiveBlock.read(bytes, at: at, headerCRC: headerCRC, fieldsOnly: true) {
                scan.cutNames = fields.entries.map(\.name)
            }
        } else if tail.count < junkWindow && !tail.starts(with: ArchiveBlock.magic) {
            scan.cut = at
            scan.damagedEnd = DamagedEnd(bytes: at..<bytes.count, repairedCount: nil)
        } else {
            scan.unreadable.append(at..<bytes.count)
            scan.cut = bytes.count
        }
    }

    /// The block at `at` when it reads and what follows it is the end of the bytes, a block, the
    /// end record, or the first bytes of one of them at the end of the bytes.
    private static func readingOn(_ bytes: [UInt8], at: Int, headerCRC: UInt32) -> ArchiveBlock? {
        guard let block = try? ArchiveBlock.read(bytes, at: at, headerCRC: headerCRC) else { return nil }
        let end = block.byteRange.upperBound
        let next = bytes[end..<min(bytes.count, end + 4)]
        guard next.isEmpty || ArchiveBlock.magic.starts(with: next) || ArchiveBlock.endMagic.starts(with: next) else { return nil }
        return block
    }

    /// Whether a block or the end record starts at `at`: one that reads on, or a block that the
    /// end of the bytes cuts short.
    private static func startsAgain(_ bytes: [UInt8], at: Int, headerCRC: UInt32) -> Bool {
        guard bytes[at] == 0x44, at + 4 <= bytes.count else { return false }
        let four = bytes[at..<(at + 4)]
        if four.elementsEqual(ArchiveBlock.endMagic) { return ArchiveBlock.endRecord(bytes, at: at) != nil }
        guard four.elementsEqual(ArchiveBlock.magic) else { return false }
        return readingOn(bytes, at: at, headerCRC: headerCRC) != nil || isCutShort(bytes, at: at, headerCRC: headerCRC)
    }

    /// Whether the block (or end record) at `at` fails only for want of bytes: the first bytes of
    /// the end record (its count does not read), or a block whose reading runs out of bytes.
    private static func isCutShort(_ bytes: [UInt8], at: Int, headerCRC: UInt32) -> Bool {
        let rest = bytes[at...]
        if rest.count < 4 { return ArchiveBlock.magic.starts(with: rest) || ArchiveBlock.endMagic.starts(with: rest) }
        if rest.starts(with: ArchiveBlock.endMagic) { return ArchiveBlock.endRecord(bytes, at: at) == nil }
        guard rest.starts(with: ArchiveBlock.magic) else { return false }
        do { _ = try ArchiveBlock.read(bytes, at: at, headerCRC: headerCRC); return false } catch let e as ArchiveError {
            switch e {
            case .truncated, .lengthExceedsData: return true
            default: return false
            }
        } catch { return false }
    }

    /// What a cut at `offset` of a version-3 archive falls in.
    /// ("DDN" may begin a block or the end record: only "DDNE" is taken for the end record.)
    static func blockCutPart(_ bytes: [UInt8], at offset: Int) -> Truncation.Part {
        guard offset < bytes.count else { return .betweenEntries }
        return bytes[offset...].starts(with: ArchiveBlock.endMagic) ? .endRecord : .entry
    }

    /// The entries of `scan`'s blocks in archive order, each with its block's index, byte range,
    /// CRC-32 and running CRC; and the blocks without their entries.
    static func flatten(_ scan: BlockScan) -> (entries: [ArchiveEntry], blocks: [ArchiveBlock]) {
        var entries: [ArchiveEntry] = []
        var blocks: [ArchiveBlock] = []
        for (b, block) in scan.blocks.enumerated() {
            for var e in block.entries {
                e.block = b
                e.byteRange = block.byteRange
                e.checksum = block.checksum
                e.bytesCRC = block.bytesCRC
                entries.append(e)
            }
            var bare = block
            bare.entries = []
            bare.firstEntry = entries.count - block.entries.count
            bare.entryCount = block.entries.count
            blocks.append(bare)
        }
        return (entries, blocks)
    }

    /// Decodes every entry of the blocks `bs` and checks each block by its CRC-32: per block, each
    /// entry's image (nil when stored) with the block's CRC as its running CRC, or the reason the
    /// block is lost, named for each of its entries. An entry over the pixel limit (and within
    /// the 2^20 pixels a block shares, `ArchiveWriter.blockAloneAbove`) is decoded for the check
    /// and then left out as such.
    func decodeBlocks(_ bs: [Int]) -> [[Result<Decoded, Error>]] {
        zip(bs, blockPixels(bs)).map { b, decoded in
            let block = blocks[b]
            let indices = Array(block.entryIndices)
            let pixels: [PixelImage?]
            switch decoded {
            case .failure(let lost): return lost.errors.map { .failure($0) }
            case .success(let p): pixels = p
            }
            let crc = ArchiveBlock.finishChecksum(block.bytesCRC, entries: indices.map { entries[$0] }, pixels: pixels)
            guard crc == block.checksum else {
                return indices.map { .failure(ArchiveError.corruptPayload(
                    entry: entries[$0].name, detail: "its block (bytes \(block.byteRange.lowerBound)–\(block.byteRange.upperBound)) fails its CRC-32")) }
            }
            return zip(indices, pixels).map { i, image in
                if let problem = problems[i] { return .failure(problem) }
                return .success(Decoded(image: image.map { entries[i].pngImage(pixels: $0) }, running: crc))
            }
        }
    }

    /// Why a block's entries are lost, one error per entry.
    struct LostBlock: Error { var errors: [Error] }

    /// The pixels of every entry of the blocks `bs` (nil for stored entries), not yet checked;
    /// the shared messages in lockstep (`DDNEntryCoder.decodeBlockStreams`).
    func blockPixels(_ bs: [Int]) -> [Result<[PixelImage?], LostBlock>] {
        var results = [Result<[PixelImage?], LostBlock>?](repeating: nil, count: bs.count)
        var pixels = [[PixelImage?]](repeating: [], count: bs.count)
        var pending: [Int] = []   // blocks (positions in bs) whose shared message is still to decode
        for (j, b) in bs.enumerated() {
            let block = blocks[b]
            let list = Array(entries[block.entryIndices])
            func lost(_ why: (ArchiveEntry) -> Error) { results[j] = .failure(LostBlock(errors: list.map(why))) }
            pixels[j] = [PixelImage?](repeating: nil, count: list.count)
            let blocking = list.indices.first { k in
                guard let problem = problems[block.firstEntry + k] else { return false }
                return !(problem.isPixelLimit && list[k].width * list[k].height <= ArchiveWriter.blockAloneAbove)
            }
            if let p = blocking {
                let problem = problems[block.firstEntry + p]!
                lost { $0.name == list[p].name ? problem : ArchiveError.corruptPayload(
                    entry: $0.name, detail: "its block's check needs entry \(list[p].name), which is not decoded (\(ArchiveError.detail(problem)))") }
                continue
            }
            // The entries with payloads of their own, one by one.
            for (k, entry) in list.enumerated() where !entry.isStored && !ArchiveBlock.inSharedStream(entry.coder) {
                switch decode([entry])[0] {
                case .success(let d): pixels[j][k] = d.image?.pixels
                case .failure(let error):
                    lost { $0.name == entry.name ? error : ArchiveError.corruptPayload(entry: $0.name, detail: "its block's entry \(entry.name) does not decode") }
                }
                if results[j] != nil { break }
            }
            if results[j] == nil && !block.stream.isEmpty { pending.append(j) }
        }
        // The shared messages: every coder-5 entry of each block, in order, all blocks in lockstep.
        if !pending.isEmpty {
            let messages = pending.map { j -> (bytes: [UInt8], count: Int, weight: UInt8) in
                let block = blocks[bs[j]]
                let shared = entries[block.entryIndices].filter { ArchiveBlock.inSharedStream($0.coder) }
                return (block.stream, shared.count, block.posteriorWeight)
            }
            let decoded: [Result<[PixelImage], Error>]
            if let ddn = coders.coders[CoderID.ddnNetwork] as? DDNEntryCoder {
                decoded = ddn.decodeBlockStreams(messages, context: context)
            } else {
                decoded = messages.map { _ in .failure(ArchiveError.modelMismatch(expected: hex(header.modelIdentity), given: "none")) }
            }
            for (j, result) in zip(pending, decoded) {
                let block = blocks[bs[j]]
                let list = Array(entries[block.entryIndices])
                let shared = list.indices.filter { ArchiveBlock.inSharedStream(list[$0].coder) }
                do {
                    let images = try result.get()
                    for (k, image) in zip(shared, images) {
                        let e = list[k]
                        guard image.width == e.width, image.height == e.height, image.channels == e.channels, image.bitDepth == Int(e.bitDepth),
                              e.colorType != PNGColorType.palette.rawValue else {
                            throw ArchiveError.invalidField(field: "DDN entry", detail: "\(e.name) is not of the model's shape")
                        }
                        pixels[j][k] = image
                    }
                } catch {
                    if case ArchiveError.modelMismatch = error { results[j] = .failure(LostBlock(errors: list.map { _ in error })); continue }
                    results[j] = .failure(LostBlock(errors: list.map { ArchiveError.corruptPayload(entry: $0.name, detail: Self.messageFailure(error)) }))
                }
            }
        }
        return bs.indices.map { j in results[j] ?? .success(pixels[j]) }
    }

    /// Why a block's shared message gave no images, worded to follow "entry NAME: " in one line
    /// (one "corrupt archive: " a line).
    static func messageFailure(_ error: Error) -> String {
        if case DDNCoderError.corruptBlock? = error as? DDNCoderError { return "its block's message does not decode to its end" }
        return "its block's message: " + ArchiveError.detail(error)
    }

    /// The outcomes for what a version-3 restore of every entry found lost besides the blocks it
    /// read: one per unreadable range (index −1), and for a cut, one per entry of the block it
    /// falls in when their names are there (else one for the block).
    func blockLosses(cutNames: [String]) -> [Outcome] {
        var out: [Outcome] = []
        if let t = truncation {
            for name in cutNames.isEmpty ? [nil] : cutNames.map(Optional.some) {
                out.append(Outcome(index: -1, name: name ?? "end of archive", file: .failure(
                    .truncatedArchive(at: t.end, part: t.part, from: t.offset, entry: name))))
            }
        }
        for range in unreadable where !(range.isEmpty && truncation != nil) {
            out.append(Outcome(index: -1, name: "bytes \(range.lowerBound)–\(range.upperBound)",
                               file: .failure(.unreadableBytes(range.lowerBound, range.upperBound))))
        }
        return out
    }
}

extension ArchiveReader {
    /// The bytes entry `index` takes: its payload, or (version 3, coder 5) its share of its
    /// block's shared message — the message split evenly over the block's coder-5 entries, the
    /// first ones taking the remainder, as `ddnzip -v` reports it.
    public func codedBytes(_ index: Int) -> Int {
        let e = entries[index]
        guard header.version == 3, ArchiveBlock.inSharedStream(e.coder), e.block >= 0 else { return e.payload.count }
        let block = blocks[e.block]
        let shared = block.entryIndices.filter { ArchiveBlock.inSharedStream(entries[$0].coder) }
        let k = shared.firstIndex(of: index)!
        return block.stream.count / shared.count + (k < block.stream.count % shared.count ? 1 : 0)
    }
}

extension ArchiveReader {
    /// Version 3: the number of blocks found (0 for earlier versions).
    public var blockCount: Int { blocks.count }

    /// The block size the archive was written with, as far as it tells (`ddnzip -u` keeps it):
    /// version 2 of two or more entries, 1 (each entry on its own); version 3, the most entries
    /// a block holds, when a block before the last holds that many (the writer cuts blocks at
    /// the size). Otherwise (one block, one entry, version 1) any size from the largest block
    /// up would write the same blocks: `fallback`, or that block's entry count when larger.
    public func blockSize(orAtLeast fallback: Int) -> Int {
        if header.version == 2 && entries.count > 1 { return 1 }
        guard header.version == 3, let most = blocks.map(\.entryCount).max() else { return fallback }
        return blocks.dropLast().contains { $0.entryCount == most } ? most : max(fallback, most)
    }
}
