extension ArchiveExtractor {
    /// The file name of an entry's preview: `NAME.png` → `NAME.levelsN.png` (a `.png` is added
    /// to names without one), so a preview never takes a restored image's name.
    public static func previewName(_ name: String, levels: Int) -> String {
        let stem = name.lowercased().hasSuffix(".png") ? String(name.dropLast(4)) : name
        return "\(stem).levels\(levels).png"
    }

    /// PNG previews of the DDN entries: each one's reconstruction after at most `levels` levels,
    /// without the residual (`ddnunzip --levels N`). Entries of other coders have no preview.
    /// - Returns: (entry name, PNG bytes, depth decoded) for every DDN entry, in archive order.
    /// - Throws: `ArchiveError.modelMismatch` if the reader's coders lack the archive's model.
    public static func previews(_ reader: ArchiveReader, levels: Int, threads: Int) throws -> [(name: String, png: [UInt8], depth: Int)] {
        let ddn = reader.entries.indices.filter { reader.entries[$0].coder == CoderID.ddn }
        guard !ddn.isEmpty else { return [] }
        guard let coder = reader.coders.coders[CoderID.ddn] as? DDNEntryCoder,
              coder.identity == reader.header.modelIdentity else {
            throw ArchiveError.modelMismatch(expected: hex(reader.header.modelIdentity), given: "none")
        }
        return try parallelMap(ddn.count, threads: threads) { n in
            let entry = reader.entries[ddn[n]]
            let (image, depth) = coder.preview(entry.payload, levels: levels)
            let png = try PNGWriter.encode(PNGImage(pixels: image, colorType: [.gray, .grayAlpha, .rgb, .rgba][image.channels - 1]))
            return (entry.name, png, depth)
        }
    }
}
