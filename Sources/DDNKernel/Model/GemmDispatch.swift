import CPNG
import DDNGemm
import DDNGemmAVX2
import Foundation

/// The matrix-product kernel of this process: the AVX2 build of `DDNGemm` when the CPU has AVX2
/// (and `DDN_PORTABLE_GEMM` is not set in the environment), else the portable build. Both give
/// bit-identical results (Sources/DDNGemm/Gemm.swift); the choice is only a matter of speed.
let gemmKernel: @Sendable (Int, Int, Int, UnsafePointer<Float>, Int, Int, UnsafePointer<Float>, Int, UnsafeMutablePointer<Float>, Int) -> Void = {
    if cpng_cpu_has_avx2() != 0 && getenv("DDN_PORTABLE_GEMM") == nil {
        return { DDNGemmAVX2.gemmAccumulate(m: $0, n: $1, k: $2, a: $3, aRow: $4, aCol: $5, b: $6, ldb: $7, c: $8, ldc: $9) }
    }
    return { DDNGemm.gemmAccumulate(m: $0, n: $1, k: $2, a: $3, aRow: $4, aCol: $5, b: $6, ldb: $7, c: $8, ldc: $9) }
}()

/// Whether this process multiplies matrices with the AVX2 kernel (for reports).
public var gemmUsesAVX2: Bool { cpng_cpu_has_avx2() != 0 && getenv("DDN_PORTABLE_GEMM") == nil }

/// C[i][j] = C[i][j] + Σ_k A[i][k]·B[k][j], k ascending, separate multiply and add
/// (Sources/DDNGemm/Gemm.swift has the contract; Spec/MODEL.md §8).
/// - Parameters: a: element (i, k) at `a[i·aRow + k·aCol]`; b: row-major, row stride `ldb`;
///   c: row-major, row stride `ldc`; C is m×n, A m×k, B k×n.
@inline(__always)
func gemmAccumulate(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, aRow: Int, aCol: Int,
                    b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int) {
    gemmKernel(m, n, k, a, aRow, aCol, b, ldb, c, ldc)
}

/// Training's matrix product: the AVX2 build's fused multiply-add kernel on CPUs with AVX2 and
/// FMA (`DDNGemmAVX2.gemmAccumulateFused`), else `gemmAccumulate`. Never on the coding path: its
/// sums are rounded differently. Arguments as `gemmAccumulate`'s.
let trainingGemmKernel: @Sendable (Int, Int, Int, UnsafePointer<Float>, Int, Int, UnsafePointer<Float>, Int, UnsafeMutablePointer<Float>, Int) -> Void = {
    if cpng_cpu_has_avx2() != 0 && cpng_cpu_has_fma() != 0 && getenv("DDN_PORTABLE_GEMM") == nil {
        return { DDNGemmAVX2.gemmAccumulateFused(m: $0, n: $1, k: $2, a: $3, aRow: $4, aCol: $5, b: $6, ldb: $7, c: $8, ldc: $9) }
    }
    return gemmKernel
}()

/// C += A·B for training (`trainingGemmKernel`); arguments as `gemmAccumulate`'s.
@inline(__always)
func trainingGemm(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, aRow: Int, aCol: Int,
                  b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int) {
    trainingGemmKernel(m, n, k, a, aRow, aCol, b, ldb, c, ldc)
}
