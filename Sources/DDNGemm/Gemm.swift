// The one matrix product of the residual network (inference and training).
//
// This file is compiled twice: as module DDNGemm with the package's default flags (any x86-64 or
// arm64 CPU) and, through a symbolic link, as DDNGemmAVX2 with `-target-cpu haswell` (AVX2; x86-64
// only). DDNKernel picks one at run time (Sources/DDNKernel/Model/GemmDispatch.swift). Wider
// registers change nothing in the result: there is no FMA contraction, and the sums below are
// the same sequence of operations on every target.
//
// Every output element is `c = c + a_k · b_k` for k = 0, 1, …, K−1 in that order, in float32 with a
// separate multiply and add (Swift does not contract into FMA; never call addingProduct here).
// Vectorisation and tiling run only across independent output elements (rows and columns), so the
// result of an element never depends on the tile it fell in, on how many rows were computed
// together, or on the thread: the encoder (all pixels of an image at once) and the decoder (one
// pixel of many images at once) get bit-identical numbers. Spec/MODEL.md §8.

/// C[i][j] = C[i][j] + Σ_k A[i][k]·B[k][j], k ascending (the sum is formed onto C's value).
///
/// - Parameters:
///   - m, n, k: C is m×n, A is m×k, B is k×n.
///   - a: A with element (i, k) at `a[i·aRow + k·aCol]` (so a transposed operand is a stride swap).
///   - b: B row-major with row stride `ldb` (element (k, j) at `b[k·ldb + j]`).
///   - c: C row-major with row stride `ldc`.
public func gemmAccumulate(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, aRow: Int, aCol: Int,
                    b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int) {
    let n16 = n - n % 16
    let fs = MemoryLayout<Float>.stride
    var i = 0
    #if DDN_AVX2
    // Four rows × 16 columns: 8 of the 16 AVX registers hold the sums.
    i = m - m % 4
    tiles4x16(rows: i, columns: n16, k: k, a: a, aRow: aRow, aCol: aCol, b: b, ldb: ldb, c: c, ldc: ldc, fused: false)
    #endif
    // Two rows × 16 columns (all of SSE's 16 registers would spill with four).
    while i + 2 <= m {
        var j = 0
        while j < n16 {
            let c0 = UnsafeMutableRawPointer(c + i * ldc + j), c1 = UnsafeMutableRawPointer(c + (i + 1) * ldc + j)
            var s0 = c0.loadUnaligned(as: SIMD16<Float>.self)
            var s1 = c1.loadUnaligned(as: SIMD16<Float>.self)
            var ap = a + i * aRow
            var bp = UnsafeRawPointer(b + j)
            for _ in 0..<k {
                let bv = bp.loadUnaligned(as: SIMD16<Float>.self)
                s0 = s0 + SIMD16(repeating: ap[0]) * bv
                s1 = s1 + SIMD16(repeating: ap[aRow]) * bv
                ap += aCol; bp += ldb * fs
            }
            c0.storeBytes(of: s0, as: SIMD16<Float>.self)
            c1.storeBytes(of: s1, as: SIMD16<Float>.self)
            j += 16
        }
        i += 2
    }
    // The odd last row.
    if i < m {
        var j = 0
        while j < n16 {
            let c0 = UnsafeMutableRawPointer(c + i * ldc + j)
            var s0 = c0.loadUnaligned(as: SIMD16<Float>.self)
            var ap = a + i * aRow
            var bp = UnsafeRawPointer(b + j)
            for _ in 0..<k {
                s0 = s0 + SIMD16(repeating: ap[0]) * bp.loadUnaligned(as: SIMD16<Float>.self)
                ap += aCol; bp += ldb * fs
            }
            c0.storeBytes(of: s0, as: SIMD16<Float>.self)
            j += 16
        }
    }
    // Columns past the last multiple of 16: eight, then four at a time, then one (same order).
    var j = n16
    if j + 8 <= n { narrow(SIMD8<Float>.self, j); j += 8 }
    if j + 4 <= n { narrow(SIMD4<Float>.self, j); j += 4 }
    for jj in j..<n {
        for r in 0..<m {
            var s = c[r * ldc + jj]
            var ap = a + r * aRow
            for kk in 0..<k { s = s + ap[0] * b[kk * ldb + jj]; ap += aCol }
            c[r * ldc + jj] = s
        }
    }

    /// Columns j ..< j + V.scalarCount of every row, one row at a time.
    @inline(__always)
    func narrow<V: SIMD>(_: V.Type, _ j: Int) where V.Scalar == Float {
        for r in 0..<m {
            let cr = UnsafeMutableRawPointer(c + r * ldc + j)
            var acc = cr.loadUnaligned(as: V.self)
            var ap = a + r * aRow
            var bp = UnsafeRawPointer(b + j)
            for _ in 0..<k {
                acc = acc + V(repeating: ap[0]) * bp.loadUnaligned(as: V.self)
                ap += aCol; bp += ldb * fs
            }
            cr.storeBytes(of: acc, as: V.self)
        }
    }
}

