import Foundation

/// Settings of `ddnzip bench`'s measurements of our own coding.
public struct BenchOptions: Sendable {
    /// Threads for the one-archive run.
    public var threads = ProcessInfo.processInfo.activeProcessorCount
    /// Coders to measure.
    public var coders = CoderSet.standard
    /// Learns the one-archive's shared statistics (nil: none).
    public var learnStatistics: (@Sendable ([PixelImage], [Bool]) -> [UInt8])?
    /// All cores, standard coders, no statistics.
    public init() {}
}

/// What `ddnzip bench` measured of our own coding on one folder (the command line adds the
/// other codecs, Sources/ddnzip/ExternalTools.swift). Sizes in bytes, speeds in images/s or MB/s.
public struct BenchResult: Sendable, Codable {
    /// The folder measured.
    public var folder: String
    /// The readable PNG files measured, in order (other codecs are run on the same files).
    public var paths: [String] = []
    /// PNG files found / coded from pixels / kept verbatim / refused (not readable).
    public var files = 0, coded = 0, stored = 0, refused = 0
    /// Sub-pixels of all readable files, and their raw size (1 byte per sample ≤ 8 bits, else 2).
    public var subPixels = 0, rawBytes = 0
    /// Coded files with 16-bit samples (cwebp reduces those to 8 bits: its size there is not lossless).
    public var sixteenBitFiles = 0
    /// Total bytes: the files, libpng-best re-encodes, ddnzip archives.
    public var originalBytes = 0, pngBestBytes = 0, perImageBytes = 0, oneArchiveBytes = 0
    /// One-archive-per-image, one thread: images/s.
    public var encodeImagesPerSecond = 0.0, decodeImagesPerSecond = 0.0
    /// One archive of all images on `threads` threads: images/s.
    public var oneArchiveEncodeImagesPerSecond = 0.0, oneArchiveDecodeImagesPerSecond = 0.0
    /// Threads used for the one-archive run.
    public var threads = 1
    /// With a DDN in the coder set: the same two archives with the classical coder only (the
    /// DDN switched off), and their speeds.
    public var classicalOnlyPerImageBytes: Int?, classicalOnlyOneArchiveBytes: Int?
    public var classicalOnlyEncodeImagesPerSecond: Double?, classicalOnlyDecodeImagesPerSecond: Double?
    /// Entries of the one archive coded by the DDN coder.
    public var ddnEntries = 0
    /// The one archive's entries and the sum of their payloads: the rest of its bytes are the
    /// container (header, names, shapes, lengths, CRC-32s, end record).
    public var oneArchiveEntries = 0, oneArchivePayloadBytes = 0
    /// The container's bytes per entry of the one archive.
    public var containerBytesPerEntry: Double {
        oneArchiveEntries > 0 ? Double(oneArchiveBytes - oneArchivePayloadBytes) / Double(oneArchiveEntries) : 0
    }
    /// The DDN coder's model cost over the images it fits, in bits: path, halting and residual at
    /// the depth the encoder chooses, and the total with the DDN switched off (depth 0).
    public var ddnFittingSubPixels = 0
    public var ddnPathBits = 0.0, ddnHaltingBits = 0.0, ddnResidualBits = 0.0, ddnDepthZeroBits = 0.0
    /// Whether that DDN coder codes the residual with the model's residual network (coder 5).
    public var ddnResidualNetwork = false
    /// The payload bytes that DDN coder writes for those images (each coded alone by it).
    public var ddnPayloadBytes = 0
    /// The entry coders alone, one thread: MB/s of raw samples.
    public var coderEncodeMBPerSecond = 0.0, coderDecodeMBPerSecond = 0.0
    /// The classical coder alone (every image, with the one-archive statistics), one thread: MB/s of raw samples.
    public var classicalEncodeMBPerSecond = 0.0, classicalDecodeMBPerSecond = 0.0
    /// The same two, per second of CPU time (steadier than wall time on a shared machine).
    public var classicalEncodeMBPerCPUSecond = 0.0, classicalDecodeMBPerCPUSecond = 0.0

    /// Bits per sub-pixel of `bytes`.
    public func bpsp(_ bytes: Int?) -> Double? {
        guard let bytes, subPixels > 0 else { return nil }
        return Double(bytes) * 8 / Double(subPixels)
    }
}

