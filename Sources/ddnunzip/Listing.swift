import DDNKernel
import Foundation

/// `ddnunzip -l`: one line per entry — coded bytes, bits per sub-pixel, coder, size, PNG type,
/// name — then the model the archive needs and a total line. Columns have fixed widths.
enum Listing {
    /// What the columns mean, for `ddnunzip --help` (the README's Usage says the same).
    static let columns = """
        -l columns: coded = the entry's payload bytes (archive format 3: a ddn-net entry's even \
        share of its block's shared message); bpsp = its bits per sub-pixel (coded bits / \
        (width × height × channels)); coder = how the pixels were coded: ddn-net (the model's DDN \
        path plus its residual network), ddn (DDN path plus the context coder), classic2 (colour \
        transform and context model), classic (context model), deflate (PNG's own filters and \
        zlib), raw (samples uncompressed), stored (the file byte for byte: no size or type); \
        type = PNG colour type/bit depth, i for interlaced (0 grey, 2 RGB, 3 palette, 4 grey + \
        alpha, 6 RGBA: 2/8 is 8-bit RGB, 3/4i a 4-bit palette image, interlaced). The line after \
        the entries names the model the archive needs (the first bytes of its SHA-256) and says \
        whether it is built in: the default model, or an earlier default kept so that its \
        archives decode without -m.
        """

    /// `only`: the indices of the entries to list (default: all).
    static func table(_ reader: ArchiveReader, only: [Int]? = nil) -> String {
        var lines = ["     coded     bpsp  coder     width×height  type   name"]
        var coded = 0, subPixels = 0
        for i in only ?? Array(reader.entries.indices) {
            let e = reader.entries[i]
            let overLimit = reader.problems[i]?.isPixelLimit ?? false
            // an image over --max-pixels is listed in full: only decoding it is refused
            let problem = overLimit ? "  (over the pixel limit: --max-pixels \(e.width * e.height) restores it)" : reader.problems[i].map { "  (\($0))" } ?? ""
            let bytes = reader.codedBytes(i)
            coded += bytes
            guard !e.isStored, reader.problems[i] == nil || overLimit else {
                lines.append(pad(String(bytes), 10) + pad("-", 9) + "  " + pad(e.isStored ? "stored" : CoderID.name(e.coder), 8, left: true) + pad("-", 14) + "  " +
                             pad("-", 5, left: true) + "  " + ArchiveError.shown(e.name) + problem)
                continue
            }
            let n = e.width * e.height * e.channels
            subPixels += n
            let type = "\(e.colorType)/\(e.bitDepth)\(e.interlaced ? "i" : "")"
            lines.append(pad(String(bytes), 10) + pad(String(format: "%.3f", Double(bytes * 8) / Double(max(n, 1))), 9) + "  " +
                         pad(CoderID.name(e.coder), 8, left: true) + pad("\(e.width)×\(e.height)", 14) + "  " + pad(type, 5, left: true) + "  " +
                         ArchiveError.shown(e.name) + problem)
        }
        let whose = EmbeddedModel.all.first { reader.header.names(model: $0.identity) }.map { "; that is \($0.described)" }
            ?? "; not an embedded model: give it with -m MODEL"
        lines.append(reader.header.hasModel ? "needs the model whose SHA-256 begins \(hex(reader.header.modelIdentity)) (archive format \(reader.header.version))\(whose)"
                                            : "needs no model (archive format \(reader.header.version))")
        let bpsp = subPixels > 0 ? String(format: ", %.3f bpsp over the coded images", Double(coded * 8) / Double(subPixels)) : ""
        let n = only?.count ?? reader.entries.count
        let blocks = reader.header.version == 3 ? " in \(reader.blockCount) block\(reader.blockCount == 1 ? "" : "s")" : ""
        lines.append("\(n) entr\(n == 1 ? "y" : "ies")\(blocks), \(coded) payload bytes\(bpsp)")
        return lines.joined(separator: "\n")
    }

    private static func pad(_ s: String, _ n: Int, left: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, n - s.count))
        return left ? s + fill : fill + s
    }
}