#if DDN_AVX2
/// The four-row × 16-column tiles of rows 0..<rows (a multiple of 4) and columns 0..<columns (a
/// multiple of 16): each sum `c = c + a·b`, k ascending, with a separate multiply and add, or
/// fused (one rounding) when `fused` (training only). Arguments as `gemmAccumulate`'s.
@inline(__always)
func tiles4x16(rows: Int, columns: Int, k: Int, a: UnsafePointer<Float>, aRow: Int, aCol: Int,
               b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int, fused: Bool) {
    let fs = MemoryLayout<Float>.stride
    var i = 0
    while i < rows {
        var j = 0
        while j < columns {
            let c0 = UnsafeMutableRawPointer(c + i * ldc + j), c1 = UnsafeMutableRawPointer(c + (i + 1) * ldc + j)
            let c2 = UnsafeMutableRawPointer(c + (i + 2) * ldc + j), c3 = UnsafeMutableRawPointer(c + (i + 3) * ldc + j)
            var s0 = c0.loadUnaligned(as: SIMD16<Float>.self), s1 = c1.loadUnaligned(as: SIMD16<Float>.self)
            var s2 = c2.loadUnaligned(as: SIMD16<Float>.self), s3 = c3.loadUnaligned(as: SIMD16<Float>.self)
            var ap = a + i * aRow
            var bp = UnsafeRawPointer(b + j)
            for _ in 0..<k {
                let bv = bp.loadUnaligned(as: SIMD16<Float>.self)
                let a0 = SIMD16(repeating: ap[0]), a1 = SIMD16(repeating: ap[aRow])
                let a2 = SIMD16(repeating: ap[2 * aRow]), a3 = SIMD16(repeating: ap[3 * aRow])
                if fused {
                    s0 = s0.addingProduct(a0, bv); s1 = s1.addingProduct(a1, bv)
                    s2 = s2.addingProduct(a2, bv); s3 = s3.addingProduct(a3, bv)
                } else {
                    s0 = s0 + a0 * bv; s1 = s1 + a1 * bv
                    s2 = s2 + a2 * bv; s3 = s3 + a3 * bv
                }
                ap += aCol; bp += ldb * fs
            }
            c0.storeBytes(of: s0, as: SIMD16<Float>.self); c1.storeBytes(of: s1, as: SIMD16<Float>.self)
            c2.storeBytes(of: s2, as: SIMD16<Float>.self); c3.storeBytes(of: s3, as: SIMD16<Float>.self)
            j += 16
        }
        i += 4
    }
}

/// Training's matrix product: the same sum as `gemmAccumulate` with each multiply and add fused
/// (one rounding instead of two), so its results differ from the coding path's in the last
/// places. Only the trainer calls it (its forward and backward passes; the figures it reports for
/// held-out images come from the coder). The rows and columns past the last full tile go through
/// `gemmAccumulate`.
public func gemmAccumulateFused(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, aRow: Int, aCol: Int,
                                b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int) {
    let m4 = m - m % 4, n16 = n - n % 16
    tiles4x16(rows: m4, columns: n16, k: k, a: a, aRow: aRow, aCol: aCol, b: b, ldb: ldb, c: c, ldc: ldc, fused: true)
    if n16 < n && m4 > 0 {
        gemmAccumulate(m: m4, n: n - n16, k: k, a: a, aRow: aRow, aCol: aCol, b: b + n16, ldb: ldb, c: c + n16, ldc: ldc)
    }
    if m4 < m {
        gemmAccumulate(m: m - m4, n: n, k: k, a: a + m4 * aRow, aRow: aRow, aCol: aCol, b: b, ldb: ldb, c: c + m4 * ldc, ldc: ldc)
    }
}
#else
/// Training's matrix product (see the AVX2 build): on CPUs without it, `gemmAccumulate` itself.
public func gemmAccumulateFused(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, aRow: Int, aCol: Int,
                                b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int) {
    gemmAccumulate(m: m, n: n, k: k, a: a, aRow: aRow, aCol: aCol, b: b, ldb: ldb, c: c, ldc: ldc)
}
#endif
