import DDNKernel
import Foundation

/// `ddnzip bench`'s text table: sizes, bpsp and ratio to PNG-best per method, the DDN coder's
/// model cost, and speeds.
enum BenchTable {
    /// The results as a text table, one block per folder.
    static func text(_ results: [BenchReport]) -> String {
        var out: [String] = []
        for report in results {
            let r = report.result, x = report.external
            out.append("\(r.folder): \(r.files) PNG files (\(r.coded) coded, \(r.stored) stored verbatim, \(r.refused) refused), " +
                       "\(r.subPixels) sub-pixels")
            out.append("  method                               bytes      bpsp   vs PNG-best")
            func row(_ name: String, _ bytes: Int?, _ note: String = "") {
                guard let bytes else { return }
                let bpsp = r.bpsp(bytes).map { String(format: "%9.3f", $0) } ?? "        -"
                let ratio = r.pngBestBytes > 0 ? String(format: "%10.1f%%", 100 * Double(bytes) / Double(r.pngBestBytes)) : ""
                out.append("  " + name.padding(toLength: 32, withPad: " ", startingAt: 0) +
                           String(format: "%11d", bytes) + " " + bpsp + " " + ratio + note)
            }
            row("original PNG", r.originalBytes)
            row("PNG best (libpng)", r.pngBestBytes)
            row("cwebp -lossless -exact", x.webpBytes, (x.webpFailures > 0 ? "  (\(x.webpFailures) failed)" : "")
                + (r.sixteenBitFiles > 0 ? "  (\(r.sixteenBitFiles) 16-bit files cut to 8 bits)" : ""))
            row("cjxl -d 0", x.jxlBytes, x.jxlFailures > 0 ? "  (\(x.jxlFailures) failed)" : "")
            row("ddnzip, archive per image", r.perImageBytes)
            row("ddnzip, one archive", r.oneArchiveBytes, (r.classicalOnlyOneArchiveBytes == nil ? "" : "  (\(r.ddnEntries) entr\(r.ddnEntries == 1 ? "y" : "ies") by the DDN coder)")
                + String(format: "  (container %.1f bytes an entry)", r.containerBytesPerEntry))
            row("  classical only, per image", r.classicalOnlyPerImageBytes)
            row("  classical only, one archive", r.classicalOnlyOneArchiveBytes)
            if r.ddnFittingSubPixels > 0 {
                let n = Double(r.ddnFittingSubPixels)
                let (what, off) = r.ddnResidualNetwork ? ("DDN + residual network", "network alone") : ("DDN + context coder", "context coder alone")
                let cost = r.ddnPathBits + r.ddnHaltingBits + r.ddnResidualBits
                out.append(String(format: "  %@ (model cost on the images it fits): path %.4f + halting %.4f + residual %.4f = %.4f bpsp; %@ (depth 0): %.4f; the DDN's share %.4f",
                                  what, r.ddnPathBits / n, r.ddnHaltingBits / n, r.ddnResidualBits / n,
                                  cost / n, off, r.ddnDepthZeroBits / n, (r.ddnDepthZeroBits - cost) / n))
                out.append(String(format: "  its payloads, every such image coded by it: %d bytes = %.4f bpsp (%+.2f%% over the model cost: the range coder's flush)",
                                  r.ddnPayloadBytes, Double(r.ddnPayloadBytes * 8) / n, 100 * (Double(r.ddnPayloadBytes * 8) / max(cost, 1) - 1)))
            }
            out.append(String(format: "  speed, archive per image, 1 thread:  encode %.0f images/s, decode %.0f images/s",
                              r.encodeImagesPerSecond, r.decodeImagesPerSecond))
            out.append(String(format: "  speed, one archive, %d threads:       encode %.0f images/s, decode %.0f images/s",
                              r.threads, r.oneArchiveEncodeImagesPerSecond, r.oneArchiveDecodeImagesPerSecond))
            if let e = x.jxlEncodeImagesPerSecond {
                let d = x.jxlDecodeImagesPerSecond
                out.append(String(format: "  speed, cjxl -d 0 / djxl, one process per image, %d at a time: encode %.0f images/s, decode %@ images/s" +
                                  " (ddnzip one archive: %.1f× / %@ as fast)",
                                  r.threads, e, d.map { String(format: "%.0f", $0) } ?? "-", r.oneArchiveEncodeImagesPerSecond / max(e, 1e-9),
                                  d.map { String(format: "%.1f×", r.oneArchiveDecodeImagesPerSecond / max($0, 1e-9)) } ?? "-"))
            }
            if let e = r.classicalOnlyEncodeImagesPerSecond, let d = r.classicalOnlyDecodeImagesPerSecond {
                out.append(String(format: "  speed, classical only, per image, 1 thread: encode %.0f images/s, decode %.0f images/s", e, d))
            }
            out.append(String(format: "  entry coding (all candidates), 1 thread: encode %.1f MB/s, decode %.1f MB/s of raw samples",
                              r.coderEncodeMBPerSecond, r.coderDecodeMBPerSecond))
            out.append(String(format: "  classical coder alone, 1 thread:       encode %.1f MB/s, decode %.1f MB/s of raw samples" +
                              " (per CPU second: %.1f, %.1f)",
                              r.classicalEncodeMBPerSecond, r.classicalDecodeMBPerSecond,
                              r.classicalEncodeMBPerCPUSecond, r.classicalDecodeMBPerCPUSecond))
        }
        return out.joined(separator: "\n")
    }
}
