/// The classical coder: causal prediction plus context-adaptive distributions (LOCO-I / CALIC /
/// JPEG XL modular mode in spirit), for every sample type: 1, 2, 4, 8, 16 bits, 1 to 4 channels,
/// palette indices. Spec/CODEC.md §4 is the normative description.
///
/// Samples are coded in raster order, channels interleaved. Each sample's prediction is a blend
/// of eight causal subpredictors (N+W−NW, N, W, W+NE−N, NE, (N+W)/2, 2N−NN, 2W−WW), plus the
/// previous colour channel's residual for colour channels and x̂ itself when a reconstruction is
/// given, weighted by `1/(1+e)^4` of each one's recent local error `e`. The residual is folded into
/// `0...maxValue` and coded as a hybrid-uint token (adaptive counts per context) plus raw mantissa
/// bits. Contexts: local activity (best subpredictor's error plus gradients, 16 levels) × the
/// predicted level (10 classes, fine near black), × the level of x̂ (6 classes) when given.
/// Without learned statistics a second, texture-sign context is mixed in by count sums. Palette
/// indices are coded as "which distinct neighbour (W, N, NE, NW)" or an escaped literal.
///
/// Fashion-MNIST (first 1000 test images, 8-bit grey 28×28): 3.81 bpsp per image alone, 3.32 with
/// statistics learned from the same images (their 3 KB included), 3.29 with statistics learned from
/// the training set; about 11 MB/s of samples per core to encode or decode.
///
/// `reconstruction` (optional) is x̂: `width × height × channels` sample values in the image's
/// range, row-major interleaved like `PixelImage.samples`, known to both encoder and decoder.
/// `statistics` (optional) gives learned starting counts (``ResidualStatistics``); nil or neutral
/// statistics start every context from the built-in prior. Encoder, decoder and `codeLength` must
/// be called with the same reconstruction, statistics and `isPalette`.
public enum ClassicalCoder {
    /// Errors of `decode`.
    public enum Error: Swift.Error, Equatable, CustomStringConvertible {
        /// Width, height, channels, bit depth, palette flag or reconstruction size are invalid.
        case invalidShape(String)

        /// The reason alone, as an error line shows it.
        public var description: String {
            switch self { case .invalidShape(let why): return why }
        }
    }

    /// Codes `image` into `e` (the caller calls `e.finish()`).
    /// - Precondition: the image is valid (samples `< 1 << bitDepth`, shape as documented),
    ///   `reconstruction?.count == image.subPixelCount`, `isPalette` implies `channels == 1`.
    public static func encode(_ image: PixelImage, reconstruction: [UInt16]?, statistics: ResidualStatistics?,
                              isPalette: Bool = false, into e: inout RangeEncoder) {
        if let msg = shapeError(image.width, image.height, image.channels, image.bitDepth, reconstruction, isPalette) {
            preconditionFailure(msg)
        }
        precondition(samplesInRange(image), "a sample exceeds 2^bitDepth - 1")
        var sink = EncoderSink(e)
        e = RangeEncoder()  // the sink owns the state while coding
        var samples = image.samples
        run(&sink, image.width, image.height, image.channels, image.bitDepth, &samples, reconstruction, statistics, isPalette)
        e = sink.e
    }

    /// Decodes an image coded by `encode` with the same shape, reconstruction, statistics and
    /// `isPalette`. Never traps on corrupt bytes (garbage in, garbage pixels out: check the CRC).
    /// Memory: allocates the `width × height × channels` output; callers bound the pixel count of
    /// untrusted headers (the archive's pixel limit) before calling.
    /// - Throws: `ClassicalCoder.Error.invalidShape` if the parameters are invalid (bad depth or
    ///   channel count, zero size, more than 2^31 samples, palette with channels != 1, or a
    ///   reconstruction of the wrong size).
    public static func decode(width: Int, height: Int, channels: Int, bitDepth: Int, reconstruction: [UInt16]?,
                              statistics: ResidualStatistics?, isPalette: Bool = false,
                              from d: inout RangeDecoder) throws -> PixelImage {
        if let msg = shapeError(width, height, channels, bitDepth, reconstruction, isPalette) {
            throw Error.invalidShape(msg)
        }
        var sink = DecoderSink(d)
        var samples = [UInt16](repeating: 0, count: width * height * channels)
        run(&sink, width, height, channels, bitDepth, &samples, reconstruction, statistics, isPalette)
        d = sink.d
        return PixelImage(width: width, height: height, channels: channels, bitDepth: bitDepth, samples: samples)
    }

    /// The exact model cost of `encode` in bits (Σ −log2 p over tokens plus raw bits). The bytes
    /// `encode` + `finish` produce are `codeLength / 8` plus at most about 2 bytes of flush and
    /// < 2^-8 bit per symbol of range-coder rounding.
    public static func codeLength(_ image: PixelImage, reconstruction: [UInt16]?, statistics: ResidualStatistics?,
                                  isPalette: Bool = false) -> Double {
        if let msg = shapeError(image.width, image.height, image.channels, image.bitDepth, reconstruction, isPalette) {
            preconditionFailure(msg)
        }
        precondition(samplesInRange(image), "a sample exceeds 2^bitDepth - 1")
        var sink = CostSink()
        var samples = image.samples
        run(&sink, image.width, image.height, image.channels, image.bitDepth, &samples, reconstruction, statistics, isPalette)
        return sink.bitsSpent
    }

    static func samplesInRange(_ image: PixelImage) -> Bool {
        let m = UInt16(truncatingIfNeeded: image.maxValue)
        return image.samples.withUnsafeBufferPointer { b in b.allSatisfy { $0 <= m } }
    }

