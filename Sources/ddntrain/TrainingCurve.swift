import DDNKernel
import Foundation

/// The training curve: bits per sub-pixel against steps, the training estimate (the running
/// average the progress line shows) and the held-out measurements (each checkpoint's and the
/// final one). Drawn as an RGB PNG by `PNGWriter`: gridlines at round values, tick labels in
/// `PixelFont`, no plotting library.
struct TrainingCurve {
    /// One measurement: bits per sub-pixel after `step` steps.
    struct Point: Equatable {
        var step: Int
        var bpsp: Double
    }

    /// Training estimates, every `stride`-th step.
    private(set) var train: [Point] = []
    /// Held-out measurements, in step order.
    private(set) var heldOut: [Point] = []
    /// Steps between kept training estimates: doubled (and every other point dropped) whenever
    /// more than `maxPoints` are kept, so a long run keeps an even sample of bounded size.
    private var stride = 1
    static let maxPoints = 2000

    /// Records the training estimate after `step` steps (kept when `step` is on the stride).
    mutating func addTrain(step: Int, bpsp: Double) {
        guard bpsp.isFinite, step % stride == 0 else { return }
        train.append(Point(step: step, bpsp: bpsp))
        if train.count > Self.maxPoints {
            stride *= 2
            train = train.filter { $0.step % stride == 0 }
        }
    }

    /// Records a held-out measurement after `step` steps.
    mutating func addHeldOut(step: Int, bpsp: Double) {
        guard bpsp.isFinite else { return }
        heldOut.append(Point(step: step, bpsp: bpsp))
    }

    /// Writes the curve as a PNG file at `path` (through a temporary file, then renamed).
    /// - Throws: `ImageError.cannotWrite` or the file system's error.
    func write(to path: String) throws {
        let png = PNGImage(pixels: image(), colorType: .rgb)
        try Data(PNGWriter.encode(png)).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    // MARK: - Drawing

    private typealias RGB = (UInt8, UInt8, UInt8)
    private static let background: RGB = (255, 255, 255), grid: RGB = (222, 222, 222), ink: RGB = (40, 40, 40)
    private static let trainColour: RGB = (31, 119, 180), heldOutColour: RGB = (214, 39, 40)

    /// The picture: `width`×`height` RGB, 8 bits.
    func image(width: Int = 720, height: Int = 420) -> PixelImage {
        var canvas = Canvas(width: width, height: height, fill: Self.background)
        let scale = 2   // font pixels are 2×2
        let left = 64, right = width - 20, top = 36, bottom = height - 44
        // Ranges: x from step 0, y around every value, both out to round tick values.
        let all = train + heldOut
        let xMax = max(1, all.map(\.step).max() ?? 1)
        let xStep = max(1, Int(Self.niceStep(Double(xMax) / 6)))
        let xHi = (xMax + xStep - 1) / xStep * xStep
        var lo = all.map(\.bpsp).min() ?? 0, hi = all.map(\.bpsp).max() ?? 1
        if hi - lo < 1e-3 { lo -= 0.05; hi += 0.05 }
        let yStep = Self.niceStep((hi - lo) / 5)
        let yLo = (lo / yStep).rounded(.down) * yStep, yHi = (hi / yStep).rounded(.up) * yStep
        func px(_ step: Int) -> Int { left + Int((Double(step) / Double(xHi) * Double(right - left)).rounded()) }
        func py(_ v: Double) -> Int { bottom - Int(((v - yLo) / (yHi - yLo) * Double(bottom - top)).rounded()) }

        // Gridlines and tick labels.
        let decimals = max(0, min(4, Int(-log10(yStep).rounded(.down))))
        var v = yLo
        while v <= yHi + yStep / 2 {
            let y = py(v)
            canvas.line(left, y, right, y, Self.grid)
            let label = String(format: "%.\(decimals)f", v)
            canvas.text(label, x: left - 8 - PixelFont.textWidth(label, scale: scale), y: y - PixelFont.height * scale / 2, scale: scale, Self.ink)
            v += yStep
        }
        for s in Swift.stride(from: 0, through: xHi, by: xStep) {
            let x = px(s)
            canvas.line(x, top, x, bottom, Self.grid)
            let label = s >= 10_000 && s % 1000 == 0 ? "\(s / 1000)k" : "\(s)"
            canvas.text(label, x: x - PixelFont.textWidth(label, scale: scale) / 2, y: bottom + 8, scale: scale, Self.ink)
        }
        canvas.line(left, top, left, bottom, Self.ink)
        canvas.line(left, bottom, right, bottom, Self.ink)
        canvas.text("bits per sub-pixel", x: 8, y: 10, scale: scale, Self.ink)
        canvas.text("steps", x: right - PixelFont.textWidth("steps", scale: scale), y: height - 16, scale: scale, Self.ink)

        // Legend, top right: a line for train, a square for held-out.
        let legendHeldOut = right - PixelFont.textWidth("held-out", scale: scale)
        let legendTrain = legendHeldOut - 40 - PixelFont.textWidth("train", scale: scale)
        canvas.line(legendTrain - 26, 15, legendTrain - 6, 15, Self.trainColour, thick: true)
        canvas.text("train", x: legendTrain, y: 10, scale: scale, Self.ink)
        canvas.square(legendHeldOut - 12, 15, Self.heldOutColour)
        canvas.text("held-out", x: legendHeldOut, y: 10, scale: scale, Self.ink)

        // The data: train as a line, held-out as squares joined by a thin line.
        for (a, b) in zip(train, train.dropFirst()) {
            canvas.line(px(a.step), py(a.bpsp), px(b.step), py(b.bpsp), Self.trainColour, thick: true)
        }
        if train.count == 1 { canvas.square(px(train[0].step), py(train[0].bpsp), Self.trainColour) }
        for (a, b) in zip(heldOut, heldOut.dropFirst()) {
            canvas.line(px(a.step), py(a.bpsp), px(b.step), py(b.bpsp), Self.heldOutColour)
        }
        for p in heldOut { canvas.square(px(p.step), py(p.bpsp), Self.heldOutColour) }
        return canvas.image
    }

    /// The round value (1, 2 or 5 times a power of ten) at or above `raw`.
    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        let p = pow(10, log10(raw).rounded(.down))
        return [1.0, 2, 5, 10].map { $0 * p }.first { $0 >= raw * (1 - 1e-9) } ?? 10 * p
    }

