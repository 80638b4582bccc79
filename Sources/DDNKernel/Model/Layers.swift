// Float32 layers of the DDN with hand-written backward passes.
//
// Tensors are single images, height × width × channels, channels last (HWC), flat.
// Every forward here has a fixed operation order that does not depend on threads: each output is
// a left-to-right sum in the order written (bias, then taps ky, kx, then input channels), with
// separate multiply and add (Swift does not contract a*b+c into an FMA; never call fma or
// addingProduct here). Vectorisation is only across independent outputs, which leaves every result
// bit-identical. The coding path (DDNModel.level) uses these same forwards.

/// 3×3 (pad 1) or 1×1 convolution, stride 1.
/// out[p][co] = bias[co] + Σ_{ky,kx} Σ_ci in[p+(ky-pad, kx-pad)][ci] · weight[((ky·k+kx)·cin+ci)·cout+co]
/// - Parameters: x: [h·w·cin]; weight: [k·k·cin·cout]; bias: [cout] or nil (zero); out: [h·w·cout].
///
/// Each output element is accumulated in exactly the order above (bias, then ky, kx, ci, separate
/// multiply and add), taps outside the image skipped. Pixels whose taps are all inside (every pixel
/// of a 1×1 convolution) go through `gemmAccumulate`: their input windows, laid out in (ky, kx, ci)
/// order, times the weights as a [k·k·cin × cout] matrix, onto the bias: the same sums. The border
/// pixels of a 3×3 convolution go through `convPixels`. Neither the kernel chosen nor the SIMD width
/// changes a bit.
func convForward(_ x: UnsafePointer<Float>, h: Int, w: Int, cin: Int, k: Int,
                 weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, cout: Int,
                 out: UnsafeMutablePointer<Float>) {
    func setBias(_ o: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n {
            if let bias { (o + i * cout).update(from: bias, count: cout) } else { (o + i * cout).update(repeating: 0, count: cout) }
        }
    }
    if k == 1 {
        setBias(out, h * w)
        gemmAccumulate(m: h * w, n: cout, k: cin, a: x, aRow: cin, aCol: 1, b: weight, ldb: cout, c: out, ldc: cout)
        return
    }
    guard k == 3, h >= 3, w >= 3 else {
        convPixels(x, h: h, w: w, cin: cin, k: k, weight: weight, bias: bias, cout: cout, out: out, rows: 0..<h, columns: { _ in 0..<w })
        return
    }
    // interior rows, one matrix product per row of w − 2 pixels
    let inner = w - 2, kk = 9 * cin
    withUnsafeTemporaryAllocation(of: Float.self, capacity: inner * kk) { buf in
        let cols = buf.baseAddress!
        for y in 1..<(h - 1) {
            for i in 0..<inner {
                let row = cols + i * kk
                for ky in 0..<3 { (row + ky * 3 * cin).update(from: x + ((y + ky - 1) * w + i) * cin, count: 3 * cin) }
            }
            let o = out + (y * w + 1) * cout
            setBias(o, inner)
            gemmAccumulate(m: inner, n: cout, k: kk, a: cols, aRow: kk, aCol: 1, b: weight, ldb: cout, c: o, ldc: cout)
        }
    }
    // the border: first and last rows whole, the first and last pixel of the rows between
    convPixels(x, h: h, w: w, cin: cin, k: 3, weight: weight, bias: bias, cout: cout, out: out, rows: 0..<h) { y in
        y == 0 || y == h - 1 ? 0..<w : 0..<1
    }
    convPixels(x, h: h, w: w, cin: cin, k: 3, weight: weight, bias: bias, cout: cout, out: out, rows: 1..<(h - 1)) { _ in (w - 1)..<w }
}

