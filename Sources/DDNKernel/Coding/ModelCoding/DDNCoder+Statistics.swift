extension DDNCoder {
    /// Learns the residual stage's starting statistics for `model` (stored in its file's residual
    /// statistics section): the classes without `x̂` (depth 0) from the images alone, and the
    /// classes with `x̂` from each image traced greedily to the model's full depth.
    /// - Parameters:
    ///   - images: training images of the model's shape.
    ///   - threads: tracing runs on this many threads; the result does not depend on it.
    /// - Returns: `ResidualStatistics.serialized()` bytes.
    public static func learnResidualStatistics(model: DDNModel, images: [PixelImage], threads: Int) throws -> [UInt8] {
        var bare = model
        bare.residualStatistics = []
        let coder = try DDNCoder(model: bare)
        let reconstructions = try parallelMap(images.count, threads: threads) { i in
            model.samples(from: coder.trace(images[i], scratch: model.makeScratch()).reconstructions.last!)
        }
        var statistics = ResidualStatistics.learn(from: images, reconstructions: nil)
        let withReconstruction = ResidualStatistics.learn(from: images, reconstructions: reconstructions)
        statistics.tables.merge(withReconstruction.tables) { _, new in new }
        return statistics.serialized()
    }

    /// The model's cost of coding each image (path, halting and residual bits, and the depth the
    /// encoder would choose), without writing anything: the codec's own numbers for a trainer's
    /// held-out report. `depth` forces a depth (0: the DDN switched off).
    public func costs(of images: [PixelImage], depth: Int? = nil, threads: Int) throws -> [Cost] {
        try parallelMap(images.count, threads: threads) { i in
            var e = RangeEncoder()
            return encode(images[i], depth: depth, scratch: model.makeScratch(), into: &e)
        }
    }
}
