import Foundation

// Encoder only: which colour transform coder 6 uses for an image (Spec/CODEC.md §8.5,
// informative). Any choice decodes; this one is a fast estimate, not a trial coding.

extension ColourTransform {
    /// Picks the transform whose output channels look cheapest: on a subsample of rows (about
    /// 2^16 pixels), each output channel's MED residual is tokenised as the coder would
    /// (hybrid-uint of the zig-zagged residual), and the cost is the empirical entropy of the tokens
    /// in four local-activity classes plus the raw bits. Images with fewer than three channels
    /// get the identity.
    /// - Returns: a transform id in `0..<count`.
    /// - Complexity: O(42 · sampled pixels).
    public static func choose(_ image: PixelImage) -> Int {
        let C = image.channels, w = image.width, h = image.height, m = image.maxValue
        guard C >= 3, h >= 2 else { return identity }
        let step = max(1, (w * h) / 65536)
        let rows = stride(from: 1, to: h, by: step).map { $0 }
        let alphabet = HybridUint.alphabetSize(maxValue: 4 * m + 2)
        var best = identity, bestCost = Double.infinity
        var cur = [Int](repeating: 0, count: 3 * w), up = [Int](repeating: 0, count: 3 * w)
        var hist = [Int](repeating: 0, count: 3 * 4 * alphabet)
        image.samples.withUnsafeBufferPointer { s in
            for id in 0..<count where id % 7 != 0 || id == identity {
                for j in hist.indices { hist[j] = 0 }
                var raw = 0
                for y in rows {
                    for (row, buf) in [(y - 1, 0), (y, 1)] {
                        for x in 0..<w {
                            let i = (row * w + x) * C
                            let t = forward(id, (Int(s[i]), Int(s[i + 1]), Int(s[i + 2])), maxValue: m)
                            if buf == 0 { up[3 * x] = t.0; up[3 * x + 1] = t.1; up[3 * x + 2] = t.2 }
                            else { cur[3 * x] = t.0; cur[3 * x + 1] = t.1; cur[3 * x + 2] = t.2 }
                        }
                    }
                    for x in 1..<max(1, w - 1) {
                        for k in 0..<3 {
                            let N = up[3 * x + k], W = cur[3 * x - 3 + k], NW = up[3 * x - 3 + k], NE = up[3 * x + 3 + k]
                            let med = NW >= max(N, W) ? min(N, W) : (NW <= min(N, W) ? max(N, W) : N + W - NW)
                            let e = cur[3 * x + k] - med
                            let z = e > 0 ? 2 * e - 1 : -2 * e
                            let g = abs(N - NW) + abs(W - NW) + abs(NE - N)
                            let b = g == 0 ? 0 : (g < 8 ? 1 : (g < 32 ? 2 : 3))
                            let tok = HybridUint.token(z)
                            hist[(k * 4 + b) * alphabet + tok.token] += 1
                            raw += tok.extraCount
                        }
                    }
                }
                var bits = Double(raw)
                for r in 0..<12 {
                    var n = 0
                    for t in 0..<alphabet { n += hist[r * alphabet + t] }
                    guard n > 0 else { continue }
                    for t in 0..<alphabet where hist[r * alphabet + t] > 0 {
                        let c = Double(hist[r * alphabet + t])
                        bits += c * log2(Double(n) / c)
                    }
                }
                if bits < bestCost { bestCost = bits; best = id }
            }
        }
        return best
    }
}
