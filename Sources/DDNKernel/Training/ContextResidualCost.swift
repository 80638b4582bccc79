import Foundation

/// A closer stand-in for the codec's context coder than `LogisticResidualCost`: static sample
/// statistics p(x | x̂, west, north), learned from training images and their reconstructions, and
/// evaluated on held-out images (8-bit, one channel images only; others fall back to the logistic
/// proxy). Context: x̂ >> 3 (32 bins) × west >> 5 (8) × north >> 5 (8); its counts are smoothed
/// towards p(x | x̂ >> 3) and that towards uniform: p = (n[ctx][x] + α·p₁(x)) / (n[ctx] + α).
public struct ContextResidualCost: ResidualCost {
    static let alpha = 16.0
    var fine: [UInt32]     // [2048·256]
    var coarse: [UInt32]   // [32·256]
    public private(set) var samplesSeen = 0

    public init() {
        fine = [UInt32](repeating: 0, count: 2048 * 256)
        coarse = [UInt32](repeating: 0, count: 32 * 256)
    }

    @inline(__always) static func context(_ s: [UInt16], _ r: [UInt16], _ i: Int, _ w: Int) -> (Int, Int) {
        let x = i % w
        let west = x > 0 ? Int(s[i - 1]) : (i >= w ? Int(s[i - w]) : 0)
        let north = i >= w ? Int(s[i - w]) : west
        let b = Int(r[i]) >> 3
        return ((b << 6) | ((west >> 5) << 3) | (north >> 5), b)
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
        var fineTot = [Int: Double]()
        for i in 0..<image.samples.count {
            let (c, b) = ContextResidualCost.context(image.samples, reconstruction, i, image.width)
            let x = Int(image.samples[i])
            var ct = 0.0
            if let t = fineTot[c] { ct = t } else { for j in 0..<256 { ct += Double(fine[c * 256 + j]) }; fineTot[c] = ct }
            var bt = 0.0
            for j in 0..<256 { bt += Double(coarse[b * 256 + j]) }
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
        let n = data.count, K = config.candidates
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
                    let r = model.level(l, input: xhat, scratch: scratch)
                    let t = model.levelTarget(x, level: l)
                    var best = 0, bd = Float.infinity
                    for k in 0..<K {
                        var d: Float = 0
                        for j in 0..<t.count { let e = r.candidates[k][j] - t[j]; d += e * e }
                        if d < bd { bd = d; best = k }
                    }
                    xhat = r.candidates[best]
                }
                op.o[i] = model.samples(from: model.fullResolution(xhat, depth: L))
            }
        }
        return Array(out)
    }

    /// A `ContextResidualCost` learned from `data` (training images) and this model's reconstructions.
    public func learnContextCost(_ data: Dataset, threads: Int = 2) -> ContextResidualCost {
        let rec = reconstructions(data, threads: threads)
        var c = ContextResidualCost()
        for i in 0..<data.count { c.learn(image: data.image(i), reconstruction: rec[i]) }
        return c
    }
}