    /// An RGB 8-bit pixel buffer; drawing outside it is clipped.
    private struct Canvas {
        let width: Int, height: Int
        var samples: [UInt16]

        init(width: Int, height: Int, fill: RGB) {
            self.width = width
            self.height = height
            samples = [UInt16](repeating: 0, count: width * height * 3)
            for i in 0..<(width * height) {
                samples[3 * i] = UInt16(fill.0); samples[3 * i + 1] = UInt16(fill.1); samples[3 * i + 2] = UInt16(fill.2)
            }
        }

        var image: PixelImage { PixelImage(width: width, height: height, channels: 3, bitDepth: 8, samples: samples) }

        mutating func set(_ x: Int, _ y: Int, _ c: RGB) {
            guard x >= 0, x < width, y >= 0, y < height else { return }
            let i = 3 * (y * width + x)
            samples[i] = UInt16(c.0); samples[i + 1] = UInt16(c.1); samples[i + 2] = UInt16(c.2)
        }

        /// Bresenham's line from (x0, y0) to (x1, y1); `thick` adds the pixel below each one.
        mutating func line(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, _ c: RGB, thick: Bool = false) {
            var x = x0, y = y0
            let dx = abs(x1 - x0), dy = -abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1
            var err = dx + dy
            while true {
                set(x, y, c)
                if thick { set(x, y + 1, c) }
                if x == x1 && y == y1 { break }
                let e2 = 2 * err
                if e2 >= dy { err += dy; x += sx }
                if e2 <= dx { err += dx; y += sy }
            }
        }

        /// A 7×7 square centred on (x, y).
        mutating func square(_ x: Int, _ y: Int, _ c: RGB) {
            for dy in -3...3 { for dx in -3...3 { set(x + dx, y + dy, c) } }
        }

        mutating func text(_ s: String, x: Int, y: Int, scale: Int, _ c: RGB) {
            var points: [(Int, Int)] = []
            PixelFont.draw(s, x: x, y: y, scale: scale) { points.append(($0, $1)) }
            for (px, py) in points { set(px, py, c) }
        }
    }
}