/// `convForward` for the pixels in `rows` × `columns(y)`, one pixel at a time: output channels
/// eight at a time through `SIMD8<Float>` registers, the rest one at a time.
@inline(__always)
private func convPixels(_ x: UnsafePointer<Float>, h: Int, w: Int, cin: Int, k: Int,
                        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, cout: Int,
                        out: UnsafeMutablePointer<Float>, rows: Range<Int>, columns: (Int) -> Range<Int>) {
    let pad = k / 2
    let vectorEnd = cout - cout % 8
    for y in rows {
        let y0 = max(0, pad - y), y1 = min(k, h + pad - y)
        for xx in columns(y) {
            let x0 = max(0, pad - xx), x1 = min(k, w + pad - xx)
            let o = out + (y * w + xx) * cout
            for cb in stride(from: 0, to: vectorEnd, by: 8) {
                var acc = bias.map { UnsafeRawPointer($0 + cb).loadUnaligned(as: SIMD8<Float>.self) } ?? SIMD8<Float>()
                for ky in y0..<y1 {
                    for kx in x0..<x1 {
                        let ip = x + ((y + ky - pad) * w + xx + kx - pad) * cin
                        var wp = UnsafeRawPointer(weight + (ky * k + kx) * cin * cout + cb)
                        for ci in 0..<cin {
                            acc = acc + SIMD8<Float>(repeating: ip[ci]) * wp.loadUnaligned(as: SIMD8<Float>.self)
                            wp += cout * MemoryLayout<Float>.stride
                        }
                    }
                }
                UnsafeMutableRawPointer(o + cb).storeBytes(of: acc, as: SIMD8<Float>.self)
            }
            for co in vectorEnd..<cout {
                var acc = bias?[co] ?? 0
                for ky in y0..<y1 {
                    for kx in x0..<x1 {
                        let ip = x + ((y + ky - pad) * w + xx + kx - pad) * cin
                        let wp = weight + (ky * k + kx) * cin * cout + co
                        for ci in 0..<cin { acc = acc + ip[ci] * wp[ci * cout] }
                    }
                }
                o[co] = acc
            }
        }
    }
}

/// Spatially flipped, transposed kernel: wt[((k·k−1−t)·cout+co)·cin+ci] = w[(t·cin+ci)·cout+co].
/// The input gradient of a convolution is the convolution of the output gradient with it.
func flipTranspose(_ wgt: UnsafePointer<Float>, k: Int, cin: Int, cout: Int, into wt: UnsafeMutablePointer<Float>) {
    let taps = k * k
    for t in 0..<taps {
        let tf = taps - 1 - t
        for ci in 0..<cin {
            for co in 0..<cout { wt[(tf * cout + co) * cin + ci] = wgt[(t * cin + ci) * cout + co] }
        }
    }
}

/// Backward of `convForward`. Adds ∂L/∂weight into dw and ∂L/∂bias into db; writes ∂L/∂x into dx
/// (if non-nil) using `wt`, the `flipTranspose` of the weights.
func convBackward(_ x: UnsafePointer<Float>, h: Int, w: Int, cin: Int, k: Int,
                  wt: UnsafePointer<Float>?, cout: Int, dy: UnsafePointer<Float>,
                  dw: UnsafeMutablePointer<Float>, db: UnsafeMutablePointer<Float>?,
                  dx: UnsafeMutablePointer<Float>?) {
    let pad = k / 2
    if let db {
        for p in 0..<(h * w) { let g = dy + p * cout; for co in 0..<cout { db[co] += g[co] } }
    }
    for y in 0..<h {
        for xx in 0..<w {
            let g = dy + (y * w + xx) * cout
            for ky in 0..<k {
                let iy = y + ky - pad
                if iy < 0 || iy >= h { continue }
                for kx in 0..<k {
                    let ix = xx + kx - pad
                    if ix < 0 || ix >= w { continue }
                    let ip = x + (iy * w + ix) * cin
                    let wp = dw + (ky * k + kx) * cin * cout
                    for ci in 0..<cin {
                        let a = ip[ci]
                        let wr = wp + ci * cout
                        for co in 0..<cout { wr[co] += a * g[co] }
                    }
                }
            }
        }
    }
    if let dx, let wt { convForward(dy, h: h, w: w, cin: cout, k: k, weight: wt, bias: nil, cout: cin, out: dx) }
}

