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
        let image = PixelImage(width: W, height: H, channels: 1, bitDepth: 8, samples: pix.map(UInt16.init))
        try Data(PNGWriter.encode(PNGImage(pixels: image, colorType: .gray))).write(to: url)
    }
}
