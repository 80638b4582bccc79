/// The trainer's last step: fit the residual stage to the trained model and measure held-out
/// images with the codec's own deterministic coding path (integer tables, the real context coder),
/// so that the reported bits are what `ddnzip` will write (within the range coder's flush).
public struct CodecReport: Sendable {
    /// Held-out images measured and their sub-pixels.
    public var images = 0, subPixels = 0
    /// Bits per sub-pixel by part at the depth the encoder chooses.
    public var pathBpsp = 0.0, haltingBpsp = 0.0, residualBpsp = 0.0
    /// Bits per sub-pixel with the DDN switched off (depth 0: the residual model alone).
    public var depthZeroBpsp = 0.0
    /// Mean depth the encoder chooses.
    public var meanDepth = 0.0
    public var totalBpsp: Double { pathBpsp + haltingBpsp + residualBpsp }

    /// Learns the model's residual statistics from `training` (Spec/CODEC.md §6.4; not for a model
    /// with a residual network, whose coder does not use them), stores them in the returned model,
    /// and measures `heldOut` with the coding path (coder 5 for a model with a network, else 2).
    /// - Parameters:
    ///   - model: a trained model (its residual statistics are replaced).
    ///   - training, heldOut: images of the model's shape.
    /// - Throws: when the learned statistics do not parse back (a bug).
    public static func finalize(_ model: DDNModel, training: [PixelImage], heldOut: [PixelImage],
                                threads: Int) throws -> (model: DDNModel, report: CodecReport) {
        var final = model
        if !model.hasResidualNetwork {
            final.residualStatistics = try DDNCoder.learnResidualStatistics(model: model, images: training, threads: threads)
        }
        return (final, try measure(final, heldOut: heldOut, threads: threads))
    }

    /// Measures `heldOut` with the codec's coding path: coder 5 (the residual network) for a model
    /// that has one, else coder 2.
    public static func measure(_ model: DDNModel, heldOut: [PixelImage], threads: Int) throws -> CodecReport {
        let coder = try DDNCoder(model: model, residual: model.hasResidualNetwork ? .network : .contextCoder)
        var r = CodecReport()
        r.images = heldOut.count
        r.subPixels = heldOut.reduce(0) { $0 + $1.subPixelCount }
        guard r.subPixels > 0 else { return r }
        let n = Double(r.subPixels)
        let chosen = try coder.costs(of: heldOut, threads: threads)
        r.pathBpsp = chosen.reduce(0) { $0 + $1.path } / n
        r.haltingBpsp = chosen.reduce(0) { $0 + $1.halting } / n
        r.residualBpsp = chosen.reduce(0) { $0 + $1.residual } / n
        r.meanDepth = Double(chosen.reduce(0) { $0 + $1.depth }) / Double(heldOut.count)
        r.depthZeroBpsp = try coder.costs(of: heldOut, depth: 0, threads: threads).reduce(0) { $0 + $1.total } / n
        return r
    }
}