/// LeakyReLU in place of a copy: y = x ≥ 0 ? x : leak·x.
@inline(__always)
func leakyForward(_ x: UnsafePointer<Float>, n: Int, leak: Float, out: UnsafeMutablePointer<Float>) {
    for i in 0..<n { let v = x[i]; out[i] = v >= 0 ? v : leak * v }
}
/// dx = dy · (x ≥ 0 ? 1 : leak), in place on dy allowed.
@inline(__always)
func leakyBackward(_ x: UnsafePointer<Float>, n: Int, leak: Float, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>) {
    for i in 0..<n { dx[i] = x[i] >= 0 ? dy[i] : leak * dy[i] }
}

/// 2×2 average pooling: [h·w·c] → [(h/2)·(w/2)·c]; out = 0.25·(((a + b) + c) + d).
@inline(__always)
func poolForward(_ x: UnsafePointer<Float>, h: Int, w: Int, c: Int, out: UnsafeMutablePointer<Float>) {
    let h2 = h / 2, w2 = w / 2
    for y in 0..<h2 {
        for xx in 0..<w2 {
            let a = x + ((2 * y) * w + 2 * xx) * c, b = a + c, d0 = a + w * c, d1 = d0 + c
            let o = out + (y * w2 + xx) * c
            for ch in 0..<c { o[ch] = 0.25 * (((a[ch] + b[ch]) + d0[ch]) + d1[ch]) }
        }
    }
}
/// Backward of `poolForward`: dx = 0.25·dy on each of the four inputs (dx fully written).
func poolBackward(dy: UnsafePointer<Float>, h: Int, w: Int, c: Int, dx: UnsafeMutablePointer<Float>) {
    let w2 = w / 2
    for y in 0..<h {
        for xx in 0..<w {
            let g = dy + ((y / 2) * w2 + xx / 2) * c
            let o = dx + (y * w + xx) * c
            for ch in 0..<c { o[ch] = 0.25 * g[ch] }
        }
    }
}

/// Nearest-neighbour 2× upsampling added onto `out`: out[y][x] += x[y/2][x/2]; [h·w·c] is the
/// output (full) size.
@inline(__always)
func upsampleAdd(_ x: UnsafePointer<Float>, h: Int, w: Int, c: Int, out: UnsafeMutablePointer<Float>) {
    let w2 = w / 2
    for y in 0..<h {
        for xx in 0..<w {
            let s = x + ((y / 2) * w2 + xx / 2) * c
            let o = out + (y * w + xx) * c
            for ch in 0..<c { o[ch] = o[ch] + s[ch] }
        }
    }
}
/// Backward of `upsampleAdd` for its low-resolution input: dx[y][x] = Σ of the 4 dy (dx written).
func upsampleBackward(dy: UnsafePointer<Float>, h: Int, w: Int, c: Int, dx: UnsafeMutablePointer<Float>) {
    let h2 = h / 2, w2 = w / 2
    for y in 0..<h2 {
        for xx in 0..<w2 {
            let a = dy + ((2 * y) * w + 2 * xx) * c, b = a + c, d0 = a + w * c, d1 = d0 + c
            let o = dx + (y * w2 + xx) * c
            for ch in 0..<c { o[ch] = ((a[ch] + b[ch]) + d0[ch]) + d1[ch] }
        }
    }
}

