import Foundation

/// One file to put in an archive: its entry name and its bytes.
public struct ArchiveInput: Sendable {
    /// Entry name: a safe relative path (see `ArchiveEntry.validateName`).
    public var name: String
    /// The file's bytes (a PNG).
    public var bytes: [UInt8]

    /// An input named `name` holding `bytes`.
    public init(name: String, bytes: [UInt8]) {
        self.name = name
        self.bytes = bytes
    }
}

/// Builds an archive (Spec/ARCHIVE.md) from PNG files. Entries are coded in parallel and written
/// in input order, so the bytes are identical for every thread count.
public struct ArchiveWriter: Sendable {
    /// Coders the writer may use.
    public var coders: CoderSet = .standard
    /// PNG reading options (pixel limit).
    public var reader = PNGReader()
    /// Threads used to read and code entries (≥ 1).
    public var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    /// SHA-256 of the model the entries need; 32 zero bytes when none.
    public var modelIdentity = [UInt8](repeating: 0, count: 32)
    /// Leave out inputs that are not readable PNGs (each gets a report with `skipped` set)
    /// instead of failing.
    public var skipUnreadable = false
    /// Learns the header's shared statistics from all images of the archive (first pass); nil
    /// for none. Must be deterministic.
    /// Arguments: the images, and for each whether it holds palette indices.
    public var learnStatistics: (@Sendable ([PixelImage], [Bool]) -> [UInt8])? = ClassicalEntryCoder.learn
    /// When to store learned statistics in the header.
    public var statisticsPolicy = StatisticsPolicy.auto

    /// When the writer stores shared statistics.
    public enum StatisticsPolicy: Sendable {
        /// Never.
        case never
        /// Whenever there are images to learn from.
        case always
        /// With two or more coded images: learn them, and keep them when they are under 2% of
        /// the coded size; otherwise also code without them and keep the smaller archive (a mixed
        /// collection's statistics can cost more than they save).
        case auto
    }
    /// The archive format written: 3 (solid blocks, Spec/ARCHIVE.md §3.4) or 2 (every entry on
    /// its own, §3); nil (the default): 3, or 2 when a block would hold one entry (`blockSize`
    /// 1, or one entry in all: a block of one adds 12 bytes of framing and gives no bits back).
    public var formatVersion: UInt8?
    /// Version 3: the most entries a block holds (1…4096). 1 writes version 2 instead (unless
    /// `formatVersion` says 3), whose entries are each on their own with a CRC-32 of their own
    /// (Spec/ARCHIVE.md §3): a block of one would pay a block's framing and its first name in
    /// full for every entry.
    public var blockSize = ArchiveWriter.defaultBlockSize
    /// Called after each entry is coded, with the number done so far (from any thread).
    public var progress: (@Sendable (Int) -> Void)?

    /// A writer with the standard coders, all cores and automatic statistics.
    public init() {}

    /// What the writer did with one input.
    public struct EntryReport: Sendable {
        /// Entry name.
        public var name: String
        /// Coder id used (0 = stored).
        public var coder: UInt8
        /// Size of the input file.
        public var inputBytes: Int
        /// Size of the entry's payload.
        public var payloadBytes: Int
        /// Samples of the image.
        public var subPixels: Int
        /// Why the file was stored verbatim, if it was.
        public var storedReason: String?
        /// Why the file was left out (with `skipUnreadable`), if it was.
        public var skipped: String?
    }

