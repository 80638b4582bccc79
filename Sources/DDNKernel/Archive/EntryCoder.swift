/// Coder ids as stored in an entry (Spec/ARCHIVE.md §3.1).
public enum CoderID {
    /// The original file, byte for byte (APNG, bad ancillary CRC, bytes after IEND, …).
    public static let stored: UInt8 = 0
    /// The classical context-model coder (causal prediction).
    public static let classical: UInt8 = 1
    /// The DDN coder (path through the model + residual with x̂ as context).
    public static let ddn: UInt8 = 2
    /// Samples packed at their bit depth, uncompressed: the fallback that never expands much.
    public static let rawSamples: UInt8 = 3
    /// PNG's filters + zlib level 9 (libpng): never much worse than PNG at its best.
    public static let deflate: UInt8 = 4
    /// The DDN coder with the model's residual network (path + network residual).
    public static let ddnNetwork: UInt8 = 5
    /// The classical coder with a colour transform and the extended context model (header byte +
    /// range coder stream); no shared statistics.
    public static let classic2: UInt8 = 6

    /// Whether entries of this coder need the archive's model (coders 2 and 5).
    public static func needsModel(_ id: UInt8) -> Bool { id == ddn || id == ddnNetwork }
    /// Whether entries of this coder decode with the header's statistics (coders 1 and 2).
    public static func usesStatistics(_ id: UInt8) -> Bool { id == classical || id == ddn }
    /// The coder's name in listings.
    public static func name(_ id: UInt8) -> String {
        ["stored", "classic", "ddn", "raw", "deflate", "ddn-net", "classic2"][safe: Int(id)] ?? "coder \(id)"
    }
}

extension Array {
    subscript(safe i: Int) -> Element? { indices.contains(i) ? self[i] : nil }
}

/// What every coder of an archive shares: the header's model identity and starting statistics.
/// Built once per archive; coders may keep parsed forms of the blobs in `cache`.
public struct CodingContext: Sendable {
    /// SHA-256 of the model, 32 zero bytes when none.
    public var modelIdentity: [UInt8]
    /// The header's statistics blob (empty when none).
    public var statistics: [UInt8]
    /// Parsed objects shared by all entries (e.g. `ResidualStatistics`), keyed by coder id.
    public var cache: [UInt8: any Sendable] = [:]

    /// A context for a header's model identity and statistics blob.
    public init(modelIdentity: [UInt8] = [UInt8](repeating: 0, count: 32), statistics: [UInt8] = []) {
        self.modelIdentity = modelIdentity
        self.statistics = statistics
    }
}

/// A coder of entry pixels, keyed by its id. Encode and decode are a pair: for every image,
/// `decode(encode(x)) == x`. Implementations must be deterministic (same bytes for any thread
/// count) and `decode` must never trap on any payload: bad data is a thrown error.
public protocol EntryCoder: Sendable {
    /// The id written in the entry.
    var id: UInt8 { get }
    /// Parses what the coder needs from the header's blobs once per archive (into
    /// `context.cache`). Default: nothing.
    func prepare(_ context: inout CodingContext) throws
    /// True when this coder can code `image` (e.g. the DDN coder only fits its model's shape).
    func accepts(_ image: PixelImage, isPalette: Bool, context: CodingContext) -> Bool
    /// Codes the pixels into a payload. `isPalette`: the samples are palette indices.
    func encode(_ image: PixelImage, isPalette: Bool, context: CodingContext) throws -> [UInt8]
    /// Decodes a payload into pixels of the given shape.
    /// - Throws: any error for a corrupt payload (the reader wraps it in `ArchiveError.corruptPayload`).
    func decode(_ payload: [UInt8], width: Int, height: Int, channels: Int, bitDepth: Int, isPalette: Bool,
                context: CodingContext) throws -> PixelImage
    /// Decodes several payloads of the same shape; a coder may run them in lockstep. Default: one
    /// `decode` each. Results in order, each as `decode` would give it.
    func decodeBatch(_ payloads: [[UInt8]], width: Int, height: Int, channels: Int, bitDepth: Int, isPalette: Bool,
                     context: CodingContext) -> [Result<PixelImage, Error>]
    /// Whether `decodeBatch` is faster than one `decode` at a time (the reader then groups entries).
    var decodesInLockstep: Bool { get }
}

extension EntryCoder {
    public func decodeBatch(_ payloads: [[UInt8]], width: Int, height: Int, channels: Int, bitDepth: Int, isPalette: Bool,
                            context: CodingContext) -> [Result<PixelImage, Error>] {
        payloads.map { p in
            Result { try decode(p, width: width, height: height, channels: channels, bitDepth: bitDepth, isPalette: isPalette, context: context) }
        }
    }
    public var decodesInLockstep: Bool { false }
}

/// The coders an archive reader and writer know. The writer tries `candidates` in order and keeps
/// the smallest payload (the earliest on ties), every one of them, deflate included (the safety net costs little beside the DDN coder),
/// except a coder that another, accepting candidate `supersedes`; the reader looks coders up by id.
public struct CoderSet: Sendable {
    /// Every known coder by id.
    public var coders: [UInt8: any EntryCoder]
    /// Ids the writer tries, in order.
    public var candidates: [UInt8]
    /// Coder id → the id it replaces: when the key coder accepts an image, the writer does not try
    /// the other (coder 6 replaces coder 1 on the images it takes: trying both would double the
    /// classical coding time for about a byte).
    public var supersedes: [UInt8: UInt8]

