/// Entry coder id 1: `ClassicalCoder` (causal prediction + context-adaptive distributions) through
/// one `RangeEncoder`, starting from the header's shared `ResidualStatistics` when present.
/// Payload: the range coder's bytes (Spec/CODEC.md).
public struct ClassicalEntryCoder: EntryCoder {
    /// The coder (stateless).
    public init() {}
    /// `CoderID.classical`.
    public var id: UInt8 { CoderID.classical }

    /// What `prepare` keeps in `context.cache[1]`: the parsed statistics, and the starting models
    /// built from them for one-channel images (grey and palette, every depth the statistics
    /// cover), so that small images do not rebuild them (about 10% of coding a 28×28 image).
    struct Prepared: @unchecked Sendable {
        let statistics: ResidualStatistics
        /// Keyed by `bitDepth << 1 | palette`.
        let models: [Int: ClassicalCoder.PreparedModels]

        func models(for image: PixelImage, isPalette: Bool) -> ClassicalCoder.PreparedModels? {
            image.channels == 1 ? models[image.bitDepth << 1 | (isPalette ? 1 : 0)] : nil
        }
    }

    /// Parses the header's statistics blob once, and builds the starting models of one-channel
    /// images from it, into `context.cache[1]`.
    /// - Throws: `ArchiveError.invalidField` when the blob is not valid statistics.
    public func prepare(_ context: inout CodingContext) throws {
        guard !context.statistics.isEmpty else { return }
        let statistics: ResidualStatistics
        do { statistics = try ResidualStatistics(serialized: context.statistics) } catch {
            throw ArchiveError.invalidField(field: "statistics", detail: "do not parse (\(error))")
        }
        var models: [Int: ClassicalCoder.PreparedModels] = [:]
        for bd in [1, 2, 4, 8, 16] {
            for palette in bd <= 8 ? [false, true] : [false] {
                models[bd << 1 | (palette ? 1 : 0)] = ClassicalCoder.PreparedModels(
                    channels: 1, bitDepth: bd, palette: palette, reconstruction: false, statistics: statistics)
            }
        }
        context.cache[id] = Prepared(statistics: statistics, models: models)
    }

    /// See `EntryCoder.accepts`.
    public func accepts(_ image: PixelImage, isPalette: Bool, context: CodingContext) -> Bool {
        image.width <= 1 << 24 && image.height <= 1 << 24
    }

    /// See `EntryCoder.encode`.
    public func encode(_ image: PixelImage, isPalette: Bool, context: CodingContext) throws -> [UInt8] {
        var e = RangeEncoder()
        if let models = prepared(context)?.models(for: image, isPalette: isPalette) {
            ClassicalCoder.encode(image, prepared: models, into: &e)
            return e.finish()
        }
        ClassicalCoder.encode(image, reconstruction: nil, statistics: statistics(context), isPalette: isPalette, into: &e)
        return e.finish()
    }

    /// See `EntryCoder.decode`.
    public func decode(_ payload: [UInt8], width: Int, height: Int, channels: Int, bitDepth: Int, isPalette: Bool,
                       context: CodingContext) throws -> PixelImage {
        var d = RangeDecoder(payload)
        if channels == 1, let models = prepared(context)?.models[bitDepth << 1 | (isPalette ? 1 : 0)] {
            return try ClassicalCoder.decode(width: width, height: height, prepared: models, from: &d)
        }
        return try ClassicalCoder.decode(width: width, height: height, channels: channels, bitDepth: bitDepth,
                                         reconstruction: nil, statistics: statistics(context), isPalette: isPalette, from: &d)
    }

    private func prepared(_ context: CodingContext) -> Prepared? { context.cache[id] as? Prepared }

    private func statistics(_ context: CodingContext) -> ResidualStatistics? { prepared(context)?.statistics }

    /// Learns shared statistics from an archive's images (for `ArchiveWriter.learnStatistics`),
    /// from those the standard writer codes with coder 1 only: RGB and RGBA images go to coder 6
    /// (`Classic2EntryCoder`), which uses no statistics, so learning from them would only add a
    /// blob nobody reads. Empty when no image is left.
    @Sendable public static func learn(_ images: [PixelImage], _ palette: [Bool]) -> [UInt8] {
        let keep = images.indices.filter { palette[$0] || images[$0].channels < 3 }
        return keep.isEmpty ? [] : ResidualStatistics.learn(from: keep.map { images[$0] }, reconstructions: nil,
                                                            palette: keep.map { palette[$0] }).serialized()
    }
}