    /// Builds the archive.
    /// - Returns: the archive bytes and one report per input, in input order.
    /// - Throws: `ArchiveError.unsafeName`, `.duplicateName`, or `.input` naming the first input
    ///   (in input order) that could not be read (unless `skipUnreadable`).
    public func write(_ inputs: [ArchiveInput]) throws -> (archive: [UInt8], reports: [EntryReport]) {
        var seen = Set<String>()
        for input in inputs {
            try ArchiveEntry.validateName(input.name)
            guard seen.insert(input.name).inserted else { throw ArchiveError.duplicateName(input.name) }
        }
        // A name may not also be a folder of another ("x.png" and "x.png/y.png"): one could not be restored.
        for name in seen {
            var folder = Substring(name)
            while let slash = folder.lastIndex(of: "/") {
                folder = folder[..<slash]
                if seen.contains(String(folder)) { throw ArchiveError.input(name: String(folder), problem: "is also a folder of \(name)") }
            }
        }
        // Pass 1: read every PNG.
        let reader = self.reader
        let read: [Result<PNGReader.Result, ArchiveError>] = try parallelMap(inputs.count, threads: threads) { i in
            do { return .success(try reader.read(inputs[i].bytes)) } catch let e as ImageError {
                return .failure(ArchiveError.input(name: inputs[i].name, problem: e.description))
            }
        }
        var skipped: [Int: String] = [:]
        for (i, r) in read.enumerated() {
            guard case .failure(let e) = r else { continue }
            guard skipUnreadable else { throw e }
            if case .input(_, let problem) = e { skipped[i] = problem }
        }
        let kept = inputs.indices.filter { skipped[$0] == nil }
        let written = try write(kept.map { inputs[$0] }, kept.map { try! read[$0].get() })
        var reports = written.reports
        for (i, problem) in skipped.sorted(by: { $0.key < $1.key }) {
            reports.insert(EntryReport(name: inputs[i].name, coder: 0, inputBytes: inputs[i].bytes.count, payloadBytes: 0,
                                       subPixels: 0, skipped: problem), at: i)
        }
        return (written.archive, reports)
    }

    /// Builds the archive of readable inputs.
    private func write(_ inputs: [ArchiveInput], _ parsed: [PNGReader.Result]) throws -> (archive: [UInt8], reports: [EntryReport]) {
        var header = ArchiveHeader()
        let pngs = parsed.compactMap { if case .image(let png) = $0 { return png } else { return nil } }
        var entries: [ArchiveEntry]
        if let learn = learnStatistics, pngs.count >= (statisticsPolicy == .auto ? 2 : 1), statisticsPolicy != .never,
           case let blob = learn(pngs.map(\.pixels), pngs.map { $0.colorType == .palette }), !blob.isEmpty {
            entries = try encodeEntries(inputs, parsed, statistics: blob)
            header.statistics = blob
            let with = entries.reduce(0) { $0 + $1.payload.count } + blob.count
            if statisticsPolicy == .auto && blob.count * 50 > with {
                let plain = try encodeEntries(inputs, parsed, statistics: [])
                if plain.reduce(0, { $0 + $1.payload.count }) <= with {
                    entries = plain
                    header.statistics = []
                }
            }
            if !header.statistics.isEmpty { try specializeStatistics(&entries, &header, inputs, parsed, learn: learn) }
        } else {
            entries = try encodeEntries(inputs, parsed, statistics: [])
        }
        // The header names a model when some entry needs it, or when the caller set one.
        if let identity = coders.modelIdentity, entries.contains(where: { CoderID.needsModel($0.coder) }) {
            header.modelIdentity = Array(identity.prefix(ArchiveHeader.identityBytes))
        } else if modelIdentity.contains(where: { $0 != 0 }) {
            header.modelIdentity = Array(modelIdentity.prefix(ArchiveHeader.identityBytes))
        }
        let version = formatVersion ?? (blockSize <= 1 || entries.count <= 1 ? 2 : ArchiveHeader.currentVersion)
        let (out, coded) = version == 2 ? serializeEntries(&header, entries, parsed)
                                                                : try serializeBlocks(&header, entries, parsed)
        let reports = inputs.indices.map { i in
            let (input, entry, result) = (inputs[i], entries[i], parsed[i])
            var reason: String?
            var subPixels = 0
            switch result {
            case .verbatim(let r, let n): reason = r; subPixels = n
            case .image(let png): subPixels = png.pixels.subPixelCount
            }
            return EntryReport(name: input.name, coder: entry.coder, inputBytes: input.bytes.count,
                               payloadBytes: coded[i], subPixels: subPixels, storedReason: reason)
        }
        return (out, reports)
    }

