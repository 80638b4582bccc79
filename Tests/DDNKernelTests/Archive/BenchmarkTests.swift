import XCTest
@testable import DDNKernel

/// `Benchmark.run`: our own coding only (the command line runs cwebp and cjxl on `paths`).
final class BenchmarkTests: XCTestCase {
    func testMeasuresOurCodingAndListsTheFilesMeasured() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ddnz-bench-\(getpid())-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Files.makeFolder(dir)
        var rng = SplitMix64(seed: 3)
        for name in ["b.png", "a.png"] {
            let png = PNGFixture.randomPNG(width: 5, height: 4, colorType: .gray, bitDepth: 8, rng: &rng)
            FileManager.default.createFile(atPath: dir + "/" + name, contents: Data(try PNGWriter.encode(png)))
        }
        FileManager.default.createFile(atPath: dir + "/c.png", contents: Data("not a png".utf8))
        var options = BenchOptions()
        options.threads = 1
        let r = try Benchmark.run(folder: dir, options: options)
        XCTAssertEqual(r.paths, [dir + "/a.png", dir + "/b.png"])   // sorted, the unreadable one left out
        XCTAssertEqual([r.files, r.coded, r.refused], [3, 2, 1])
        XCTAssertEqual(r.subPixels, 40)
        XCTAssertGreaterThan(r.oneArchiveBytes, 0)
        XCTAssertGreaterThan(r.pngBestBytes, 0)
    }
}
