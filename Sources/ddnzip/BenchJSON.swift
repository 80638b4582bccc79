import DDNKernel
import Foundation

/// `ddnzip bench --json`: an array with one object per folder. Every object has the same keys
/// whatever is installed or switched off: a value that was not measured (cwebp or cjxl not
/// installed, `--no-external`, `--no-ddn`) is `null`, never a missing key. Sizes are bytes,
/// `…Bpsp` bits per sub-pixel of the folder's images, `modelSHA256` the SHA-256 of the model
/// file used (hex), `webpVersion` / `jxlVersion` the first line of `cwebp -version` /
/// `cjxl --version`.
struct BenchJSON: Encodable {
    /// What the kernel and the other codecs measured on one folder.
    var report: BenchReport
    /// SHA-256 of the model used, in hex; nil with `--no-ddn`.
    var modelSHA256: String?

    /// The results as pretty-printed JSON with sorted keys.
    static func text(_ results: [BenchReport], modelSHA256: String?) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let objects = results.map { BenchJSON(report: $0, modelSHA256: modelSHA256) }
        return String(decoding: try encoder.encode(objects), as: UTF8.self)
    }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        // `encode` of an Optional writes null for nil (`encodeIfPresent` would drop the key).
        func put<T: Encodable>(_ key: String, _ value: T) throws { try c.encode(value, forKey: Key(stringValue: key)) }
        let r = report.result, x = report.external
        let webp = x.webpBytes != nil, jxl = x.jxlBytes != nil, ddn = modelSHA256 != nil
        try put("folder", r.folder)
        try put("files", r.files); try put("coded", r.coded); try put("stored", r.stored); try put("refused", r.refused)
        try put("subPixels", r.subPixels); try put("rawBytes", r.rawBytes); try put("sixteenBitFiles", r.sixteenBitFiles)
        try put("threads", r.threads)
        try put("modelSHA256", modelSHA256)
        try put("webpVersion", x.webpVersion); try put("jxlVersion", x.jxlVersion)
        // Every method: its bytes and bits per sub-pixel.
        let methods: [(String, Int?)] = [
            ("original", r.originalBytes), ("pngBest", r.pngBestBytes), ("webp", x.webpBytes), ("jxl", x.jxlBytes),
            ("perImage", r.perImageBytes), ("oneArchive", r.oneArchiveBytes),
            ("classicalOnlyPerImage", r.classicalOnlyPerImageBytes), ("classicalOnlyOneArchive", r.classicalOnlyOneArchiveBytes),
        ]
        for (name, bytes) in methods {
            try put(name + "Bytes", bytes)
            try put(name + "Bpsp", r.bpsp(bytes))
        }
        try put("webpFailures", webp ? x.webpFailures : nil); try put("jxlFailures", jxl ? x.jxlFailures : nil)
        // Speeds.
        try put("encodeImagesPerSecond", r.encodeImagesPerSecond); try put("decodeImagesPerSecond", r.decodeImagesPerSecond)
        try put("oneArchiveEncodeImagesPerSecond", r.oneArchiveEncodeImagesPerSecond)
        try put("oneArchiveDecodeImagesPerSecond", r.oneArchiveDecodeImagesPerSecond)
        try put("classicalOnlyEncodeImagesPerSecond", r.classicalOnlyEncodeImagesPerSecond)
        try put("classicalOnlyDecodeImagesPerSecond", r.classicalOnlyDecodeImagesPerSecond)
        try put("jxlEncodeImagesPerSecond", x.jxlEncodeImagesPerSecond); try put("jxlDecodeImagesPerSecond", x.jxlDecodeImagesPerSecond)
        try put("coderEncodeMBPerSecond", r.coderEncodeMBPerSecond); try put("coderDecodeMBPerSecond", r.coderDecodeMBPerSecond)
        try put("classicalEncodeMBPerSecond", r.classicalEncodeMBPerSecond); try put("classicalDecodeMBPerSecond", r.classicalDecodeMBPerSecond)
        try put("classicalEncodeMBPerCPUSecond", r.classicalEncodeMBPerCPUSecond)
        try put("classicalDecodeMBPerCPUSecond", r.classicalDecodeMBPerCPUSecond)
        // The DDN coder: entries in the one archive, and its model cost and payloads on the
        // images it fits (bits, and bits per sub-pixel of those images).
        let fitting = ddn && r.ddnFittingSubPixels > 0 ? Double(r.ddnFittingSubPixels) : nil
        try put("ddnEntries", ddn ? r.ddnEntries : nil)
        try put("ddnResidualNetwork", ddn ? r.ddnResidualNetwork : nil)
        try put("ddnFittingSubPixels", ddn ? r.ddnFittingSubPixels : nil)
        try put("ddnPathBits", ddn ? r.ddnPathBits : nil); try put("ddnHaltingBits", ddn ? r.ddnHaltingBits : nil)
        try put("ddnResidualBits", ddn ? r.ddnResidualBits : nil); try put("ddnDepthZeroBits", ddn ? r.ddnDepthZeroBits : nil)
        try put("ddnPayloadBytes", ddn ? r.ddnPayloadBytes : nil)
        try put("ddnModelCostBpsp", fitting.map { (r.ddnPathBits + r.ddnHaltingBits + r.ddnResidualBits) / $0 })
        try put("ddnDepthZeroBpsp", fitting.map { r.ddnDepthZeroBits / $0 })
        try put("ddnPayloadBpsp", fitting.map { Double(r.ddnPayloadBytes * 8) / $0 })
        try put("ddnShareBpsp", fitting.map { (r.ddnDepthZeroBits - r.ddnPathBits - r.ddnHaltingBits - r.ddnResidualBits) / $0 })
        try put("oneArchiveEntries", r.oneArchiveEntries); try put("oneArchivePayloadBytes", r.oneArchivePayloadBytes)
        try put("containerBytesPerEntry", r.containerBytesPerEntry)
    }
}