    /// A version-2 archive's bytes after `header` (its archive id set here): the entries one by
    /// one, then the end record (Spec/ARCHIVE.md §3). Returns each entry's payload size too.
    private func serializeEntries(_ header: inout ArchiveHeader, _ entries: [ArchiveEntry], _ parsed: [PNGReader.Result]) -> ([UInt8], [Int]) {
        header.version = 2
        header.archiveID = entries.reduce(0) { crc, e in crc32(continuing: crc32(continuing: crc, Array(e.name.utf8)), e.payload) }
        var out = header.serialized()
        let headerCRC = crc32(out)
        out.reserveCapacity(out.count + entries.reduce(0) { $0 + $1.payload.count + 16 })
        var previous = EntryPredecessor()
        for (entry, result) in zip(entries, parsed) {
            out += entry.serialized(after: previous, headerCRC: headerCRC) { crc in
                if case .image(let png) = result { return pixelCRC32(png.pixels, continuing: crc) }
                return crc
            }
            previous.advance(past: entry)
        }
        var end = ByteWriter()   // the end record: the end marker, then the entry count
        end.u8(ArchiveEntry.endMarker)
        end.varint(entries.count)
        return (out + end.bytes, entries.map(\.payload.count))
    }

    /// When other coders (a model's) took some of the images, the statistics serve only the
    /// entries that use them: learn them again from the images the classical coder took, code
    /// those entries again with the coders that need no model, and keep whichever is smaller,
    /// blob included.
    private func specializeStatistics(_ entries: inout [ArchiveEntry], _ header: inout ArchiveHeader, _ inputs: [ArchiveInput],
                                      _ parsed: [PNGReader.Result], learn: ([PixelImage], [Bool]) -> [UInt8]) throws {
        let dependent = entries.indices.filter { entries[$0].coder == CoderID.classical || entries[$0].coder == CoderID.ddn }
        let classical = dependent.filter { entries[$0].coder == CoderID.classical }
        guard !classical.isEmpty, dependent.count < entries.count else { return }
        let images = classical.compactMap { i -> PNGImage? in if case .image(let png) = parsed[i] { return png } else { return nil } }
        let blob = learn(images.map(\.pixels), images.map { $0.colorType == .palette })
        guard !blob.isEmpty else { return }
        // Only coders without a model compete again: a model's payload does not depend on the
        // statistics, and it lost to the classical coder on these images.
        var quiet = self
        quiet.progress = nil
        quiet.coders = CoderSet(coders: coders.coders.values.filter { !CoderID.needsModel($0.id) },
                                candidates: coders.candidates.filter { !CoderID.needsModel($0) }, supersedes: coders.supersedes)
        let redone = try quiet.encodeEntries(dependent.map { inputs[$0] }, dependent.map { parsed[$0] }, statistics: blob)
        let before = dependent.reduce(header.statistics.count) { $0 + entries[$1].payload.count }
        guard redone.reduce(blob.count, { $0 + $1.payload.count }) < before else { return }
        for (i, entry) in zip(dependent, redone) { entries[i] = entry }
        header.statistics = blob
    }

    /// Codes every entry (in parallel) with the given shared statistics.
    private func encodeEntries(_ inputs: [ArchiveInput], _ parsed: [PNGReader.Result], statistics: [UInt8]) throws -> [ArchiveEntry] {
        var context = CodingContext(modelIdentity: coders.modelIdentity ?? modelIdentity, statistics: statistics)
        try coders.prepare(&context)
        // Pass 2: code every entry.
        let coders = self.coders, progress = self.progress, ctx = context
        nonisolated(unsafe) var done = 0
        let lock = NSLock()
        return try parallelMap(inputs.count, threads: threads) { i in
            var entry = ArchiveEntry()
            entry.name = inputs[i].name
            switch parsed[i] {
            case .verbatim:
                entry.coder = CoderID.stored
                entry.payload = inputs[i].bytes
            case .image(let png):
                let coded = try coders.encode(png.pixels, isPalette: png.colorType == .palette, context: ctx)
                entry.coder = coded.id
                entry.payload = coded.payload
                entry.width = png.pixels.width
                entry.height = png.pixels.height
                entry.colorType = png.colorType.rawValue
                entry.bitDepth = UInt8(png.pixels.bitDepth)
                entry.interlaced = png.interlaced
                entry.palette = png.palette
                entry.transparency = png.transparency
                entry.chunks = png.chunks
            }
            if let progress {
                lock.lock(); done += 1; let n = done; lock.unlock()
                progress(n)
            }
            return entry
        }
    }
}

extension CoderSet {
    /// Lets every coder parse the header's shared blobs once (into `context.cache`).
    public func prepare(_ context: inout CodingContext) throws {
        for id in coders.keys.sorted() { try coders[id]!.prepare(&context) }
    }
}

extension EntryCoder {
    /// Default: nothing to prepare.
    public func prepare(_ context: inout CodingContext) throws {}
}
