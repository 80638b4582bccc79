import Foundation

// Element-wise loops of the residual network's training pass, eight lanes at a time. Training
// only: nothing here is on the coding path, so the float results may differ from a scalar loop's
// in the last place (the fast exp differs from libm's by < 2e-7 relative). The numbers the trainer
// reports for held-out images come from the coder itself (`CodecReport`).

enum TrainingVectorOps {
    typealias V8 = SIMD8<Float>

    /// exp(x) for x ≤ 0, eight at a time: 2^t with t = x·log2(e) cut at −126, split into
    /// n = round(t) and f = t − n ∈ [−½, ½], 2^f by Cephes' exp2f polynomial, 2^n by the exponent
    /// bits. Relative error < 2e-7. Rounding by adding 1.5·2^23 (whose float then holds
    /// 0x4B400000 + n in its bits) keeps every lane in vector registers: Swift's SIMD rounding and
    /// float-to-integer conversions go through a generic scalar path.
    @inline(__always)
    static func exp(_ x: V8) -> V8 {
        var t = x * 1.442695040888963
        t.replace(with: -126, where: t .< -126)
        let shifted = t + 12_582_912
        let n = shifted - 12_582_912
        let f = t - n
        var p = V8(repeating: 1.535336188319500e-4)
        p = p * f + 1.339887440266574e-3
        p = p * f + 9.618437357674640e-3
        p = p * f + 5.550332471162809e-2
        p = p * f + 2.402264791363012e-1
        p = p * f + 6.931472028550421e-1
        p = p * f + 1
        let e = (unsafeBitCast(shifted, to: SIMD8<UInt32>.self) &- 0x4B40_0000 &+ 127) &<< 23
        return p * unsafeBitCast(e, to: V8.self)
    }

    /// One row of logits [count] turned into softmax probabilities times `scale` in place, the
    /// true class's `scale` subtracted (∂(scale·cross-entropy)/∂logits); returns −ln p(target).
    /// - Precondition: count is a multiple of 8 (the alphabet V = 2^b, b ≥ 3) — smaller rows go
    ///   through the scalar fallback.
    @inline(__always)
    static func softmaxCrossEntropy(_ row: UnsafeMutablePointer<Float>, count: Int, target: Int, scale: Float) -> Double {
        if count % 8 != 0 {
            var mx = -Float.infinity
            for v in 0..<count { mx = max(mx, row[v]) }
            var sum: Float = 0
            for v in 0..<count { let e = expf(row[v] - mx); row[v] = e; sum += e }
            let nll = Double(logf(sum)) - Double(logf(max(row[target], .leastNormalMagnitude)))
            let inv = scale / sum
            for v in 0..<count { row[v] *= inv }
            row[target] -= scale
            return nll
        }
        let raw = UnsafeMutableRawPointer(row)
        let lanes = count / 8, stride = MemoryLayout<V8>.stride
        var m = V8(repeating: -.infinity)
        for i in 0..<lanes { let v = raw.loadUnaligned(fromByteOffset: i * stride, as: V8.self); m.replace(with: v, where: v .> m) }
        let mx = V8(repeating: m.max())
        var s = V8()
        for i in 0..<lanes {
            let e = exp(raw.loadUnaligned(fromByteOffset: i * stride, as: V8.self) - mx)
            raw.storeBytes(of: e, toByteOffset: i * stride, as: V8.self)
            s += e
        }
        let sum = s.sum()
        let nll = Double(logf(sum)) - Double(logf(max(row[target], .leastNormalMagnitude)))
        let inv = V8(repeating: scale / sum)
        for i in 0..<lanes {
            raw.storeBytes(of: raw.loadUnaligned(fromByteOffset: i * stride, as: V8.self) * inv, toByteOffset: i * stride, as: V8.self)
        }
        row[target] -= scale
        return nll
    }

    /// out[i] = z[i] ≥ 0 ? z[i] : leak·z[i].
    @inline(__always)
    static func leakyReLU(_ z: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int, leak: Float) {
        var i = 0
        let lk = V8(repeating: leak)
        while i + 8 <= count {
            let v = UnsafeRawPointer(z + i).loadUnaligned(as: V8.self)
            UnsafeMutableRawPointer(out + i).storeBytes(of: v.replacing(with: v * lk, where: v .< 0), as: V8.self)
            i += 8
        }
        while i < count { let v = z[i]; out[i] = v >= 0 ? v : leak * v; i += 1 }
    }

    /// g[i] = z[i] < 0 ? leak·g[i] : g[i] (the leaky ReLU's backward, in place).
    @inline(__always)
    static func leakyReLUBackward(_ z: UnsafePointer<Float>, _ g: UnsafeMutablePointer<Float>, count: Int, leak: Float) {
        var i = 0
        let lk = V8(repeating: leak)
        while i + 8 <= count {
            let v = UnsafeRawPointer(z + i).loadUnaligned(as: V8.self)
            let d = UnsafeRawPointer(g + i).loadUnaligned(as: V8.self)
            UnsafeMutableRawPointer(g + i).storeBytes(of: d.replacing(with: d * lk, where: v .< 0), as: V8.self)
            i += 8
        }
        while i < count { if z[i] < 0 { g[i] *= leak }; i += 1 }
    }

    /// d[i] += s[i].
    @inline(__always)
    static func add(_ s: UnsafePointer<Float>, into d: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            let a = UnsafeRawPointer(s + i).loadUnaligned(as: V8.self)
            let b = UnsafeRawPointer(d + i).loadUnaligned(as: V8.self)
            UnsafeMutableRawPointer(d + i).storeBytes(of: a + b, as: V8.self)
            i += 8
        }
        while i < count { d[i] += s[i]; i += 1 }
    }

    /// sum[o] = Σ_r m[r·width + o], o < width (column sums of a row-major [rows × width]).
    static func columnSums(_ m: UnsafePointer<Float>, rows: Int, width: Int) -> [Float] {
        var sum = [Float](repeating: 0, count: width)
        sum.withUnsafeMutableBufferPointer { sp in
            for r in 0..<rows { add(m + r * width, into: sp.baseAddress!, count: width) }
        }
        return sum
    }
}
