import Foundation
import XCTest
@testable import DDNKernel

/// Classical coder on PngSuite's 161 valid images (a measurement; runs with DDN_SUITE=path of a raw
/// dump: per image `w, h (UInt32 LE), channels, depth, palette (UInt8), PNG file size (UInt32 LE)`,
/// then `w·h·channels` UInt16 LE samples). Prints coded payload bytes against the PNG file bytes.
final class PNGSuiteBenchmark: XCTestCase {
    func testSuite() throws {
        guard let path = ProcessInfo.processInfo.environment["DDN_SUITE"],
              let data = FileManager.default.contents(atPath: path) else { throw XCTSkip("set DDN_SUITE") }
        let b = [UInt8](data)
        var p = 0
        func u32() -> Int { defer { p += 4 }; return Int(b[p]) | Int(b[p + 1]) << 8 | Int(b[p + 2]) << 16 | Int(b[p + 3]) << 24 }
        var images: [(PixelImage, Bool, Int)] = []
        while p < b.count {
            let w = u32(), h = u32()
            let c = Int(b[p]), bd = Int(b[p + 1]), pal = b[p + 2] != 0
            p += 3
            let size = u32()
            let n = w * h * c
            let s = (0..<n).map { UInt16(b[p + 2 * $0]) | UInt16(b[p + 2 * $0 + 1]) << 8 }
            p += 2 * n
            images.append((PixelImage(width: w, height: h, channels: c, bitDepth: bd, samples: s), pal, size))
        }
        let stats = ResidualStatistics.learnIfWorthwhile(from: images.map { $0.0 }, reconstructions: nil, palette: images.map { $0.1 })
        var alone = 0, shared = 0, png = 0, worse = 0
        for (img, pal, size) in images {
            var e = RangeEncoder()
            ClassicalCoder.encode(img, reconstruction: nil, statistics: nil, isPalette: pal, into: &e)
            let a = e.finish().count
            var e2 = RangeEncoder()
            ClassicalCoder.encode(img, reconstruction: nil, statistics: stats, isPalette: pal, into: &e2)
            let s = e2.finish().count
            alone += a; shared += s; png += size
            if a > size { worse += 1; print(String(format: "SUITE worse than its PNG: %dx%dx%d depth %d palette %d: %d vs PNG %d", img.width, img.height, img.channels, img.bitDepth, pal ? 1 : 0, a, size)) }
        }
        let st = stats.serialized().count
        print("SUITE \(images.count) images: PNG files \(png) bytes; classical payload alone \(alone); with shared statistics \(shared) + \(st) = \(shared + st); \(worse) images larger alone than their PNG file")
    }
}
