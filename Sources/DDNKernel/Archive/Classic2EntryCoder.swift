/// Entry coder id 6 ("classic2"): the classical coder with a per-image reversible colour transform
/// and the extended context model (`ClassicalCoder.Options`), without shared statistics.
/// Payload: one header byte (`Options.byte`), then the range coder's bytes, starting with the
/// weight code (Spec/CODEC.md §8).
///
/// The writer offers it for RGB and RGBA images (not palette), where it replaces coder 1; grey,
/// grey+alpha and palette images stay with coder 1 and its shared statistics, so archives of them
/// do not pay the header byte.
public struct Classic2EntryCoder: EntryCoder {
    /// The encoder's effort, 1…9 (`Options.choose`); decoding does not depend on it.
    public let effort: Int

    /// The coder at encoder effort `effort` (1…9, clamped).
    public init(effort: Int = DDNCoder.Search.defaultEffort) { self.effort = min(max(effort, 1), 9) }
    /// `CoderID.classic2`.
    public var id: UInt8 { CoderID.classic2 }

    /// Non-palette images with three or four channels and sides up to 2^24.
    public func accepts(_ image: PixelImage, isPalette: Bool, context: CodingContext) -> Bool {
        !isPalette && image.channels >= 3 && image.width <= 1 << 24 && image.height <= 1 << 24
    }

    /// See `EntryCoder.encode`: the options of `Options.choose`, then the coded samples.
    public func encode(_ image: PixelImage, isPalette: Bool, context: CodingContext) throws -> [UInt8] {
        ClassicalCoder.payload(image, options: .choose(for: image, isPalette: isPalette, effort: effort), isPalette: isPalette)
    }

    /// See `EntryCoder.decode`. Any image shape decodes (the writer only chooses some).
    /// - Throws: `ArchiveError.invalidField` for an empty payload; `ClassicalCoder.Error` for a
    ///   header byte that is not valid or does not fit the image.
    public func decode(_ payload: [UInt8], width: Int, height: Int, channels: Int, bitDepth: Int, isPalette: Bool,
                       context: CodingContext) throws -> PixelImage {
        guard !payload.isEmpty else {
            throw ArchiveError.invalidField(field: "classic2 payload", detail: "is empty (no header byte)")
        }
        return try ClassicalCoder.decode(payload: payload, width: width, height: height, channels: channels,
                                         bitDepth: bitDepth, isPalette: isPalette)
    }
}
