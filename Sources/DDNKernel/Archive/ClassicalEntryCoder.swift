/// Entry coder id 1: `ClassicalCoder` (causal prediction + context-adaptive distributions) through
/// one `RangeEncoder`, starting from the header's shared `ResidualStatistics` when present.
/// Payload: the range coder's bytes (Spec/CODEC.md).
public struct ClassicalEntryCoder: EntryCoder {
    /// The coder (stateless).
    public init() {}
    /// `CoderID.classical`.
    public var id: UInt8 { CoderID.classical }

    /// Parses the header's statistics blob once into `context.cache[1]`.
    /// - Throws: `ArchiveError.invalidField` when the blob is not valid statistics.
    public func prepare(_ context: inout CodingContext) throws {
        guard !context.statistics.isEmpty else { return }
        do { context.cache[id] = try ResidualStatistics(serialized: context.statistics) } catch {
            throw ArchiveError.invalidField(field: "statistics", detail: "do not parse (\(error))")
        }
    }

    /// See `EntryCoder.accepts`.
    public func accepts(_ image: PixelImage, isPalette: Bool, context: CodingContext) -> Bool {
        image.width <= 1 << 24 && image.height <= 1 << 24
    }

    /// See `EntryCoder.encode`.
    public func encode(_ image: PixelImage, isPalette: Bool, context: CodingContext) throws -> [UInt8] {
        var e = RangeEncoder()
        ClassicalCoder.encode(image, reconstruction: nil, statistics: statistics(context), isPalette: isPalette, into: &e)
        return e.finish()
    }

    /// See `EntryCoder.decode`.
    public func decode(_ payload: [UInt8], width: Int, height: Int, channels: Int, bitDepth: Int, isPalette: Bool,
                       context: CodingContext) throws -> PixelImage {
        var d = RangeDecoder(payload)
        return try ClassicalCoder.decode(width: width, height: height, channels: channels, bitDepth: bitDepth,
                                         reconstruction: nil, statistics: statistics(context), isPalette: isPalette, from: &d)
    }

    private func statistics(_ context: CodingContext) -> ResidualStatistics? {
        context.cache[id] as? ResidualStatistics
    }

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
