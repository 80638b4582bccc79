// Hybrid-uint tokenisation (after JPEG XL's HybridUintConfig(4, 1, 0)); Spec/CODEC.md §4.2.
//
//   u < 16:  token = u, no extra bits.
//   u >= 16: n = floor(log2 u) (n >= 4), token = 16 + 2·(n − 4) + ((u >> (n − 1)) & 1),
//            then the n − 1 low bits of u as raw (equiprobable) bits, most significant first.
// So 8-bit values (u <= 255) need 24 tokens, 16-bit values 40.

/// Splits non-negative integers into an entropy-coded token plus raw mantissa bits.
@usableFromInline enum HybridUint {
    /// Values below `1 << splitExponent` are their own token.
    @usableFromInline static let splitExponent = 4
    /// Bits below the leading one kept in the token.
    @usableFromInline static let msbInToken = 1

    /// Number of tokens needed for every value in `0...maxValue`.
    @inlinable static func alphabetSize(maxValue: Int) -> Int { token(maxValue).token + 1 }

    /// (token, number of raw bits, raw bits value) for `u >= 0`.
    @inlinable static func token(_ u: Int) -> (token: Int, extraCount: Int, extra: Int) {
        let se = splitExponent, m = msbInToken
        let split = 1 << se
        if u < split { return (u, 0, 0) }
        let n = (Int.bitWidth - 1) - u.leadingZeroBitCount
        let e = n - m
        return (split + ((n - se) << m) + ((u >> e) & ((1 << m) - 1)), e, u & ((1 << e) - 1))
    }

    /// Number of raw bits that follow `token`.
    @inlinable static func extraCount(_ token: Int) -> Int {
        let split = 1 << splitExponent
        if token < split { return 0 }
        return splitExponent + ((token - split) >> msbInToken) - msbInToken
    }

    /// The value of `token` with raw bits `extra`.
    @inlinable static func value(_ token: Int, extra: Int) -> Int {
        let se = splitExponent, m = msbInToken
        let split = 1 << se
        if token < split { return token }
        let n = se + ((token - split) >> m)
        let top = (token - split) & ((1 << m) - 1)
        return (1 << n) | (top << (n - m)) | extra
    }
}
