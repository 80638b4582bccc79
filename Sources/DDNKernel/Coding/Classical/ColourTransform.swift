// Reversible colour transforms of coder 6 (Spec/CODEC.md §8.2), after JPEG XL's RCT family
// (ISO/IEC 18181-1 modular "RCT": a permutation, then differences, averages or YCoCg-R) with the
// results offset to be non-negative so the sample loop keeps its `0...maxValue` ranges.
//
// A transform id t in 0..<42 is `permutation · 7 + type`. The permutation picks which input
// channels become (a, b, c); then, with m = 2^B − 1:
//   type 0: (a, b, c)                          ranges (m, m, m)
//   type 1: (a, b, c − a + m)                  (m, m, 2m)
//   type 2: (a, b − a + m, c)                  (m, 2m, m)
//   type 3: (a, b − a + m, c − a + m)          (m, 2m, 2m)
//   type 4: (a, b − ⌊(a + c)/2⌋ + m, c)        (m, 2m, m)
//   type 5: (a, b − ⌊(a + c)/2⌋ + m, c − a + m)   (m, 2m, 2m)   (the average uses the original c)
//   type 6: YCoCg-R with (R, G, B) = (a, b, c): Co = a − c, t = c + ⌊Co/2⌋, Cg = b − t,
//           Y = t + ⌊Cg/2⌋; output (Y, Co + m, Cg + m)   (m, 2m, 2m)
// Only the first three channels are transformed; a fourth (alpha) is kept as it is.

/// Reversible colour transforms (integer only) of coder 6.
public enum ColourTransform {
    /// Number of transform ids (6 permutations × 7 types).
    public static let count = 42
    /// The identity (permutation 0, type 0).
    public static let identity = 0

    /// Input channel that becomes (a, b, c) for each permutation.
    @usableFromInline static let permutations: [(Int, Int, Int)] = [(0, 1, 2), (1, 2, 0), (2, 0, 1), (0, 2, 1), (1, 0, 2), (2, 1, 0)]

    /// Largest value of each output channel (0...3) of transform `id` for samples `0...maxValue`
    /// with `channels` channels (channels past the third, and all of a 1- or 2-channel image, keep
    /// `maxValue`).
    /// - Precondition: `id` in `0..<count`.
    public static func maxValues(_ id: Int, channels: Int, maxValue m: Int) -> (Int, Int, Int, Int) {
        precondition((0..<count).contains(id))
        guard channels >= 3 else { return (m, m, m, m) }
        switch id % 7 {
        case 0: return (m, m, m, m)
        case 1: return (m, m, 2 * m, m)
        case 2, 4: return (m, 2 * m, m, m)
        default: return (m, 2 * m, 2 * m, m)
        }
    }

    /// Forward transform of one pixel's first three samples (encoder).
    /// - Returns: the three output samples, in `0...maxValues(id)`.
    @inlinable static func forward(_ id: Int, _ p: (Int, Int, Int), maxValue m: Int) -> (Int, Int, Int) {
        let (pa, pb, pc) = permutations[id / 7]
        let a = pick(p, pa), b = pick(p, pb), c = pick(p, pc)
        switch id % 7 {
        case 0: return (a, b, c)
        case 1: return (a, b, c - a + m)
        case 2: return (a, b - a + m, c)
        case 3: return (a, b - a + m, c - a + m)
        case 4: return (a, b - ((a + c) >> 1) + m, c)
        case 5: return (a, b - ((a + c) >> 1) + m, c - a + m)
        default:
            let co = a - c, t = c + (co >> 1), cg = b - t
            return (t + (cg >> 1), co + m, cg + m)
        }
    }

    /// Inverse transform (decoder). Each result is clamped to `0...maxValue`, so a corrupt stream
    /// gives some valid sample values.
    @inlinable static func inverse(_ id: Int, _ q: (Int, Int, Int), maxValue m: Int) -> (Int, Int, Int) {
        var a = q.0, b = q.1, c = q.2
        switch id % 7 {
        case 0: break
        case 1: c = c - m + a
        case 2: b = b - m + a
        case 3: b = b - m + a; c = c - m + a
        case 4: b = b - m + ((a + c) >> 1)
        case 5: c = c - m + a; b = b - m + ((a + c) >> 1)
        default:
            let co = b - m, cg = c - m
            let t = a - (cg >> 1)
            b = cg + t; c = t - (co >> 1); a = c + co
        }
        a = min(max(a, 0), m); b = min(max(b, 0), m); c = min(max(c, 0), m)
        // Undo the permutation: input channel k is the one of (a, b, c) it became.
        let (pa, pb, _) = permutations[id / 7]
        func at(_ k: Int) -> Int { k == pa ? a : (k == pb ? b : c) }
        return (at(0), at(1), at(2))
    }

    @inlinable static func pick(_ p: (Int, Int, Int), _ k: Int) -> Int { k == 0 ? p.0 : (k == 1 ? p.1 : p.2) }

    /// Applies the forward transform `id` to every pixel of `image` (channels >= 3; others are
    /// copied): `width × height × channels` samples, interleaved, as `UInt32`.
    public static func forward(_ id: Int, _ image: PixelImage) -> [UInt32] {
        precondition((0..<count).contains(id))
        var out = image.samples.map { UInt32($0) }
        let C = image.channels, m = image.maxValue
        guard C >= 3, id != identity else { return out }
        out.withUnsafeMutableBufferPointer { o in
            var i = 0
            while i < o.count {
                let (x, y, z) = forward(id, (Int(o[i]), Int(o[i + 1]), Int(o[i + 2])), maxValue: m)
                o[i] = UInt32(x); o[i + 1] = UInt32(y); o[i + 2] = UInt32(z)
                i += C
            }
        }
        return out
    }

    /// Inverse of `forward(_:_:)`: transformed samples back to pixel samples `0...maxValue`.
    /// Never traps on out-of-range input (values are clamped).
    public static func inverse(_ id: Int, _ samples: [UInt32], channels C: Int, maxValue m: Int) -> [UInt16] {
        precondition((0..<count).contains(id))
        var out = [UInt16](repeating: 0, count: samples.count)
        samples.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { o in
                if C < 3 || id == identity {
                    for i in 0..<s.count { o[i] = UInt16(truncatingIfNeeded: min(Int(s[i]), m)) }
                    return
                }
                var i = 0
                while i < s.count {
                    let (x, y, z) = inverse(id, (Int(s[i]), Int(s[i + 1]), Int(s[i + 2])), maxValue: m)
                    o[i] = UInt16(x); o[i + 1] = UInt16(y); o[i + 2] = UInt16(z)
                    for k in 3..<C { o[i + k] = UInt16(truncatingIfNeeded: min(Int(s[i + k]), m)) }
                    i += C
                }
            }
        }
        return out
    }
}