    static func shapeError(_ w: Int, _ h: Int, _ c: Int, _ bd: Int, _ rec: [UInt16]?, _ pal: Bool) -> String? {
        guard w >= 1, h >= 1, w <= 1 << 24, h <= 1 << 24, w.multipliedReportingOverflow(by: h).overflow == false,
              (1...4).contains(c), [1, 2, 4, 8, 16].contains(bd) else { return "bad shape \(w)x\(h)x\(c) depth \(bd)" }
        if w * h * c > 1 << 31 { return "image too large: \(w)x\(h)x\(c) samples (limit 2^31)" }
        if pal && c != 1 { return "palette images have one channel" }
        if let r = rec, r.count != w * h * c { return "reconstruction has \(r.count) samples, want \(w * h * c)" }
        return nil
    }

    /// Builds the models and runs the coding loop with `sink`.
    /// Starting models built once for one shape and statistics, to code many images without
    /// rebuilding them from the statistics each time (the DDN encoder evaluates every depth).
    /// Each use copies them, so one value serves any number of images and threads.
    public struct PreparedModels: @unchecked Sendable {
        let templates: [AdaptiveModelSet]
        let channels: Int, bitDepth: Int, palette: Bool, reconstruction: Bool

        /// Builds the starting models of `ModelLayout` for images of this kind.
        public init(channels: Int, bitDepth: Int, palette: Bool = false, reconstruction: Bool, statistics: ResidualStatistics?) {
            templates = ModelLayout.models(channels: channels, bitDepth: bitDepth, palette: palette,
                                           reconstruction: reconstruction, statistics: statistics)
            self.channels = channels; self.bitDepth = bitDepth; self.palette = palette; self.reconstruction = reconstruction
        }

        func fresh(_ c: Int, _ bd: Int, _ pal: Bool, _ rec: Bool) -> [AdaptiveModelSet] {
            precondition(c == channels && bd == bitDepth && pal == palette && rec == reconstruction, "prepared models of another kind")
            return templates.map { $0.copy() }
        }
    }

    /// `encode` with prepared starting models (the same bytes as with their statistics).
    public static func encode(_ image: PixelImage, prepared: PreparedModels, into e: inout RangeEncoder) {
        if let msg = shapeError(image.width, image.height, image.channels, image.bitDepth, nil, prepared.palette) {
            preconditionFailure(msg)
        }
        precondition(samplesInRange(image), "a sample exceeds 2^bitDepth - 1")
        var sink = EncoderSink(e)
        e = RangeEncoder()
        var samples = image.samples
        let models = prepared.fresh(image.channels, image.bitDepth, prepared.palette, false)
        run(&sink, image.width, image.height, image.channels, image.bitDepth, &samples, nil, models, prepared.palette)
        e = sink.e
    }

    /// `decode` with prepared starting models (no reconstruction), for images of their kind.
    /// - Throws: as `decode`.
    public static func decode(width: Int, height: Int, prepared: PreparedModels, from d: inout RangeDecoder) throws -> PixelImage {
        let c = prepared.channels, bd = prepared.bitDepth
        if let msg = shapeError(width, height, c, bd, nil, prepared.palette) { throw Error.invalidShape(msg) }
        var sink = DecoderSink(d)
        var samples = [UInt16](repeating: 0, count: width * height * c)
        run(&sink, width, height, c, bd, &samples, nil, prepared.fresh(c, bd, prepared.palette, false), prepared.palette)
        d = sink.d
        return PixelImage(width: width, height: height, channels: c, bitDepth: bd, samples: samples)
    }

    /// `codeLength` with prepared starting models (same result as with their statistics).
    public static func codeLength(_ image: PixelImage, reconstruction: [UInt16]?, prepared: PreparedModels) -> Double {
        if let msg = shapeError(image.width, image.height, image.channels, image.bitDepth, reconstruction, prepared.palette) {
            preconditionFailure(msg)
        }
        var sink = CostSink()
        var samples = image.samples
        let models = prepared.fresh(image.channels, image.bitDepth, prepared.palette, reconstruction != nil)
        run(&sink, image.width, image.height, image.channels, image.bitDepth, &samples, reconstruction, models, prepared.palette)
        return sink.bitsSpent
    }

    static func run<S: SymbolSink>(_ sink: inout S, _ w: Int, _ h: Int, _ c: Int, _ bd: Int, _ samples: inout [UInt16],
                                   _ rec: [UInt16]?, _ stats: ResidualStatistics?, _ pal: Bool) {
        let models = ModelLayout.models(channels: c, bitDepth: bd, palette: pal, reconstruction: rec != nil, statistics: stats)
        run(&sink, w, h, c, bd, &samples, rec, models, pal)
    }

    static func run<S: SymbolSink>(_ sink: inout S, _ w: Int, _ h: Int, _ c: Int, _ bd: Int, _ samples: inout [UInt16],
                                   _ rec: [UInt16]?, _ models: [AdaptiveModelSet], _ pal: Bool) {
        samples.withUnsafeMutableBufferPointer { px in
            if pal {
                PaletteKernel.code(&sink, w, h, bd, px.baseAddress!, models)
            } else if let rec {
                rec.withUnsafeBufferPointer { r in
                    SampleKernel.code(&sink, w, h, c, bd, px.baseAddress!, r.baseAddress!, models)
                }
            } else {
                SampleKernel.code(&sink, w, h, c, bd, px.baseAddress!, nil, models)
            }
        }
    }
}