/// Instance normalisation over pixels per channel, with affine γ, β:
/// μ = Σx/P, v = Σ(x−μ)²/P, xn = (x−μ)·(1/√(v+ε)), y = γ·xn + β. Sums run over pixels in order.
/// Writes xn (kept for backward) and inv[c] = 1/√(v+ε).
@inline(__always)
func normForward(_ x: UnsafePointer<Float>, p: Int, c: Int, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
                 xn: UnsafeMutablePointer<Float>, inv: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>) {
    let eps: Float = 1e-5
    let scale = 1 / Float(p)
    // inv is used as the running sum first.
    for ch in 0..<c { inv[ch] = 0 }
    for i in 0..<p { let r = x + i * c; for ch in 0..<c { inv[ch] = inv[ch] + r[ch] } }
    for ch in 0..<c { inv[ch] = inv[ch] * scale }           // μ
    for i in 0..<p { let r = x + i * c, o = xn + i * c; for ch in 0..<c { o[ch] = r[ch] - inv[ch] } }
    for ch in 0..<c { inv[ch] = 0 }
    for i in 0..<p { let o = xn + i * c; for ch in 0..<c { inv[ch] = inv[ch] + o[ch] * o[ch] } }
    for ch in 0..<c { inv[ch] = 1 / (inv[ch] * scale + eps).squareRoot() }
    for i in 0..<p {
        let o = xn + i * c, y = out + i * c
        for ch in 0..<c { let v = o[ch] * inv[ch]; o[ch] = v; y[ch] = gamma[ch] * v + beta[ch] }
    }
}
/// Backward of `normForward`: dx = inv/P·(P·dxn − Σdxn − xn·Σ(dxn·xn)), dxn = dy·γ; adds dγ, dβ.
func normBackward(xn: UnsafePointer<Float>, inv: UnsafePointer<Float>, p: Int, c: Int, gamma: UnsafePointer<Float>,
                  dy: UnsafePointer<Float>, dgamma: UnsafeMutablePointer<Float>, dbeta: UnsafeMutablePointer<Float>,
                  dx: UnsafeMutablePointer<Float>, tmp: UnsafeMutablePointer<Float>) {
    // tmp[0..<c] = Σ dxn, tmp[c..<2c] = Σ dxn·xn
    for ch in 0..<(2 * c) { tmp[ch] = 0 }
    for i in 0..<p {
        let g = dy + i * c, n = xn + i * c
        for ch in 0..<c {
            dgamma[ch] += g[ch] * n[ch]; dbeta[ch] += g[ch]
            let d = g[ch] * gamma[ch]
            tmp[ch] += d; tmp[c + ch] += d * n[ch]
        }
    }
    let fp = Float(p)
    for i in 0..<p {
        let g = dy + i * c, n = xn + i * c, o = dx + i * c
        for ch in 0..<c {
            let d = g[ch] * gamma[ch]
            o[ch] = inv[ch] / fp * (fp * d - tmp[ch] - n[ch] * tmp[c + ch])
        }
    }
}

/// Mean over pixels: [p·c] → [c], summed in pixel order then scaled by 1/P.
@inline(__always)
func meanPoolForward(_ x: UnsafePointer<Float>, p: Int, c: Int, out: UnsafeMutablePointer<Float>) {
    for ch in 0..<c { out[ch] = 0 }
    for i in 0..<p { let r = x + i * c; for ch in 0..<c { out[ch] = out[ch] + r[ch] } }
    let s = 1 / Float(p)
    for ch in 0..<c { out[ch] = out[ch] * s }
}

/// Linear layer y[o] = b[o] + Σ_i x[i]·W[i·nout+o] (weights stored input-major).
@inline(__always)
func linearForward(_ x: UnsafePointer<Float>, nin: Int, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                   nout: Int, out: UnsafeMutablePointer<Float>) {
    for o in 0..<nout { out[o] = bias[o] }
    for i in 0..<nin {
        let a = x[i], wr = weight + i * nout
        for o in 0..<nout { out[o] = out[o] + a * wr[o] }
    }
}
/// Backward of `linearForward`: adds dW, db; writes dx if non-nil.
func linearBackward(_ x: UnsafePointer<Float>, nin: Int, weight: UnsafePointer<Float>, nout: Int,
                    dy: UnsafePointer<Float>, dw: UnsafeMutablePointer<Float>, db: UnsafeMutablePointer<Float>,
                    dx: UnsafeMutablePointer<Float>?) {
    for o in 0..<nout { db[o] += dy[o] }
    for i in 0..<nin {
        let a = x[i], wr = dw + i * nout
        for o in 0..<nout { wr[o] += a * dy[o] }
    }
    if let dx {
        for i in 0..<nin {
            var s: Float = 0
            let wr = weight + i * nout
            for o in 0..<nout { s += wr[o] * dy[o] }
            dx[i] = s
        }
    }
}
