import XCTest
@testable import DDNKernel

/// Finite-difference checks of every layer's hand-written backward pass. Loss = Σ out·R with a
/// fixed random R, so ∂loss/∂out = R. Central differences in float, compared as whole vectors.
final class LayerGradientTests: XCTestCase {
    var rng = SplitMix64(seed: 42)
    func rand(_ n: Int, _ a: Float = 1) -> [Float] { (0..<n).map { _ in rng.uniform(a) } }

    /// Relative error ||a − f|| / max(||a||, ||f||).
    func relErr(_ a: [Double], _ f: [Double]) -> Double {
        var d = 0.0, na = 0.0, nf = 0.0
        for i in 0..<a.count { d += (a[i] - f[i]) * (a[i] - f[i]); na += a[i] * a[i]; nf += f[i] * f[i] }
        return d.squareRoot() / max(na.squareRoot(), nf.squareRoot(), 1e-12)
    }

    /// FD gradient of loss(v) w.r.t. each entry of v (in place perturbation).
    func fd(_ v: inout [Float], eps: Float = 1e-2, _ loss: ([Float]) -> Double) -> [Double] {
        (0..<v.count).map { i in
            let o = v[i]
            v[i] = o + eps; let lp = loss(v)
            v[i] = o - eps; let lm = loss(v)
            v[i] = o
            return (lp - lm) / (2 * Double(eps))
        }
    }

    func dot(_ a: [Float], _ b: [Float]) -> Double { zip(a, b).reduce(0) { $0 + Double($1.0) * Double($1.1) } }

    func checkConv(k: Int, h: Int, w: Int, cin: Int, cout: Int) {
        var x = rand(h * w * cin), wt = rand(k * k * cin * cout, 0.5), b = rand(cout)
        let R = rand(h * w * cout)
        func fwd(_ x: [Float], _ wt: [Float], _ b: [Float]) -> [Float] {
            var out = [Float](repeating: 0, count: h * w * cout)
            convForward(x, h: h, w: w, cin: cin, k: k, weight: wt, bias: b, cout: cout, out: &out)
            return out
        }
        var dw = [Float](repeating: 0, count: wt.count), db = [Float](repeating: 0, count: cout), dx = [Float](repeating: 0, count: x.count)
        var wtt = [Float](repeating: 0, count: wt.count)
        flipTranspose(wt, k: k, cin: cin, cout: cout, into: &wtt)
        convBackward(x, h: h, w: w, cin: cin, k: k, wt: wtt, cout: cout, dy: R, dw: &dw, db: &db, dx: &dx)
        let fx = fd(&x) { dot(fwd($0, wt, b), R) }
        let fw = fd(&wt) { dot(fwd(x, $0, b), R) }
        var bb = b
        let fb = fd(&bb) { dot(fwd(x, wt, $0), R) }
        XCTAssertLessThan(relErr(dx.map(Double.init), fx), 1e-3, "conv\(k) dx")
        XCTAssertLessThan(relErr(dw.map(Double.init), fw), 1e-3, "conv\(k) dw")
        XCTAssertLessThan(relErr(db.map(Double.init), fb), 1e-3, "conv\(k) db")
    }

    func testConv3x3() { checkConv(k: 3, h: 5, w: 4, cin: 3, cout: 2) }
    func testConv1x1() { checkConv(k: 1, h: 3, w: 4, cin: 3, cout: 5) }

    func testLeakyReLU() {
        var x = rand(40).map { abs($0) < 0.05 ? 0.3 : $0 }   // keep away from the kink
        let R = rand(40)
        var dx = [Float](repeating: 0, count: 40)
        leakyBackward(x, n: 40, leak: 0.1, dy: R, dx: &dx)
        let f = fd(&x, eps: 1e-3) { v in var o = [Float](repeating: 0, count: 40); leakyForward(v, n: 40, leak: 0.1, out: &o); return dot(o, R) }
        XCTAssertLessThan(relErr(dx.map(Double.init), f), 1e-3)
    }

