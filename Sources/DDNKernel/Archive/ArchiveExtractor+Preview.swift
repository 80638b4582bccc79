extension ArchiveExtractor {
    /// The file name of an entry's preview: `NAME.png` → `NAME.levelsN.png` (a `.png` is added
    /// to names without one), so a preview never takes a restored image's name.
    public static func previewName(_ name: String, levels: Int) -> String {
        let stem = name.lowercased().hasSuffix(".png") ? String(name.dropLast(4)) : name
        return "\(stem).levels\(levels).png"
    }

    /// PNG previews of the DDN entries: each one's reconstruction after at most `levels` levels,
    /// without the residual (`ddnunzip --levels N`). Entries of other coders have no preview.
    /// - Parameter only: the indices of the entries to preview (default: all).
    /// - Returns: (entry name, PNG bytes, depth decoded) for every such DDN entry, in archive order.
    /// - Throws: `ArchiveError.modelMismatch` if the reader's coders lack the archive's model;
    ///   `ArchiveError.input` for an entry whose path is in its block's shared message (format 3:
    ///   its path is sampled by bits-back and is not read on its own).
    public static func previews(_ reader: ArchiveReader, only: [Int]? = nil, levels: Int, threads: Int) throws -> [(name: String, png: [UInt8], depth: Int)] {
        let ddn = (only ?? Array(reader.entries.indices)).filter { CoderID.needsModel(reader.entries[$0].coder) }
        guard !ddn.isEmpty else { return [] }
        if reader.header.version == 3, let shared = ddn.first(where: { ArchiveBlock.inSharedStream(reader.entries[$0].coder) }) {
            throw ArchiveError.input(name: reader.entries[shared].name,
                                     problem: "its path is in its block's shared message (archive format 3); previews read format 2 (ddnzip --block 1)")
        }
        let coders = reader.coders.coders
        guard let any = reader.coders.preferredDDNCoder, reader.header.names(model: any.identity) else {
            throw ArchiveError.modelMismatch(expected: hex(reader.header.modelIdentity), given: "none")
        }
        return try parallelMap(ddn.count, threads: threads) { n in
            let entry = reader.entries[ddn[n]]
            let coder = coders[entry.coder] as? DDNEntryCoder ?? any
            let (image, depth) = coder.preview(entry.payload, levels: levels)
            let png = try PNGWriter.encode(PNGImage(pixels: image, colorType: [.gray, .grayAlpha, .rgb, .rgba][image.channels - 1]))
            return (entry.name, png, depth)
        }
    }
}