/// `ddnzip bench`'s measurements of our own coding: sizes and speeds of ddnzip's archives and
/// coders, and of PNG at its best (libpng) as the baseline. Other codecs (cwebp, cjxl) are run
/// by the command line. Measures, never asserts.
public enum Benchmark {
    /// Measures one folder of PNGs.
    public static func run(folder: String, options: BenchOptions) throws -> BenchResult {
        // Named by file name as before paths were kept: the archive sizes measure the coding.
        let collected = try Files.collectInputs([folder], junkPaths: true)
        let inputs = collected.inputs
        if let first = collected.refused.first { throw first.error }
        if inputs.isEmpty { throw FileError("\(folder): no PNG files to measure") }
        var result = BenchResult(folder: folder)
        result.files = inputs.count
        result.threads = options.threads
        let reader = PNGReader()
        var found: [(Files.Input, [UInt8], PNGReader.Result)] = []
        for input in inputs {
            let bytes = try Files.read(input.path)
            guard let parsed = try? reader.read(bytes) else { result.refused += 1; continue }
            found.append((input, bytes, parsed))
        }
        let good = found
        result.paths = good.map { $0.0.path }
        // Sizes: original, PNG at its best.
        let threads = options.threads
        let pngBest: [Int] = try parallelMap(good.count, threads: threads) { i in
            switch good[i].2 {
            case .image(let png): return try PNGWriter.encode(png, effort: .best).count
            case .verbatim: return good[i].1.count
            }
        }
        var images: [(PixelImage, Bool)] = []
        for (k, g) in good.enumerated() {
            result.originalBytes += g.1.count
            result.pngBestBytes += pngBest[k]
            switch g.2 {
            case .image(let png):
                result.coded += 1
                result.subPixels += png.pixels.subPixelCount
                result.rawBytes += png.pixels.subPixelCount * (png.pixels.bitDepth > 8 ? 2 : 1)
                if png.pixels.bitDepth == 16 { result.sixteenBitFiles += 1 }
                images.append((png.pixels, png.colorType == .palette))
            case .verbatim(_, let n):
                result.stored += 1
                result.subPixels += n
            }
        }
        // ddnzip, one archive per image (one thread) and one archive for all (all threads).
        let archiveInputs = good.map { ArchiveInput(name: $0.0.name, bytes: $0.1) }
        let main = try measureArchives(archiveInputs, coders: options.coders, options: options)
        result.perImageBytes = main.perImageBytes
        result.oneArchiveBytes = main.oneArchiveBytes
        result.encodeImagesPerSecond = main.encode
        result.decodeImagesPerSecond = main.decode
        result.oneArchiveEncodeImagesPerSecond = main.oneEncode
        result.oneArchiveDecodeImagesPerSecond = main.oneDecode
        let oneReader = main.reader
        result.ddnEntries = oneReader.entries.filter { CoderID.needsModel($0.coder) }.count
        result.oneArchiveEntries = oneReader.entries.count
        result.oneArchivePayloadBytes = oneReader.entries.indices.reduce(0) { $0 + oneReader.codedBytes($1) }
        if let ddn = options.coders.preferredDDNCoder {
            let plain = try measureArchives(archiveInputs, coders: .standard, options: options)
            result.classicalOnlyPerImageBytes = plain.perImageBytes
            result.classicalOnlyOneArchiveBytes = plain.oneArchiveBytes
            result.classicalOnlyEncodeImagesPerSecond = plain.encode
            result.classicalOnlyDecodeImagesPerSecond = plain.decode
            let fitting = images.filter { ddn.coder.fits($0.0, isPalette: $0.1) }.map(\.0)
            let chosen = try ddn.coder.costs(of: fitting, threads: threads)
            let off = try ddn.coder.costs(of: fitting, depth: 0, threads: threads)
            result.ddnFittingSubPixels = fitting.reduce(0) { $0 + $1.subPixelCount }
            result.ddnPathBits = chosen.reduce(0) { $0 + $1.path }
            result.ddnHaltingBits = chosen.reduce(0) { $0 + $1.halting }
            result.ddnResidualBits = chosen.reduce(0) { $0 + $1.residual }
            result.ddnDepthZeroBits = off.reduce(0) { $0 + $1.total }
            result.ddnResidualNetwork = ddn.coder.residualStage == .network
            let context = CodingContext(modelIdentity: ddn.identity)
            result.ddnPayloadBytes = try parallelMap(fitting.count, threads: threads) { i in
                try ddn.encode(fitting[i], isPalette: false, context: context).count
            }.reduce(0, +)
        }
        // The coders alone, one thread, against the one-archive context.
        let context = oneReader.context
        var start = Date()
        var coded: [(UInt8, [UInt8])] = []
        for (image, pal) in images { let c = try options.coders.encode(image, isPalette: pal, context: context); coded.append((c.id, c.payload)) }
        let coderEncode = Date().timeIntervalSince(start)
        start = Date()
        for ((image, pal), c) in zip(images, coded) {
            _ = try options.coders.coders[c.0]!.decode(c.1, width: image.width, height: image.height, channels: image.channels,
                                                      bitDepth: image.bitDepth, isPalette: pal, context: context)
        }
        let coderDecode = Date().timeIntervalSince(start)
        result.coderEncodeMBPerSecond = Double(result.rawBytes) / 1e6 / max(coderEncode, 1e-9)
        result.coderDecodeMBPerSecond = Double(result.rawBytes) / 1e6 / max(coderDecode, 1e-9)
        // The classical coder alone.
        // The classical coder the writer uses for each image (coder 6 for RGB/RGBA, else coder 1).
        let classicalCoders = images.map { options.coders.classicalCoder(for: $0.0, isPalette: $0.1, context: context) }
        var cpu = cpuSeconds()
        start = Date()
        let classicalPayloads = try zip(images, classicalCoders).map { try $1.encode($0.0, isPalette: $0.1, context: context) }
        let classicalEncode = Date().timeIntervalSince(start)
        let classicalEncodeCPU = cpuSeconds() - cpu
        cpu = cpuSeconds()
        start = Date()
        for (((image, pal), payload), classical) in zip(zip(images, classicalPayloads), classicalCoders) {
            _ = try classical.decode(payload, width: image.width, height: image.height, channels: image.channels,
                                     bitDepth: image.bitDepth, isPalette: pal, context: context)
        }
        let classicalDecode = Date().timeIntervalSince(start)
        let classicalDecodeCPU = cpuSeconds() - cpu
        result.classicalEncodeMBPerCPUSecond = Double(result.rawBytes) / 1e6 / max(classicalEncodeCPU, 1e-9)
        result.classicalDecodeMBPerCPUSecond = Double(result.rawBytes) / 1e6 / max(classicalDecodeCPU, 1e-9)
        result.classicalEncodeMBPerSecond = Double(result.rawBytes) / 1e6 / max(classicalEncode, 1e-9)
        result.classicalDecodeMBPerSecond = Double(result.rawBytes) / 1e6 / max(classicalDecode, 1e-9)
        return result
    }

