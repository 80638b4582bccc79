// What the one sample loop (`SampleKernel`) needs to know beyond the image's shape: each
// channel's value range and coder 6's modelling options (Spec/CODEC.md §8). `classic` is
// coder 1 exactly (Spec/CODEC.md §4): every channel in `0...2^B − 1`, no option.

/// The value ranges and modelling options of one run of the sample loop.
@usableFromInline struct SampleLayout: Sendable {
    /// Largest value of channels 0–3 (samples are `0...maxValues.c`; colour-transformed channels
    /// of coder 6 hold differences offset to be non-negative, so they may exceed `2^B − 1`).
    @usableFromInline var maxValues: (Int, Int, Int, Int)
    /// Coder 6's extended model (Spec/CODEC.md §8.3): no inter-channel subpredictor, a colour
    /// channel's level class is the size of the residuals of the channels before it at the same
    /// pixel, and a third context model (the final prediction's recent errors) is mixed in; the
    /// models (`ModelLayout.models`, `extended: true`) then hold nine sets.
    @usableFromInline var extendedModel: Bool
    /// Coder 6's smooth subpredictor set (photographs): N+W−NW, N, W, (N+W)/2, MED, (W+NE)/2,
    /// (N+2W+NE)/4 in place of §4.2's eight.
    @usableFromInline var smoothPredictors: Bool
    /// Coder 6's soft blend weights: error window 2N + 2W + NW + NE + WW + NEE and weights
    /// 2^42 / (2 + e)^2 in place of §4.2's 3N + 3W + NW + NE and 2^42 / (1 + e)^4.
    @usableFromInline var softWeights: Bool
    /// Coder 6's two NLMS predictors (`NLMSPredictors`) as two more subpredictor slots.
    @usableFromInline var lmsPredictors: Bool

    @inlinable init(maxValues: (Int, Int, Int, Int), extendedModel: Bool, smoothPredictors: Bool = false, softWeights: Bool = false,
                    lmsPredictors: Bool = false) {
        self.maxValues = maxValues
        self.extendedModel = extendedModel
        self.smoothPredictors = smoothPredictors
        self.softWeights = softWeights
        self.lmsPredictors = lmsPredictors
    }

    /// Coder 1: every channel `0...2^bitDepth − 1`, no option.
    @inlinable static func classic(bitDepth: Int) -> SampleLayout {
        let m = (1 << bitDepth) - 1
        return SampleLayout(maxValues: (m, m, m, m), extendedModel: false)
    }

    /// Largest value of channel `c` (0...3).
    @inlinable func maxValue(_ c: Int) -> Int {
        switch c {
        case 0: return maxValues.0
        case 1: return maxValues.1
        case 2: return maxValues.2
        default: return maxValues.3
        }
    }
}
