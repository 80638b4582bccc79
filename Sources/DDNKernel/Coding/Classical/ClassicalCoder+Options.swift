// Coder 6 ("classic2"): the classical coder with a per-image colour transform and cross-channel
// contexts, chosen by the encoder and written in a one-byte header (Spec/CODEC.md §8). The same
// sample loop as coder 1 (`SampleKernel`) runs with `SampleLayout` options; with every option off
// it codes exactly what coder 1 codes without statistics.

extension ClassicalCoder {
    /// Coder 6's choices for one image: the payload's header byte and weight code (Spec/CODEC.md §8.1).
    public struct Options: Equatable, Sendable {
        /// Colour transform id (`ColourTransform`, 0..<42); 0 for images with fewer than 3 channels.
        public var colourTransform: Int
        /// The extended model (Spec/CODEC.md §8.3): cross-channel level classes, softer blend
        /// weights, a third mixed context.
        public var extendedModel: Bool
        /// The smooth subpredictor set (Spec/CODEC.md §8.3), for photographs.
        public var smoothPredictors: Bool
        /// Soft blend weights over a wider error window (Spec/CODEC.md §8.3), for photographs.
        public var softWeights: Bool
        /// Two NLMS predictors as more subpredictor slots (Spec/CODEC.md §8.3), for photographs.
        public var lmsPredictors: Bool

        /// - Precondition: `colourTransform` in `0..<ColourTransform.count`.
        public init(colourTransform: Int = ColourTransform.identity, extendedModel: Bool = false, smoothPredictors: Bool = false,
                    softWeights: Bool = false, lmsPredictors: Bool = false) {
            precondition((0..<ColourTransform.count).contains(colourTransform))
            self.colourTransform = colourTransform
            self.extendedModel = extendedModel
            self.smoothPredictors = smoothPredictors
            self.softWeights = softWeights
            self.lmsPredictors = lmsPredictors
        }

        /// The header byte (Spec/CODEC.md §8.1): bits 0–5 the transform id (42…63 reserved),
        /// bit 6 the extended model, bit 7 the smooth subpredictor set. (The blend weights and the
        /// NLMS slots are the stream's first symbol: `predictionCode`.)
        public var byte: UInt8 { UInt8(colourTransform) | (extendedModel ? 0x40 : 0) | (smoothPredictors ? 0x80 : 0) }

        /// Parses a header byte (`softWeights` and `lmsPredictors` false: they are read from the
        /// stream, `predictionCode`).
        /// - Throws: `ClassicalCoder.Error.invalidShape` for a transform id >= 42.
        public init(byte b: UInt8) throws {
            guard Int(b & 0x3F) < ColourTransform.count else {
                throw Error.invalidShape("coder 6 header byte 0x\(String(b, radix: 16)) is not valid")
            }
            self.init(colourTransform: Int(b & 0x3F), extendedModel: b & 0x40 != 0, smoothPredictors: b & 0x80 != 0)
        }

        /// The stream's first symbol, 2 raw bits (Spec/CODEC.md §8.1): bit 0 the blend weights,
        /// 0 sharp (§4.2) or 1 soft (§8.3); bit 1 the NLMS slots (§8.3).
        public var predictionCode: UInt32 { (softWeights ? 1 : 0) | (lmsPredictors ? 2 : 0) }
        /// Raw bits of `predictionCode`.
        public static let predictionCodeBits = 2

        /// Rows of the band `choose` codes to pick the prediction options: about 2^14 pixels.
        static let trialPixels = 1 << 14

        /// What the encoder picks for `image` at `effort` 1…9 (Spec/CODEC.md §8.5, informative):
        /// for images with three or more channels, the extended model, a transform and the
        /// prediction options (S, W, L) that code a band of rows from the middle of the image (the
        /// whole of a small image) in the fewest bits:
        /// - 1–2: the estimated best transform (`ColourTransform.choose`); (S, W, L) = (0, 0, 0)
        ///   (drawings) or (1, 1, 1) (photographs);
        /// - 3–6: the same transform; all eight (S, W, L);
        /// - 7–8: all eight with each of the three best transforms by estimate, on a band of
        ///   2^16 pixels;
        /// - 9: the same twenty-four on the whole image.
        /// Decoding does not depend on the effort.
        /// - Complexity: 2 or 8 codings of 2^14 pixels, 24 of 2^16 pixels or 24 of the image, plus
        ///   `ColourTransform.choose`.
        public static func choose(for image: PixelImage, isPalette: Bool, effort: Int = DDNCoder.Search.defaultEffort) -> Options {
            guard !isPalette, image.channels >= 3 else { return Options() }
            let ranked = ColourTransform.ranked(image)
            let pixels = effort >= 9 ? image.width * image.height : (effort >= 7 ? 4 * trialPixels : trialPixels)
            let rows = min(image.height, max(1, pixels / image.width))
            let y0 = (image.height - rows) / 2, rowLen = image.width * image.channels
            let band = PixelImage(width: image.width, height: rows, channels: image.channels, bitDepth: image.bitDepth,
                                  samples: Array(image.samples[(y0 * rowLen)..<((y0 + rows) * rowLen)]))
            let sets = effort <= 2 ? [(false, false, false), (true, true, true)]
                : [false, true].flatMap { s in [false, true].flatMap { w in [(s, w, false), (s, w, true)] } }
            var best = Options(colourTransform: ranked[0], extendedModel: true), bestCost = Double.infinity
            func trial(_ o: Options) {
                let cost = codeLength(band, options: o)
                if cost < bestCost { best = o; bestCost = cost }
            }
            for t in effort >= 7 ? Array(ranked.prefix(3)) : [ranked[0]] {
                for (smooth, soft, lms) in sets {
                    trial(Options(colourTransform: t, extendedModel: true, smoothPredictors: smooth, softWeights: soft, lmsPredictors: lms))
                }
            }
            return best
        }
    }

    /// Coder 6's payload (Spec/CODEC.md §8.1): the header byte, then one range-coder stream that
    /// starts with the prediction code.
    public static func payload(_ image: PixelImage, options: Options, isPalette: Bool = false) -> [UInt8] {
        var e = RangeEncoder()
        e.encodeBits(options.predictionCode, count: Options.predictionCodeBits)
        encode(image, options: options, isPalette: isPalette, into: &e)
        return [options.byte] + e.finish()
    }

    /// Decodes a payload written by `payload(_:options:isPalette:)`.
    /// - Throws: `ClassicalCoder.Error.invalidShape` for an empty payload, a header byte that is not
    ///   valid, or options that do not fit the image; as `decode` otherwise.
    public static func decode(payload: [UInt8], width: Int, height: Int, channels: Int, bitDepth: Int,
                              isPalette: Bool = false) throws -> PixelImage {
        guard let first = payload.first else { throw Error.invalidShape("coder 6 payload is empty (no header byte)") }
        var options = try Options(byte: first)
        var d = RangeDecoder(Array(payload.dropFirst()))
        let code = d.decodeBits(count: Options.predictionCodeBits)
        options.softWeights = code & 1 != 0
        options.lmsPredictors = code & 2 != 0
        return try decode(width: width, height: height, channels: channels, bitDepth: bitDepth, options: options,
                          isPalette: isPalette, from: &d)
    }

    /// Coder 6: codes `image` with `options` into `e` (no statistics; the caller writes the
    /// header byte and weight code and calls `e.finish()`).
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
        let layout = SampleLayout(maxValues: maxes, extendedModel: o.extendedModel, smoothPredictors: o.smoothPredictors,
                                  softWeights: o.softWeights, lmsPredictors: o.lmsPredictors)
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
