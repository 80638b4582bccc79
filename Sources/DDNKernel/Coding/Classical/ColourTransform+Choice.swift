import Foundation

// Encoder only: which colour transform coder 6 uses for an image (Spec/CODEC.md §8.5,
// informative). Any choice decodes; this one is a fast estimate, not a trial coding.

extension ColourTransform {
    /// Pixels the estimate looks at (whole rows, evenly spaced, each with the row above).
    static let choiceSamplePixels = 1 << 14

    /// Picks the transform whose output channels look cheapest: on a subsample of rows (about
    /// 2^14 pixels, each with the row above), each output channel's MED residual is tokenised as
    /// the coder would (hybrid-uint of the zig-zagged residual), and the cost is the empirical
    /// entropy of the tokens in four local-activity classes plus the raw bits. Type 0 is tried
    /// with permutation 0 only. Images with fewer than three channels, or one row, get the
    /// identity.
    /// - Returns: a transform id in `0..<count`.
    /// - Complexity: O(37 · sampled pixels); about 5% of coding the image.
    public static func choose(_ image: PixelImage) -> Int {
        ranked(image)[0]
    }

    /// Every candidate transform of `choose` (type 0 with permutation 0 only: 37 ids), cheapest
    /// estimate first (ties: lower id first); `[identity]` where `choose` gives the identity.
    /// - Complexity: as `choose`.
    public static func ranked(_ image: PixelImage) -> [Int] {
        let C = image.channels, w = image.width, h = image.height, m = image.maxValue
        guard C >= 3, h >= 2 else { return [identity] }
        let step = max(1, (w * h) / choiceSamplePixels)
        let rows = Array(stride(from: 1, to: h, by: step))
        // The sampled row pairs' first three channels: [rows][2][w][3].
        var rgb = [Int](repeating: 0, count: rows.count * 2 * w * 3)
        image.samples.withUnsafeBufferPointer { s in
            for (n, y) in rows.enumerated() {
                for half in 0..<2 {
                    let src = (y - 1 + half) * w * C, dst = (n * 2 + half) * w * 3
                    for x in 0..<w { for k in 0..<3 { rgb[dst + 3 * x + k] = Int(s[src + x * C + k]) } }
                }
            }
        }
        let alphabet = HybridUint.alphabetSize(maxValue: 4 * m + 2)
        var hist = [Int](repeating: 0, count: 12 * alphabet)
        var out = [Int](repeating: 0, count: 2 * w * 3)
        var costs: [(Double, Int)] = []
        for id in 0..<count where id % 7 != 0 || id == identity {
            for j in hist.indices { hist[j] = 0 }
            var raw = 0
            rgb.withUnsafeBufferPointer { p in
                out.withUnsafeMutableBufferPointer { o in
                    hist.withUnsafeMutableBufferPointer { hp in
                        for n in 0..<rows.count {
                            let base = n * 2 * w * 3
                            for j in 0..<(2 * w) {
                                let t = forward(id, (p[base + 3 * j], p[base + 3 * j + 1], p[base + 3 * j + 2]), maxValue: m)
                                o[3 * j] = t.0; o[3 * j + 1] = t.1; o[3 * j + 2] = t.2
                            }
                            let up = 0, cur = 3 * w
                            for x in 1..<max(1, w - 1) {
                                for k in 0..<3 {
                                    let N = o[up + 3 * x + k], W = o[cur + 3 * x - 3 + k]
                                    let NW = o[up + 3 * x - 3 + k], NE = o[up + 3 * x + 3 + k]
                                    let med = NW >= smax(N, W) ? smin(N, W) : (NW <= smin(N, W) ? smax(N, W) : N + W - NW)
                                    let e = o[cur + 3 * x + k] - med
                                    let z = e > 0 ? 2 * e - 1 : -2 * e
                                    let g = sabs(N - NW) + sabs(W - NW) + sabs(NE - N)
                                    let b = g == 0 ? 0 : (g < 8 ? 1 : (g < 32 ? 2 : 3))
                                    let tok = HybridUint.token(z)
                                    hp[(k * 4 + b) * alphabet + tok.token] += 1
                                    raw += tok.extraCount
                                }
                            }
                        }
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
            costs.append((bits, id))
        }
        return costs.sorted { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }.map(\.1)
    }
}
