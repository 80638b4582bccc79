// Coder 6's two adaptive linear predictors (Spec/CODEC.md §8.3, L = 1): normalised least mean
// squares (NLMS; Haykin, "Adaptive Filter Theory", ch. 6) over eleven causal features, one fast
// and one slow step size, as two subpredictor slots of the error-weighted blend.
//
// Arithmetic is IEEE 754 binary32 in the order Spec/CODEC.md §8.3 gives (lane-wise products and
// sums, then a fixed reduction; Swift never contracts a product and a sum into a fused
// multiply-add unless asked), so encoder and decoder agree bit for bit on every machine.

/// Two NLMS predictors per channel, learned online while the image is coded.
///
/// Per sample of channel c: `setFeatures` then `predictions` before the sample is coded,
/// `update` after. Memory: `channels × 2` weight vectors of 12 lanes, freed by `deallocate()`.
@usableFromInline struct NLMSPredictors {
    /// Twelve lanes of features or weights: the eight neighbours, then NEE, the two channels
    /// before this one at this pixel, and a lane that stays 0.
    @usableFromInline struct Lanes {
        @usableFromInline var near: SIMD8<Float>, far: SIMD4<Float>
        @inlinable init(near: SIMD8<Float>, far: SIMD4<Float>) { self.near = near; self.far = far }
    }

    /// Step sizes μ of the fast and the slow predictor.
    @usableFromInline static let stepSizes: (Float, Float) = (100 / 256, 3 / 256)
    /// Added to the features' squared norm (keeps the step finite on flat areas).
    @usableFromInline static let regulariser: Float = 100
    /// The starting weights: 1/2 for feature 0 (`N − W`), else 0, so both predictors start as
    /// `(N + W) / 2`.
    @usableFromInline static var initialWeights: Lanes {
        Lanes(near: SIMD8(0.5, 0, 0, 0, 0, 0, 0, 0), far: SIMD4())
    }

    /// Weights, `[channel][predictor]`.
    @usableFromInline let weights: UnsafeMutablePointer<Lanes>
    /// `x − W` of each channel at the current pixel (features of the channels after it).
    @usableFromInline let pixelDeltas: UnsafeMutablePointer<Int>
    /// The current sample's features: `x_k − W` of its neighbours and the channels before it.
    @usableFromInline var features = Lanes(near: SIMD8(), far: SIMD4())
    /// The two predictors' sums `Σ w·f` for the current sample.
    @usableFromInline var sums: (Float, Float) = (0, 0)

    @inlinable init(channels: Int) {
        weights = .allocate(capacity: 2 * channels)
        weights.initialize(repeating: Self.initialWeights, count: 2 * channels)
        pixelDeltas = .allocate(capacity: 4)
        pixelDeltas.initialize(repeating: 0, count: 4)
    }

    @inlinable func deallocate() {
        weights.deallocate(); pixelDeltas.deallocate()
    }

    /// `Σ a·b` in Spec/CODEC.md §8.3's order: the lane-wise products; lanes q and q + 4 of the
    /// first eight, plus lane q + 8; then lanes q and q + 2; then lane 0 plus lane 1.
    @inlinable @inline(__always) static func dot(_ a: Lanes, _ b: Lanes) -> Float {
        let p = a.near * b.near, q = a.far * b.far
        let s = (p.lowHalf + p.highHalf) + q
        let t = s.lowHalf + s.highHalf
        return t[0] + t[1]
    }

    /// `W + s` rounded half away from zero (binary32 `s ± 0.5` truncated), clamped to `0...maxValue`;
    /// `W` when `|s| >= 2^20` or `s` is not a number.
    @inlinable @inline(__always) static func prediction(_ s: Float, W: Int, maxValue: Int) -> Int {
        guard s.magnitude < 1_048_576 else { return W }
        return smin(smax(W &+ Int(s < 0 ? s - 0.5 : s + 0.5), 0), maxValue)
    }

    /// Sets the features of a sample of channel `c` from its neighbours (Spec/CODEC.md §8.3).
    @inlinable @inline(__always) mutating func setFeatures(_ c: Int, W: Int, N: Int, NW: Int, NE: Int, NN: Int, WW: Int,
                                                           NNE: Int, NWW: Int, NNW: Int, NEE: Int) {
        let near = SIMD8<Int32>(Int32(truncatingIfNeeded: N), Int32(truncatingIfNeeded: NW), Int32(truncatingIfNeeded: NE),
                                Int32(truncatingIfNeeded: NN), Int32(truncatingIfNeeded: WW), Int32(truncatingIfNeeded: NNE),
                                Int32(truncatingIfNeeded: NWW), Int32(truncatingIfNeeded: NNW))
        let far = SIMD4<Int32>(Int32(truncatingIfNeeded: NEE &- W), Int32(truncatingIfNeeded: c >= 1 ? pixelDeltas[0] : 0),
                               Int32(truncatingIfNeeded: c >= 2 ? pixelDeltas[1] : 0), 0)
        features = Lanes(near: SIMD8<Float>(near &- Int32(truncatingIfNeeded: W)), far: SIMD4<Float>(far))
    }

    /// The fast and the slow prediction of channel `c` (values `0...maxValue`), from the features
    /// set last.
    @inlinable @inline(__always) mutating func predictions(_ c: Int, W: Int, maxValue: Int) -> (Int, Int) {
        let w = weights + 2 &* c
        sums = (Self.dot(w[0], features), Self.dot(w[1], features))
        return (Self.prediction(sums.0, W: W, maxValue: maxValue), Self.prediction(sums.1, W: W, maxValue: maxValue))
    }

    /// Learns from sample value `x` of channel `c` (after `predictions`), for each predictor:
    /// `g = μ·((x − W) − Σ w·f)·r` with `r = 1 / (100 + Σ f²)`, then `w += g·f` lane by lane.
    @inlinable @inline(__always) func update(_ c: Int, x: Int, W: Int) {
        let w = weights + 2 &* c
        pixelDeltas[c] = x &- W
        let r = 1 / (Self.regulariser + Self.dot(features, features))
        let target = Float(x &- W)
        let g0 = Self.stepSizes.0 * (target - sums.0) * r
        let g1 = Self.stepSizes.1 * (target - sums.1) * r
        w[0] = Lanes(near: w[0].near + g0 * features.near, far: w[0].far + g0 * features.far)
        w[1] = Lanes(near: w[1].near + g1 * features.near, far: w[1].far + g1 * features.far)
    }
}
