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
        var sums: [UInt32: (contexts: Int, alphabet: Int, counts: [UInt32])] = [:]
        for (n, image) in images.enumerated() {
            let pal = palette?[n] ?? false
            let rec = reconstructions?[n]
            let specs = ModelLayout.specs(channels: image.channels, bitDepth: image.bitDepth, palette: pal,
                                          reconstruction: rec != nil, statistics: nil)
            let models = ModelLayout.models(channels: image.channels, bitDepth: image.bitDepth, palette: pal,
                                            reconstruction: rec != nil, statistics: nil)
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
                guard let hist = sink.histograms[ObjectIdentifier(m)] else { continue }
                var entry = sums[spec.key] ?? (spec.contexts, spec.alphabet, [UInt32](repeating: 0, count: spec.contexts * spec.alphabet))
                for j in 0..<hist.count { entry.counts[j] &+= hist[j] }
                sums[spec.key] = entry
            }
        }
        var stats = ResidualStatistics()
        for (key, e) in sums {
            stats.tables[key] = ResidualStatistics.table(histogram: e.counts, contexts: e.contexts, alphabet: e.alphabet)
        }
        return stats
    }
}
