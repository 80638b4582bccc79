// Coder 6 ("classic2"): the classical coder with a per-image colour transform and cross-channel
// contexts, chosen by the encoder and written in a one-byte header (Spec/CODEC.md §8). The same
// sample loop as coder 1 (`SampleKernel`) runs with `SampleLayout` options; with every option off
// it codes exactly what coder 1 codes without statistics.

extension ClassicalCoder {
    /// Coder 6's choices for one image: the payload's first byte (Spec/CODEC.md §8.1).
    public struct Options: Equatable, Sendable {
        /// Colour transform id (`ColourTransform`, 0..<42); 0 for images with fewer than 3 channels.
        public var colourTransform: Int
        /// The extended model (Spec/CODEC.md §8.3): cross-channel level classes, softer blend
        /// weights, a third mixed context.
        public var extendedModel: Bool
        /// The smooth subpredictor set (Spec/CODEC.md §8.3), for photographs.
        public var smoothPredictors: Bool

        /// - Precondition: `colourTransform` in `0..<ColourTransform.count`.
        public init(colourTransform: Int = ColourTransform.identity, extendedModel: Bool = false, smoothPredictors: Bool = false) {
            precondition((0..<ColourTransform.count).contains(colourTransform))
            self.colourTransform = colourTransform
            self.extendedModel = extendedModel
            self.smoothPredictors = smoothPredictors
        }

        /// The header byte: bits 0–5 the transform id (42…63 reserved), bit 6 the extended model,
        /// bit 7 the smooth subpredictor set.
        public var byte: UInt8 { UInt8(colourTransform) | (extendedModel ? 0x40 : 0) | (smoothPredictors ? 0x80 : 0) }

        /// Parses a header byte.
        /// - Throws: `ClassicalCoder.Error.invalidShape` for a transform id >= 42.
        public init(byte b: UInt8) throws {
            guard Int(b & 0x3F) < ColourTransform.count else {
                throw Error.invalidShape("coder 6 header byte 0x\(String(b, radix: 16)) is not valid")
            }
            self.init(colourTransform: Int(b & 0x3F), extendedModel: b & 0x40 != 0, smoothPredictors: b & 0x80 != 0)
        }

        /// Rows of the band `choose` codes to pick the subpredictor set: about 2^14 pixels.
        static let trialPixels = 1 << 14

        /// What the encoder picks for `image` (Spec/CODEC.md §8.5, informative): for images with
        /// three or more channels, the estimated best transform (`ColourTransform.choose`), the
        /// extended model, and the subpredictor set that codes a band of rows from the middle of
        /// the image (about 2^14 pixels, the whole of a small image) in fewer bits.
        /// - Complexity: about two codings of 2^14 pixels plus `ColourTransform.choose`.
        public static func choose(for image: PixelImage, isPalette: Bool) -> Options {
            guard !isPalette, image.channels >= 3 else { return Options() }
            var o = Options(colourTransform: ColourTransform.choose(image), extendedModel: true)
            let rows = min(image.height, max(1, trialPixels / image.width))
            let y0 = (image.height - rows) / 2, rowLen = image.width * image.channels
            let band = PixelImage(width: image.width, height: rows, channels: image.channels, bitDepth: image.bitDepth,
                                  samples: Array(image.samples[(y0 * rowLen)..<((y0 + rows) * rowLen)]))
            let classic = codeLength(band, options: o)
            o.smoothPredictors = true
            if codeLength(band, options: o) >= classic { o.smoothPredictors = false }
            return o
        }
    }

