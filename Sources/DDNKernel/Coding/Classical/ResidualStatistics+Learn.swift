extension ResidualStatistics {
    /// Learns starting statistics from `images` by running the classical coder's context model
    /// over them and recording each context's token histogram (quantised as documented on the type).
    ///
    /// - Parameters:
    ///   - images: any mix of shapes and depths; each model class learns from the images that use it.
    ///   - reconstructions: nil, or one x̂ per image (`image.subPixelCount` samples each), used as the
    ///     coder will use them (classes "with reconstruction").
    ///   - palette: optional flags, one per image, marking palette-index images.
    /// - Complexity: one model pass per image, like `ClassicalCoder.codeLength`.
    public static func learn(from images: [PixelImage], reconstructions: [[UInt16]]?, palette: [Bool]? = nil) -> ResidualStatistics {
        precondition(reconstructions == nil || reconstructions!.count == images.count)
        precondition(palette == nil || palette!.count == images.count)
        for (n, image) in images.enumerated() {
            precondition(ClassicalCoder.samplesInRange(image), "image \(n): a sample exceeds 2^bitDepth - 1")
            precondition(ClassicalCoder.shapeError(image.width, image.height, image.channels, image.bitDepth,
                                                   reconstructions?[n], palette?[n] ?? false) == nil, "image \(n): bad shape")
        }
        final class Sum {
            let contexts: Int, alphabet: Int
            var counts: [UInt32]
            init(_ c: Int, _ a: Int) { contexts = c; alphabet = a; counts = [UInt32](repeating: 0, count: c * a) }
        }
        var sums: [UInt32: Sum] = [:]
        for (n, image) in images.enumerated() {
            let pal = palette?[n] ?? false
            let rec = reconstructions?[n]
            let specs = ModelLayout.specs(channels: image.channels, bitDepth: image.bitDepth, palette: pal,
                                          reconstruction: rec != nil, statistics: nil)
            let models = ModelLayout.models(channels: image.channels, bitDepth: image.bitDepth, palette: pal,
                                            reconstruction: rec != nil, statistics: nil)
            for m in models { m.recordHistogram() }
            var sink = HistogramSink()
            var samples = image.samples
            samples.withUnsafeMutableBufferPointer { px in
                if pal {
                    PaletteKernel.code(&sink, image.width, image.height, image.bitDepth, px.baseAddress!, models)
                } else if let rec {
                    rec.withUnsafeBufferPointer { r in
                        SampleKernel.code(&sink, image.width, image.height, image.channels, image.bitDepth, px.baseAddress!, r.baseAddress!, models)
                    }
                } else {
                    SampleKernel.code(&sink, image.width, image.height, image.channels, image.bitDepth, px.baseAddress!, nil, models)
                }
            }
            // Second-context models (kind 3) only serve images without learned statistics.
            for (m, spec) in zip(models, specs) where spec.key >> 24 != 3 {
                guard let hist = m.histogram else { continue }
                let n = spec.contexts * spec.alphabet
                var any = false
                for j in 0..<n where hist[j] != 0 { any = true; break }
                if !any { continue }
                let entry = sums[spec.key] ?? Sum(spec.contexts, spec.alphabet)
                sums[spec.key] = entry
                entry.counts.withUnsafeMutableBufferPointer { c in for j in 0..<n { c[j] &+= hist[j] } }
            }
        }
        var stats = ResidualStatistics()
        for (key, e) in sums {
            stats.tables[key] = ResidualStatistics.table(histogram: e.counts, contexts: e.contexts, alphabet: e.alphabet)
        }
        return stats
    }
}

extension ResidualStatistics {
    /// Like `learn`, then keeps a group's tables only where they pay for themselves: images are
    /// grouped by (bit depth, palette, with x̂); a group's tables stay if the group's total
    /// `codeLength` with them plus their serialised size is smaller than without them. Use this
    /// for an archive's shared statistics (the result may be neutral: store nothing then).
    /// - Complexity: three model passes over the images (learn, cost with, cost without).
    public static func learnIfWorthwhile(from images: [PixelImage], reconstructions: [[UInt16]]?,
                                         palette: [Bool]? = nil) -> ResidualStatistics {
        let learned = learn(from: images, reconstructions: reconstructions, palette: palette)
        var groups: [UInt32: (with: Double, without: Double)] = [:]  // group id → bits
        func group(_ bd: Int, _ pal: Bool, _ rec: Bool) -> UInt32 { UInt32(bd << 2 | (pal ? 2 : 0) | (rec ? 1 : 0)) }
        for (n, image) in images.enumerated() {
            let pal = palette?[n] ?? false, rec = reconstructions?[n]
            let g = group(image.bitDepth, pal, rec != nil)
            var e = groups[g] ?? (0, 0)
            e.with += ClassicalCoder.codeLength(image, reconstruction: rec, statistics: learned, isPalette: pal)
            e.without += ClassicalCoder.codeLength(image, reconstruction: rec, statistics: nil, isPalette: pal)
            groups[g] = e
        }
        var kept = learned
        for (g, bits) in groups {
            let bd = Int(g >> 2), pal = g & 2 != 0, rec = g & 1 != 0
            let keys = learned.tables.keys.filter { key in
                let kind = key >> 24
                return Int((key >> 16) & 0xFF) == bd && (key & 1 != 0) == rec && ((kind == 1 || kind == 2) == pal)
            }
            var only = ResidualStatistics()
            for k in keys { only.tables[k] = learned.tables[k] }
            let cost = Double(only.serialized().count - 4) * 8
            if bits.with + cost >= bits.without { for k in keys { kept.tables[k] = nil } }
        }
        return kept
    }
}
