import XCTest
@testable import DDNKernel

/// Issue 5 §3, the coder: thousands of random small images, 1×1 extremes, a large image.
final class ClassicalCoderHostileTests: XCTestCase {
    func roundTrip(_ img: PixelImage, palette: Bool = false, stats: ResidualStatistics? = nil) throws {
        var e = RangeEncoder()
        ClassicalCoder.encode(img, reconstruction: nil, statistics: stats, isPalette: palette, into: &e)
        var d = RangeDecoder(e.finish())
        let back = try ClassicalCoder.decode(width: img.width, height: img.height, channels: img.channels, bitDepth: img.bitDepth,
                                             reconstruction: nil, statistics: stats, isPalette: palette, from: &d)
        XCTAssertEqual(back, img, "\(img.width)×\(img.height)×\(img.channels) at \(img.bitDepth) bits, palette \(palette)")
    }

    func testThousandsOfRandomSmallImages() throws {
        var rng = SplitMix64(seed: 2026)
        for _ in 0..<3000 {
            let w = 1 + rng.below(9), h = 1 + rng.below(9)
            let palette = rng.below(6) == 0
            let c = palette ? 1 : 1 + rng.below(4)
            let bd = [1, 2, 4, 8, 16][rng.below(palette ? 4 : 5)]
            let maxV = (1 << bd) - 1
            // Mix of uniform noise, constant runs and extremes.
            let style = rng.below(3)
            let samples = (0..<(w * h * c)).map { _ -> UInt16 in
                switch style {
                case 0: return UInt16(rng.below(maxV + 1))
                case 1: return rng.below(2) == 0 ? 0 : UInt16(maxV)
                default: return UInt16(maxV / 2)
                }
            }
            try roundTrip(PixelImage(width: w, height: h, channels: c, bitDepth: bd, samples: samples), palette: palette)
        }
    }

    func testOnePixelExtremes() throws {
        try roundTrip(PixelImage(width: 1, height: 1, channels: 1, bitDepth: 8, samples: [0]))
        try roundTrip(PixelImage(width: 1, height: 1, channels: 1, bitDepth: 8, samples: [255]))
        try roundTrip(PixelImage(width: 1, height: 1, channels: 4, bitDepth: 8, samples: [0, 0, 0, 0]))
        try roundTrip(PixelImage(width: 1, height: 1, channels: 4, bitDepth: 16, samples: [65535, 0, 65535, 0]))
    }

    /// 672×512 grey with smooth areas, edges and noise, with and without learned statistics.
    func testLargeImage() throws {
        var rng = SplitMix64(seed: 672)
        let w = 672, h = 512
        let samples = (0..<(w * h)).map { i -> UInt16 in
            let x = i % w, y = i / w
            let base = (x / 48 + y / 32) % 2 == 0 ? 40 : 200
            return UInt16(min(255, max(0, base + (x + y) / 16 + rng.below(7) - 3)))
        }
        let image = PixelImage(width: w, height: h, channels: 1, bitDepth: 8, samples: samples)
        try roundTrip(image)
        try roundTrip(image, stats: ResidualStatistics.learn(from: [image], reconstructions: nil))
    }
}
