import XCTest
@testable import DDNKernel

/// The byte layout of Spec/ARCHIVE.md: the test vector, round trips, thread-count invariance.
final class ArchiveFormatTests: XCTestCase {
    /// Spec/ARCHIVE.md §6.
    static let vector: [UInt8] = [
        0x44, 0x44, 0x4E, 0x5A, 0x01, 0x00, 0x01,
        0x00, 0x05, 0x61, 0x2E, 0x70, 0x6E, 0x67,
        0x03,
        0x6C, 0xDB, 0xFD, 0x72,
        0x00, 0x02, 0x01, 0x00, 0x08,
        0x02, 0x00, 0xFF,
        0x6D, 0x56, 0xF6, 0xC6,
    ]

    func testVectorIsWrittenExactly() throws {
        let png = PNGImage(pixels: PixelImage(width: 2, height: 1, channels: 1, bitDepth: 8, samples: [0, 255]), colorType: .gray)
        var writer = ArchiveWriter()
        writer.coders = CoderSet(coders: [RawSamplesCoder()], candidates: [CoderID.rawSamples])
        writer.statisticsPolicy = .never
        let (bytes, _) = try writer.write([ArchiveInput(name: "a.png", bytes: try PNGWriter.encode(png))])
        XCTAssertEqual(bytes, Self.vector)
    }

    func testVectorReads() throws {
        let reader = try ArchiveReader(Self.vector)
        XCTAssertEqual(reader.header.version, 1)
        XCTAssertFalse(reader.header.hasModel)
        XCTAssertEqual(reader.entries.map(\.name), ["a.png"])
        XCTAssertEqual(try reader.decodePixels(0).pixels.samples, [0, 255])
    }

    func testHeaderSizeMatchesBytes() {
        var h = ArchiveHeader()
        h.entryCount = 300
        h.statistics = [1, 2, 3]
        h.modelIdentity = [UInt8](repeating: 7, count: 32)
        XCTAssertEqual(h.serializedSize, h.serialized().count)
        var r = ByteReader(h.serialized())
        XCTAssertThrowsError(try ArchiveHeader.read(from: &r))  // 300 entries cannot fit in 0 bytes
    }

    /// A mixed archive: many formats, a palette image with chunks, a stored file.
    static func mixedInputs() throws -> [ArchiveInput] {
        var rng = SplitMix64(seed: 11)
        var inputs: [ArchiveInput] = []
        for (i, (ct, depth)) in PNGFixture.allFormats.enumerated() {
            var png = PNGFixture.randomPNG(width: 5 + i, height: 3, colorType: ct, bitDepth: depth, interlaced: i % 3 == 0, rng: &rng)
            if i % 4 == 0 { png.chunks = [PNGChunk(type: Array("tEXt".utf8), position: .afterIDAT, data: Array("k\0v\(i)".utf8))] }
            inputs.append(ArchiveInput(name: "img-\(i).png", bytes: try PNGWriter.encode(png)))
        }
        for i in 0..<6 {  // same-shape smooth images (repeated shapes, learned statistics)
            let samples = (0..<(12 * 12)).map { UInt16(($0 % 12 + $0 / 12 + i) * 10) }
            let png = PNGImage(pixels: PixelImage(width: 12, height: 12, channels: 1, bitDepth: 8, samples: samples), colorType: .gray)
            inputs.append(ArchiveInput(name: "same-\(i).png", bytes: try PNGWriter.encode(png)))
        }
        let plain = try PNGWriter.encode(PNGFixture.randomPNG(width: 4, height: 4, colorType: .gray, bitDepth: 8, rng: &rng))
        inputs.append(ArchiveInput(name: "trailing.png", bytes: plain + [1, 2, 3]))
        return inputs
    }

    func testNamesCountedOn() throws {
        func c(_ s: String) -> String? { ArchiveEntry.countedOn(Array(s.utf8)).map { String(decoding: $0, as: UTF8.self) } }
        XCTAssertEqual(c("test-00000.png"), "test-00001.png")
        XCTAssertEqual(c("a-09.png"), "a-10.png")
        XCTAssertEqual(c("x1y-0199"), "x1y-0200")
        XCTAssertNil(c("a-99.png"))
        XCTAssertNil(c("plain.png"))
        // A run of counted names, a wrap that is not countable, and a break in the sequence.
        let names = ["s-08.png", "s-09.png", "s-10.png", "s-11.png", "s-99.png", "t-00.png", "t-01.png", "t-05.png"]
        let bytes = try PNGWriter.encode(PNGImage(pixels: PixelImage(width: 1, height: 1, channels: 1, bitDepth: 8, samples: [7]), colorType: .gray))
        let inputs = names.map { ArchiveInput(name: $0, bytes: bytes) }
        let (archive, _) = try ArchiveWriter().write(inputs)
        XCTAssertEqual(try ArchiveReader(archive).entries.map(\.name), names)
        // Counted names cost no name bytes: the archive is smaller than with unrelated names.
        let (other, _) = try ArchiveWriter().write(names.indices.map { ArchiveInput(name: "n\(Character(UnicodeScalar(97 + $0)!)).png", bytes: bytes) })
        XCTAssertLessThan(archive.count, other.count)
    }

    func testMixedRoundTrip() throws {
        let inputs = try Self.mixedInputs()
        let (archive, reports) = try ArchiveWriter().write(inputs)
        XCTAssertEqual(reports.last?.coder, CoderID.stored)
        let reader = try ArchiveReader(archive)
        XCTAssertEqual(reader.entries.map(\.name), inputs.map(\.name))
        for (i, input) in inputs.enumerated() {
            let restored = try reader.restore(i)
            switch try PNGReader().read(input.bytes) {
            case .verbatim: XCTAssertEqual(restored, input.bytes)
            case .image(let png):
                guard case .image(let back) = try PNGReader().read(restored) else { return XCTFail() }
                XCTAssertEqual(back, png, input.name)
            }
        }
    }

    func testStatisticsPolicies() throws {
        let inputs = try Self.mixedInputs()
        for policy in [ArchiveWriter.StatisticsPolicy.never, .always, .auto] {
            var w = ArchiveWriter()
            w.statisticsPolicy = policy
            let (archive, _) = try w.write(inputs)
            let reader = try ArchiveReader(archive)
            if policy == .never { XCTAssertTrue(reader.header.statistics.isEmpty) }
            if policy == .always { XCTAssertFalse(reader.header.statistics.isEmpty) }
            for i in reader.entries.indices { _ = try reader.restore(i) }
        }
    }

    func testSameBytesForEveryThreadCount() throws {
        let inputs = try Self.mixedInputs()
        var results: [[UInt8]] = []
        for threads in [1, 2, 3, 8] {
            var w = ArchiveWriter()
            w.threads = threads
            results.append(try w.write(inputs).archive)
        }
        for r in results.dropFirst() { XCTAssertEqual(r, results[0]) }
        let reader = try ArchiveReader(results[0])
        XCTAssertEqual(try ArchiveExtractor.restoreAll(reader, threads: 1), try ArchiveExtractor.restoreAll(reader, threads: 2))
    }

    func testModelIdentity() throws {
        var w = ArchiveWriter()
        w.modelIdentity = [UInt8](repeating: 0xAB, count: 32)
        let (archive, _) = try w.write(Array(try Self.mixedInputs().prefix(2)))
        let reader = try ArchiveReader(archive)
        XCTAssertTrue(reader.header.hasModel)
        XCTAssertNoThrow(try reader.checkModel([UInt8](repeating: 0xAB, count: 32)))
        XCTAssertThrowsError(try reader.checkModel(nil))
    }
}