    func testPoolAndUpsample() {
        let h = 4, w = 6, c = 3
        var x = rand(h * w * c)
        let R = rand(h / 2 * w / 2 * c)
        var dx = [Float](repeating: 0, count: x.count)
        poolBackward(dy: R, h: h, w: w, c: c, dx: &dx)
        let f = fd(&x) { v in var o = [Float](repeating: 0, count: R.count); poolForward(v, h: h, w: w, c: c, out: &o); return dot(o, R) }
        XCTAssertLessThan(relErr(dx.map(Double.init), f), 1e-3, "pool")
        var s = rand(h / 2 * w / 2 * c)
        let R2 = rand(h * w * c)
        var ds = [Float](repeating: 0, count: s.count)
        upsampleBackward(dy: R2, h: h, w: w, c: c, dx: &ds)
        let f2 = fd(&s) { v in var o = [Float](repeating: 0, count: R2.count); upsampleAdd(v, h: h, w: w, c: c, out: &o); return dot(o, R2) }
        XCTAssertLessThan(relErr(ds.map(Double.init), f2), 1e-3, "upsample")
    }

    func testInstanceNorm() {
        let p = 9, c = 3
        var x = rand(p * c), g = rand(c).map { $0 + 1.5 }, b = rand(c)
        let R = rand(p * c)
        func fwd(_ x: [Float], _ g: [Float], _ b: [Float]) -> Double {
            var xn = [Float](repeating: 0, count: p * c), inv = [Float](repeating: 0, count: c), o = [Float](repeating: 0, count: p * c)
            normForward(x, p: p, c: c, gamma: g, beta: b, xn: &xn, inv: &inv, out: &o)
            return dot(o, R)
        }
        var xn = [Float](repeating: 0, count: p * c), inv = [Float](repeating: 0, count: c), o = [Float](repeating: 0, count: p * c)
        normForward(x, p: p, c: c, gamma: g, beta: b, xn: &xn, inv: &inv, out: &o)
        var dg = [Float](repeating: 0, count: c), db = [Float](repeating: 0, count: c), dx = [Float](repeating: 0, count: p * c)
        var tmp = [Float](repeating: 0, count: 2 * c)
        normBackward(xn: xn, inv: inv, p: p, c: c, gamma: g, dy: R, dgamma: &dg, dbeta: &db, dx: &dx, tmp: &tmp)
        let fx = fd(&x, eps: 1e-3) { fwd($0, g, b) }
        let fg = fd(&g, eps: 1e-3) { fwd(x, $0, b) }
        let fb = fd(&b, eps: 1e-3) { fwd(x, g, $0) }
        XCTAssertLessThan(relErr(dx.map(Double.init), fx), 5e-3, "norm dx")
        XCTAssertLessThan(relErr(dg.map(Double.init), fg), 5e-3, "norm dgamma")
        XCTAssertLessThan(relErr(db.map(Double.init), fb), 5e-3, "norm dbeta")
    }

    func testLinearAndMeanPool() {
        let nin = 5, nout = 4
        var x = rand(nin), wt = rand(nin * nout), b = rand(nout)
        let R = rand(nout)
        func fwd(_ x: [Float], _ wt: [Float], _ b: [Float]) -> Double {
            var o = [Float](repeating: 0, count: nout); linearForward(x, nin: nin, weight: wt, bias: b, nout: nout, out: &o); return dot(o, R)
        }
        var dw = [Float](repeating: 0, count: wt.count), db = [Float](repeating: 0, count: nout), dx = [Float](repeating: 0, count: nin)
        linearBackward(x, nin: nin, weight: wt, nout: nout, dy: R, dw: &dw, db: &db, dx: &dx)
        XCTAssertLessThan(relErr(dx.map(Double.init), fd(&x) { fwd($0, wt, b) }), 1e-3)
        XCTAssertLessThan(relErr(dw.map(Double.init), fd(&wt) { fwd(x, $0, b) }), 1e-3)
        XCTAssertLessThan(relErr(db.map(Double.init), fd(&b) { fwd(x, wt, $0) }), 1e-3)
        // mean pool: ∂/∂x = R[c]/P
        let p = 6, c = 2
        var y = rand(p * c)
        let Rc = rand(c)
        let f = fd(&y) { v in var o = [Float](repeating: 0, count: c); meanPoolForward(v, p: p, c: c, out: &o); return dot(o, Rc) }
        let a = (0..<(p * c)).map { Double(Rc[$0 % c]) / Double(p) }
        XCTAssertLessThan(relErr(a, f), 1e-3)
    }
}
