import Foundation

/// A closer stand-in for the codec's context coder than `LogisticResidualCost`: static sample
/// statistics p(x | context), learned from training images and their reconstructions x̂ and
/// evaluated on held-out images (8-bit, one channel; other images fall back to the logistic
/// proxy). Context (5,120): x̂ >> 4 (16) × causal activity |W−NW| + |N−NW| + |NE−N| in 10 buckets
/// × MED(W, N, NW) >> 3 (32). Counts are smoothed towards the backoff p₁(x | x̂ >> 4, MED >> 3)
/// and that towards uniform: p = (n[ctx][x] + α·p₁(x)) / (n[ctx] + α), α = 32,
/// p₁ = (n₁[x] + ½) / (n₁ + 128). Chosen by measurement among several context sets
/// (Spec/MODEL.md §7).
public struct ContextResidualCost: ResidualCost {
    static let alpha = 32.0
    static let activityEdges = [1, 3, 6, 10, 16, 26, 40, 64, 100]
    var fine: [UInt32]     // [5120·256]
    var coarse: [UInt32]   // [512·256]
    public private(set) var samplesSeen = 0

    public init() {
        fine = [UInt32](repeating: 0, count: 5120 * 256)
        coarse = [UInt32](repeating: 0, count: 512 * 256)
    }

    /// (fine context, backoff context) of sample i.
    @inline(__always) static func context(_ s: [UInt16], _ r: [UInt16], _ i: Int, _ w: Int) -> (Int, Int) {
        let x = i % w, y = i / w
        let W = x > 0 ? Int(s[i - 1]) : (y > 0 ? Int(s[i - w]) : 0)
        let N = y > 0 ? Int(s[i - w]) : W
        let NW = (y > 0 && x > 0) ? Int(s[i - w - 1]) : N
        let NE = (y > 0 && x < w - 1) ? Int(s[i - w + 1]) : N
        let med = NW >= max(W, N) ? min(W, N) : (NW <= min(W, N) ? max(W, N) : W + N - NW)
        let act = abs(W - NW) + abs(N - NW) + abs(NE - N)
        var bucket = 0
        for e in activityEdges where act >= e { bucket += 1 }
        let b = Int(min(r[i], 255)) >> 4, m = min(max(med, 0), 255) >> 3
        return ((b * 10 + bucket) * 32 + m, b * 32 + m)
    }

    /// Adds the samples of `image` given its reconstruction.
    public mutating func learn(image: PixelImage, reconstruction: [UInt16]) {
        guard image.bitDepth == 8, image.channels == 1 else { return }
        for i in 0..<image.samples.count {
            let (c, b) = ContextResidualCost.context(image.samples, reconstruction, i, image.width)
            let x = Int(image.samples[i])
            fine[c * 256 + x] += 1; coarse[b * 256 + x] += 1
        }
        samplesSeen += image.samples.count
    }

    public func bits(image: PixelImage, reconstruction: [UInt16]) -> Double {
        guard image.bitDepth == 8, image.channels == 1, samplesSeen > 0 else {
            return LogisticResidualCost().bits(image: image, reconstruction: reconstruction)
        }
        var total = 0.0
        for i in 0..<image.samples.count {
            let (c, b) = ContextResidualCost.context(image.samples, reconstruction, i, image.width)
            let x = Int(image.samples[i])
            var ct = 0.0, bt = 0.0
            for j in 0..<256 { ct += Double(fine[c * 256 + j]); bt += Double(coarse[b * 256 + j]) }
            let p1 = (Double(coarse[b * 256 + x]) + 0.5) / (bt + 128)
            let p = (Double(fine[c * 256 + x]) + ContextResidualCost.alpha * p1) / (ct + ContextResidualCost.alpha)
            total -= log2(p)
        }
        return total
    }
}

extension DDNModel {
    /// Nearest-path reconstructions (samples) of each image after all levels, with the coding path.
    public func reconstructions(_ data: Dataset, depth: Int? = nil, threads: Int = 2) -> [[UInt16]] {
        let n = data.count
        let out = UnsafeMutableBufferPointer<[UInt16]>.allocate(capacity: n)
        out.initialize(repeating: [])
        defer { out.deallocate() }
        struct OP: @unchecked Sendable { let o: UnsafeMutableBufferPointer<[UInt16]> }
        let op = OP(o: out)
        let model = self, L = depth ?? config.levels
        DispatchQueue.concurrentPerform(iterations: max(1, threads)) { t in
            let scratch = model.makeScratch()
            for i in stride(from: t, to: n, by: max(1, threads)) {
                let x = DDNModel.floats(from: data.image(i).samples, bitDepth: data.bitDepth)
                var xhat = model.startImage()
                for l in 0..<L {
                    xhat = model.levelNearest(l, input: xhat, target: model.levelTarget(x, level: l), scratch: scratch).candidate
                }
                op.o[i] = model.samples(from: model.fullResolution(xhat, depth: min(L, config.levels)))
            }
        }
        return Array(out)
    }

    /// A `ContextResidualCost` learned from `data` (training images) and this model's reconstructions.
    public func learnContextCost(_ data: Dataset, depth: Int? = nil, threads: Int = 2) -> ContextResidualCost {
        let rec = reconstructions(data, depth: depth, threads: threads)
        var c = ContextResidualCost()
        for i in 0..<data.count { c.learn(image: data.image(i), reconstruction: rec[i]) }
        return c
    }
}
