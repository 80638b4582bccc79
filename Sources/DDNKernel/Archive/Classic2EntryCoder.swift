/// Entry coder id 6 ("classic2"): the classical coder with a per-image reversible colour transform
/// and the extended context model (`ClassicalCoder.Options`), without shared statistics.
/// Payload: one header byte (`Options.byte`), then the range coder's bytes (Spec/CODEC.md §8).
///
/// The writer offers it for RGB and RGBA images (not palette), where it replaces coder 1; grey,
/// grey+alpha and palette images stay with coder 1 and its shared statistics, so archives of them
/// do not pay the header byte.
public struct Classic2EntryCoder: EntryCoder {
    /// The coder (stateless).
    public init() {}
    /// `CoderID.classic2`.
    public var id: UInt8 { CoderID.classic2 }

    /// Non-palette images with three or four channels and sides up to 2^24.
    public func accepts(_ image: PixelImage, isPalette: Bool, context: CodingContext) -> Bool {
        !isPalette && image.channels >= 3 && image.width <= 1 << 24 && image.height <= 1 << 24
    }

    /// See `EntryCoder.encode`: the header byte of `Options.choose`, then the coded samples.
    public func encode(_ image: PixelImage, isPalette: Bool, context: CodingContext) throws -> [UInt8] {
        let options = ClassicalCoder.Options.choose(for: image, isPalette: isPalette)
        var e = RangeEncoder()
        ClassicalCoder.encode(image, options: options, isPalette: isPalette, into: &e)
        return [options.byte] + e.finish()
    }

    /// See `EntryCoder.decode`. Any image shape decodes (the writer only chooses some).
    /// - Throws: `ArchiveError.invalidField` for an empty payload; `ClassicalCoder.Error` for a
    ///   header byte that is not valid or does not fit the image.
    public func decode(_ payload: [UInt8], width: Int, height: Int, channels: Int, bitDepth: Int, isPalette: Bool,
                       context: CodingContext) throws -> PixelImage {
        guard let first = payload.first else {
            throw ArchiveError.invalidField(field: "classic2 payload", detail: "is empty (no header byte)")
        }
        let options = try ClassicalCoder.Options(byte: first)
        var d = RangeDecoder(Array(payload.dropFirst()))
        return try ClassicalCoder.decode(width: width, height: height, channels: channels, bitDepth: bitDepth,
                                         options: options, isPalette: isPalette, from: &d)
    }
}
