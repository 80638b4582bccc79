import DDNKernel
import Foundation

/// `ddnunzip -l`: one line per entry — coded bytes, bits per sub-pixel, coder, size, PNG type,
/// name — then the model the archive needs and a total line. Columns have fixed widths.
enum Listing {
    /// `only`: the indices of the entries to list (default: all).
    static func table(_ reader: ArchiveReader, only: [Int]? = nil) -> String {
        var lines = ["     coded     bpsp  coder     width×height  type   name"]
        var coded = 0, subPixels = 0
        for i in only ?? Array(reader.entries.indices) {
            let e = reader.entries[i]
            let overLimit = reader.problems[i]?.isPixelLimit ?? false
            // an image over --max-pixels is listed in full: only decoding it is refused
            let problem = overLimit ? "  (over the pixel limit: --max-pixels \(e.width * e.height) restores it)" : reader.problems[i].map { "  (\($0))" } ?? ""
            coded += e.payload.count
            guard !e.isStored, reader.problems[i] == nil || overLimit else {
                lines.append(pad(String(e.payload.count), 10) + pad("-", 9) + "  " + pad(e.isStored ? "stored" : CoderID.name(e.coder), 8, left: true) + pad("-", 14) + "  " +
                             pad("-", 5, left: true) + "  " + ArchiveError.shown(e.name) + problem)
                continue
            }
            let n = e.width * e.height * e.channels
            subPixels += n
            let type = "\(e.colorType)/\(e.bitDepth)\(e.interlaced ? "i" : "")"
            lines.append(pad(String(e.payload.count), 10) + pad(String(format: "%.3f", Double(e.payload.count * 8) / Double(max(n, 1))), 9) + "  " +
                         pad(CoderID.name(e.coder), 8, left: true) + pad("\(e.width)×\(e.height)", 14) + "  " + pad(type, 5, left: true) + "  " +
                         ArchiveError.shown(e.name) + problem)
        }
        lines.append(reader.header.hasModel ? "needs the model whose SHA-256 begins \(hex(reader.header.modelIdentity)) (archive format \(reader.header.version))"
                                            : "needs no model (archive format \(reader.header.version))")
        let bpsp = subPixels > 0 ? String(format: ", %.3f bpsp over the coded images", Double(coded * 8) / Double(subPixels)) : ""
        let n = only?.count ?? reader.entries.count
        lines.append("\(n) entr\(n == 1 ? "y" : "ies"), \(coded) payload bytes\(bpsp)")
        return lines.joined(separator: "\n")
    }

    private static func pad(_ s: String, _ n: Int, left: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, n - s.count))
        return left ? s + fill : fill + s
    }
}