    /// Coder 6: codes `image` with `options` into `e` (no statistics; the caller writes the
    /// header byte and calls `e.finish()`).
    /// - Precondition: the image is valid; `isPalette` implies `channels == 1`; a non-identity
    ///   transform needs `channels >= 3`.
    public static func encode(_ image: PixelImage, options: Options, isPalette: Bool = false, into e: inout RangeEncoder) {
        if let msg = shapeError(image.width, image.height, image.channels, image.bitDepth, nil, isPalette) {
            preconditionFailure(msg)
        }
        precondition(samplesInRange(image), "a sample exceeds 2^bitDepth - 1")
        var sink = EncoderSink(e)
        e = RangeEncoder()
        run(&sink, image, options, isPalette)
        e = sink.e
    }

    /// Coder 6: decodes an image coded by `encode(_:options:isPalette:into:)`. Never traps on
    /// corrupt bytes. Memory: the output and one `UInt32` copy of it.
    /// - Throws: `ClassicalCoder.Error.invalidShape` for invalid parameters (as `decode`), or
    ///   options that do not fit the image (a colour transform with fewer than 3 channels).
    public static func decode(width: Int, height: Int, channels: Int, bitDepth: Int, options: Options,
                              isPalette: Bool = false, from d: inout RangeDecoder) throws -> PixelImage {
        if let msg = shapeError(width, height, channels, bitDepth, nil, isPalette) { throw Error.invalidShape(msg) }
        if (isPalette || channels < 3) && (options.colourTransform != ColourTransform.identity) {
            throw Error.invalidShape("a colour transform needs 3 or more channels")
        }
        var sink = DecoderSink(d)
        var image = PixelImage(width: width, height: height, channels: channels, bitDepth: bitDepth,
                               samples: [UInt16](repeating: 0, count: width * height * channels))
        run(&sink, image, options, isPalette, decoded: &image.samples)
        d = sink.d
        return image
    }

    /// Coder 6's model cost in bits for `image` with `options` (as `codeLength`).
    public static func codeLength(_ image: PixelImage, options: Options, isPalette: Bool = false) -> Double {
        var sink = CostSink()
        run(&sink, image, options, isPalette)
        return sink.bitsSpent
    }

    /// Runs coder 6's loop: palette images and grey images as coder 1 without statistics; others
    /// transformed (`ColourTransform`) into `UInt32` samples and coded with the widened ranges.
    static func run<S: SymbolSink>(_ sink: inout S, _ image: PixelImage, _ o: Options, _ pal: Bool) {
        var unused: [UInt16] = []
        run(&sink, image, o, pal, decoded: &unused)
    }

    static func run<S: SymbolSink>(_ sink: inout S, _ image: PixelImage, _ o: Options, _ pal: Bool, decoded: inout [UInt16]) {
        let w = image.width, h = image.height, C = image.channels, bd = image.bitDepth, m = image.maxValue
        if pal {
            var samples = S.isDecoder ? decoded : image.samples
            run(&sink, w, h, C, bd, &samples, nil, ModelLayout.models(channels: C, bitDepth: bd, palette: true,
                                                                   reconstruction: false, statistics: nil), true)
            if S.isDecoder { decoded = samples }
            return
        }
        let maxes = ColourTransform.maxValues(o.colourTransform, channels: C, maxValue: m)
        let layout = SampleLayout(maxValues: maxes, extendedModel: o.extendedModel, smoothPredictors: o.smoothPredictors)
        var roleMax = [m, m, m]
        for c in 0..<C { let r = ModelLayout.role(c, channels: C); roleMax[r] = max(roleMax[r], layout.maxValue(c)) }
        let models = ModelLayout.models(channels: C, bitDepth: bd, palette: false, reconstruction: false,
                                        statistics: nil, roleMaxValues: roleMax, extended: o.extendedModel)
        var t = S.isDecoder ? [UInt32](repeating: 0, count: w * h * C) : ColourTransform.forward(o.colourTransform, image)
        t.withUnsafeMutableBufferPointer { px in
            SampleKernel.code(&sink, w, h, C, layout, px.baseAddress!, nil, models)
        }
        if S.isDecoder { decoded = ColourTransform.inverse(o.colourTransform, t, channels: C, maxValue: m) }
    }
}
