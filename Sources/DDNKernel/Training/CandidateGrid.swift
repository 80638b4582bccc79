import CPNG
import Foundation

/// A PNG picture of what the levels do, for a person to look at: per held-out image, one row per
/// level: the target, the chosen candidate (nearest), then all K candidates; grey 8-bit (first channel).
public enum CandidateGrid {
    public static func write(model: DDNModel, images: Dataset, to url: URL) throws {
        let cfg = model.config
        let w = cfg.width, h = cfg.height, K = cfg.candidates, L = cfg.levels, C = cfg.channels
        let gap = 2
        let cols = K + 2, rows = images.count * L
        let W = cols * (w + gap), H = rows * (h + gap) + images.count * 4
        var pix = [UInt8](repeating: 96, count: W * H)
        func put(_ img: [Float], row: Int, col: Int, yoff: Int) {
            for y in 0..<h { for x in 0..<w {
                let v = max(-1, min(1, img[(y * w + x) * C]))
                pix[(row * (h + gap) + yoff + y) * W + col * (w + gap) + x] = UInt8(((v + 1) * 127.5).rounded())
            } }
        }
        let scratch = model.makeScratch()
        for i in 0..<images.count {
            let x = DDNModel.floats(from: images.image(i).samples, bitDepth: images.bitDepth)
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
                let row = i * L + l, yoff = i * 4
                put(x, row: row, col: 0, yoff: yoff)
                put(model.fullResolution(r.candidates[best], depth: l + 1), row: row, col: 1, yoff: yoff)
                for k in 0..<K { put(model.fullResolution(r.candidates[k], depth: l + 1), row: row, col: k + 2, yoff: yoff) }
                xhat = r.candidates[best]
            }
        }
        try Data(PNGGrey.encode(width: W, height: H, pixels: pix)).write(to: url)
    }
}

/// Minimal 8-bit greyscale PNG writer (filter 0, zlib level 9) for pictures the trainer makes.
public enum PNGGrey {
    public static func encode(width: Int, height: Int, pixels: [UInt8]) -> [UInt8] {
        var raw = [UInt8](); raw.reserveCapacity((width + 1) * height)
        for y in 0..<height { raw.append(0); raw += pixels[(y * width)..<((y + 1) * width)] }
        var zp: UnsafeMutablePointer<UInt8>? = nil
        var zl = 0
        _ = raw.withUnsafeBufferPointer { cgz_zlib_compress($0.baseAddress, $0.count, &zp, &zl) }
        let z = Array(UnsafeBufferPointer(start: zp, count: zl))
        cgz_free(zp)
        var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        func be(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 255), UInt8((v >> 8) & 255), UInt8(v & 255)] }
        func chunk(_ type: String, _ data: [UInt8]) {
            let td = Array(type.utf8) + data
            out += be(UInt32(data.count)) + td
            out += be(td.withUnsafeBufferPointer { cpng_crc32(0, $0.baseAddress, $0.count) })
        }
        chunk("IHDR", be(UInt32(width)) + be(UInt32(height)) + [8, 0, 0, 0, 0])
        chunk("IDAT", z)
        chunk("IEND", [])
        return out
    }
}