    /// - Parameters: coders: every coder known (by id); candidates: ids the writer tries, in order;
    ///   supersedes: see `supersedes`.
    public init(coders: [any EntryCoder], candidates: [UInt8], supersedes: [UInt8: UInt8] = [:]) {
        self.coders = Dictionary(coders.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        self.candidates = candidates
        self.supersedes = supersedes
    }

    /// The coders of this build: classical (coder 6 for RGB/RGBA, coder 1 for the rest), deflate,
    /// raw samples.
    public static var standard: CoderSet { standard(effort: DDNCoder.Search.defaultEffort) }

    /// `standard` with the classical encoder's effort 1…9 (coder 6's choices, `Classic2EntryCoder`).
    public static func standard(effort: Int) -> CoderSet {
        CoderSet(coders: [RawSamplesCoder(), ClassicalEntryCoder(), DeflateEntryCoder(), Classic2EntryCoder(effort: effort)],
                 candidates: [CoderID.classic2, CoderID.classical, CoderID.deflate, CoderID.rawSamples],
                 supersedes: [CoderID.classic2: CoderID.classical])
    }

    /// The classical coder the writer uses for `image`: coder 6 where it accepts it (and is a
    /// candidate), else coder 1.
    public func classicalCoder(for image: PixelImage, isPalette: Bool, context: CodingContext) -> any EntryCoder {
        for (by, replaced) in supersedes where replaced == CoderID.classical && candidates.contains(by) {
            if let c = coders[by], c.accepts(image, isPalette: isPalette, context: context) { return c }
        }
        return coders[CoderID.classical] ?? ClassicalEntryCoder()
    }

    /// Codes `image` with every accepting candidate; returns the smallest (id, payload).
    public func encode(_ image: PixelImage, isPalette: Bool, context: CodingContext) throws -> (id: UInt8, payload: [UInt8]) {
        var best: (id: UInt8, payload: [UInt8])?
        var replaced: Set<UInt8> = []
        for id in candidates where !replaced.contains(id) {
            guard let coder = coders[id], coder.accepts(image, isPalette: isPalette, context: context) else { continue }
            if let r = supersedes[id] { replaced.insert(r) }
            let payload = try coder.encode(image, isPalette: isPalette, context: context)
            if best == nil || payload.count < best!.payload.count { best = (id, payload) }
        }
        if let best { return best }
        return (CoderID.rawSamples, try RawSamplesCoder().encode(image, isPalette: isPalette, context: context))
    }
}

/// Samples packed MSB-first at their bit depth (16-bit: big-endian), rows not padded.
/// Payload size is exactly ⌈width·height·channels·bitDepth / 8⌉ bytes.
public struct RawSamplesCoder: EntryCoder {
    /// The coder (stateless).
    public init() {}
    /// `CoderID.rawSamples`.
    public var id: UInt8 { CoderID.rawSamples }
    /// Every image.
    public func accepts(_ image: PixelImage, isPalette: Bool, context: CodingContext) -> Bool { true }

    /// See `EntryCoder.encode`.
    public func encode(_ image: PixelImage, isPalette: Bool, context: CodingContext) throws -> [UInt8] {
        let depth = image.bitDepth
        var out = [UInt8](repeating: 0, count: (image.samples.count * depth + 7) / 8)
        switch depth {
        case 16:
            for (i, s) in image.samples.enumerated() { out[2 * i] = UInt8(s >> 8); out[2 * i + 1] = UInt8(s & 0xFF) }
        case 8:
            for (i, s) in image.samples.enumerated() { out[i] = UInt8(truncatingIfNeeded: s) }
        default:
            var bit = 0
            for s in image.samples {
                out[bit >> 3] |= UInt8(truncatingIfNeeded: Int(s) << (8 - depth - (bit & 7)))
                bit += depth
            }
        }
        return out
    }

    /// See `EntryCoder.decode`; the payload must have exactly the packed size.
    public func decode(_ payload: [UInt8], width: Int, height: Int, channels: Int, bitDepth: Int, isPalette: Bool,
                       context: CodingContext) throws -> PixelImage {
        let count = width * height * channels
        guard payload.count == (count * bitDepth + 7) / 8 else {
            throw ArchiveError.invalidField(field: "raw payload", detail: "has \(payload.count) bytes, not \((count * bitDepth + 7) / 8)")
        }
        var samples = [UInt16](repeating: 0, count: count)
        switch bitDepth {
        case 16:
            for i in 0..<count { samples[i] = UInt16(payload[2 * i]) << 8 | UInt16(payload[2 * i + 1]) }
        case 8:
            for i in 0..<count { samples[i] = UInt16(payload[i]) }
        default:
            let mask = (1 << bitDepth) - 1
            var bit = 0
            for i in 0..<count {
                samples[i] = UInt16((Int(payload[bit >> 3]) >> (8 - bitDepth - (bit & 7))) & mask)
                bit += bitDepth
            }
        }
        return PixelImage(width: width, height: height, channels: channels, bitDepth: bitDepth, samples: samples)
    }
}
