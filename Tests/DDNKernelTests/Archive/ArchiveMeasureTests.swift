import XCTest
@testable import DDNKernel

/// `ArchiveWriter.measure`: the size of the archive `ddnzip` writes, and images made into PNG inputs.
final class ArchiveMeasureTests: XCTestCase {
    /// Images of every channel count come back from their PNG input with the same pixels, and the
    /// measure is the written archive's byte count, whatever the thread count.
    func testMeasureIsTheArchiveWritten() throws {
        var rng = SplitMix64(seed: 20)
        let types: [PNGColorType] = [.gray, .grayAlpha, .rgb, .rgba]
        var inputs: [ArchiveInput] = []
        for (i, type) in types.enumerated() {
            let image = PNGFixture.randomImage(width: 6, height: 5, colorType: type, bitDepth: 8, rng: &rng)
            let input = try ArchiveInput(name: "held-out/\(i).png", image: image)
            guard case .image(let png) = try PNGReader().read(input.bytes) else { return XCTFail("stored verbatim") }
            XCTAssertEqual(png.pixels, image)
            XCTAssertEqual(png.colorType, type)
            inputs.append(input)
        }
        let written = try ArchiveWriter().write(inputs).archive
        for threads in [1, 2] {
            let m = try ArchiveWriter.measure(inputs, coders: .standard, threads: threads)
            XCTAssertEqual(m, ArchiveMeasure(bytes: written.count, entries: 4, modelEntries: 0, subPixels: 30 * (1 + 2 + 3 + 4)))
            XCTAssertEqual(m.bpsp, Double(written.count * 8) / 300, accuracy: 1e-12)
        }
        XCTAssertThrowsError(try ArchiveWriter.measure(inputs + [inputs[0]], coders: .standard, threads: 1))
    }
}