    /// Sizes and speeds of ddnzip with `coders`: one archive per image on one thread, then one
    /// archive for all on `options.threads` threads (with the shared statistics).
    private static func measureArchives(_ inputs: [ArchiveInput], coders: CoderSet, options: BenchOptions) throws
        -> (perImageBytes: Int, oneArchiveBytes: Int, encode: Double, decode: Double, oneEncode: Double, oneDecode: Double,
            reader: ArchiveReader) {
        var single = ArchiveWriter()
        single.threads = 1
        single.coders = coders
        var start = Date()
        var perImage: [[UInt8]] = []
        for input in inputs { perImage.append(try single.write([input]).archive) }
        let encode = Double(inputs.count) / max(Date().timeIntervalSince(start), 1e-9)
        start = Date()
        for archive in perImage { try decodeAll(ArchiveReader(archive, coders: coders)) }
        let decode = Double(inputs.count) / max(Date().timeIntervalSince(start), 1e-9)
        var all = ArchiveWriter()
        all.threads = options.threads
        all.coders = coders
        all.learnStatistics = options.learnStatistics
        start = Date()
        let one = try all.write(inputs).archive
        let oneEncode = Double(inputs.count) / max(Date().timeIntervalSince(start), 1e-9)
        start = Date()
        let reader = try ArchiveReader(one, coders: coders)
        let batches = reader.batches(size: reader.batchSize(threads: options.threads))
        _ = try parallelMap(batches.count, threads: options.threads) { i -> Int in
            let batch = batches[i]
            return try reader.decode(batch: batch).reduce(0) { $0 + (try $1.get().image?.pixels.samples.count ?? 0) }
        }
        let oneDecode = Double(inputs.count) / max(Date().timeIntervalSince(start), 1e-9)
        return (perImage.reduce(0) { $0 + $1.count }, one.count, encode, decode, oneEncode, oneDecode, reader)
    }

    /// CPU time of the calling thread, in seconds.
    private static func cpuSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    private static func decodeAll(_ reader: ArchiveReader) throws {
        for batch in reader.batches() { for r in reader.decode(batch: batch) { _ = try r.get() } }
    }
}
