/// Writing a version-3 archive: the coded entries grouped into solid blocks (Spec/ARCHIVE.md
/// §3.4), each block's coder-5 entries coded again into one rANS message with bits-back
/// (Spec/CODEC.md §9).
extension ArchiveWriter {
    /// The default `blockSize` (measured: Spec/ARCHIVE.md §3.4).
    public static let defaultBlockSize = 64

    /// An entry of more than this many pixels, or a stored file of more than this many bytes,
    /// is a block of its own: a reader's pixel limit then never costs the entries beside it.
    static let blockAloneAbove = 1 << 20

    /// The posterior weights c the writer tries, in eighths (0.5, 1, 2, 4; Spec/CODEC.md §9.3):
    /// the one that codes the first block with DDN entries shortest is used for every block.
    static let posteriorWeights: [UInt8] = [4, 8, 16, 32]

    /// Consecutive runs of entries, each a block: at most `blockSize` entries; a large entry alone.
    func blockRanges(_ entries: [ArchiveEntry]) -> [Range<Int>] {
        var ranges: [Range<Int>] = [], start = 0
        func large(_ e: ArchiveEntry) -> Bool {
            e.isStored ? e.payload.count > Self.blockAloneAbove : e.width * e.height > Self.blockAloneAbove
        }
        for i in entries.indices {
            if i > start && (i - start >= max(1, blockSize) || large(entries[i]) || large(entries[i - 1])) {
                ranges.append(start..<i)
                start = i
            }
        }
        if start < entries.count { ranges.append(start..<entries.count) }
        return ranges
    }

    /// A version-3 archive's bytes after `header` (its version and archive id set here): the
    /// blocks, then the end record ("DDNE", entry count). Returns each entry's coded size too: its
    /// payload, or its share of its block's shared message, in proportion to the bits its image
    /// cost net of the bits it gave back (`DDNCoder.BlockCost.imageBits`; `apportion`).
    /// - Throws: when the coder-5 entries have no DDN coder with a residual network.
    func serializeBlocks(_ header: inout ArchiveHeader, _ entries: [ArchiveEntry], _ parsed: [PNGReader.Result]) throws -> ([UInt8], [Int]) {
        let ranges = blockRanges(entries)
        let ddn = coders.coders[CoderID.ddnNetwork] as? DDNEntryCoder
        @Sendable func pixels(_ i: Int) -> PixelImage? { if case .image(let png) = parsed[i] { return png.pixels } else { return nil } }
        // The posterior weight: the best of `posteriorWeights` on the first block with DDN entries.
        let sharedIndices = ranges.map { $0.filter { ArchiveBlock.inSharedStream(entries[$0].coder) } }
        if let first = sharedIndices.first(where: { !$0.isEmpty }), ddn == nil {
            throw ArchiveError.input(name: entries[first[0]].name, problem: "coder 5 needs a model with a residual network")
        }
        var weight = Self.posteriorWeights[0]
        if let first = sharedIndices.first(where: { !$0.isEmpty }), let ddn, Self.posteriorWeights.count > 1 {
            let images = first.map { pixels($0)! }
            let sizes = try parallelMap(Self.posteriorWeights.count, threads: threads) { w in
                ddn.encodeBlockStream(images, weight: Self.posteriorWeights[w]).bytes.count
            }
            weight = Self.posteriorWeights[sizes.indices.min { sizes[$0] < sizes[$1] }!]
        }
        let chosen = weight
        let coded = try parallelMap(ranges.count, threads: threads) { b -> (bytes: [UInt8], imageBits: [Double]) in
            guard !sharedIndices[b].isEmpty, let ddn else { return ([], []) }
            let block = ddn.encodeBlockStream(sharedIndices[b].map { pixels($0)! }, weight: chosen)
            return (block.bytes, block.cost.imageBits)
        }
        let blocks = zip(ranges, coded.map(\.bytes)).map { range, stream in
            ArchiveBlock(entries: range.map { i in
                var e = entries[i]
                if ArchiveBlock.inSharedStream(e.coder) { e.payload = [] }
                return e
            }, stream: stream, posteriorWeight: stream.isEmpty ? 0 : weight)
        }
        header.version = 3
        header.archiveID = blocks.reduce(0) { crc, block in
            crc32(continuing: block.entries.reduce(crc) { crc32(continuing: crc32(continuing: $0, Array($1.name.utf8)), $1.payload) }, block.stream)
        }
        var out = header.serialized()
        let headerCRC = crc32(out)
        var sizes = entries.map(\.payload.count)
        for b in blocks.indices {
            out += blocks[b].serialized(headerCRC: headerCRC, pixels: ranges[b].map { entries[$0].isStored ? nil : pixels($0) })
            for (i, share) in zip(sharedIndices[b], Self.apportion(blocks[b].stream.count, by: coded[b].imageBits)) { sizes[i] = share }
        }
        out += ArchiveBlock.endMagic
        var end = ByteWriter()
        end.varint(entries.count)
        return (out + end.bytes, sizes)
    }

    /// `total` split in proportion to `weights` (negative ones count as 0; all zero: evenly),
    /// each share rounded down and the bytes still missing given to the largest remainders, the
    /// first on ties: the shares sum to `total`.
    static func apportion(_ total: Int, by weights: [Double]) -> [Int] {
        guard !weights.isEmpty else { return [] }
        let w = weights.map { max($0, 0) }, sum = w.reduce(0, +)
        let exact = w.map { sum > 0 ? Double(total) * $0 / sum : Double(total) / Double(w.count) }
        var shares = exact.map { Int($0.rounded(.down)) }
        let remainder = exact.indices.map { exact[$0] - Double(shares[$0]) }
        let byRemainder = exact.indices.sorted { remainder[$0] != remainder[$1] ? remainder[$0] > remainder[$1] : $0 < $1 }
        for i in byRemainder.prefix(total - shares.reduce(0, +)) { shares[i] += 1 }
        return shares
    }
}
