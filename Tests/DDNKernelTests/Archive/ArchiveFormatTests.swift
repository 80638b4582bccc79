import XCTest
@testable import DDNKernel

/// The byte layout of Spec/ARCHIVE.md: the test vector, round trips, thread-count invariance.
final class ArchiveFormatTests: XCTestCase {
    /// Spec/ARCHIVE.md §7 (computed independently with Python's zlib.crc32): version 3.
    static let vector: [UInt8] = [
        0x44, 0x44, 0x4E, 0x5A, 0x03, 0x00, 0xCF, 0xBA, 0xAE, 0xBE,
        0x44, 0x44, 0x4E, 0x42, 0x01,
        0x03, 0x05, 0x61, 0x2E, 0x70, 0x6E, 0x67,
        0x02, 0x01, 0x08,
        0x02, 0x00,
        0x00, 0xFF,
        0xC9, 0x6C, 0x72, 0x0C,
        0x44, 0x44, 0x4E, 0x45, 0x01,
    ]

    /// The version-2 vector (Spec/ARCHIVE.md §7): written with `formatVersion = 2`, and read.
    static let vectorV2: [UInt8] = [
        0x44, 0x44, 0x4E, 0x5A, 0x02, 0x00, 0xCF, 0xBA, 0xAE, 0xBE,
        0x83, 0x05, 0x61, 0x2E, 0x70, 0x6E, 0x67,
        0x02, 0x01, 0x08,
        0x00, 0x00, 0xFF,
        0xDD, 0xB9, 0x33, 0x4E,
        0x07, 0x01,
    ]

    /// The version-1 vector (Spec/ARCHIVE.md §8): archives of the previous version still read.
    static let vectorV1: [UInt8] = [
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
        for (version, vector) in [(UInt8(3), Self.vector), (2, Self.vectorV2)] {
            var writer = ArchiveWriter()
            writer.formatVersion = version
            writer.coders = CoderSet(coders: [RawSamplesCoder()], candidates: [CoderID.rawSamples])
            writer.statisticsPolicy = .never
            let (bytes, _) = try writer.write([ArchiveInput(name: "a.png", bytes: try PNGWriter.encode(png))])
            XCTAssertEqual(bytes, vector, "version \(version)")
        }
    }

    func testVectorsRead() throws {
        for (vector, version) in [(Self.vector, 3), (Self.vectorV2, 2), (Self.vectorV1, 1)] {
            let reader = try ArchiveReader(vector)
            XCTAssertEqual(reader.header.version, UInt8(version))
            XCTAssertFalse(reader.header.hasModel)
            XCTAssertFalse(reader.foundDamage)
            XCTAssertEqual(reader.entries.map(\.name), ["a.png"])
            XCTAssertEqual(try reader.decodePixels(0).pixels.samples, [0, 255])
            let outcomes = reader.restoreAll(threads: 1)
            XCTAssertEqual(outcomes.map(\.name), ["a.png"])
            XCTAssertNoThrow(try outcomes[0].file.get())
        }
    }

    func testHeaderSizeMatchesBytes() {
        var h = ArchiveHeader()
        h.statistics = [1, 2, 3]
        h.modelIdentity = [UInt8](repeating: 7, count: 4)
        h.archiveID = 0x1234_5678
        XCTAssertEqual(h.serializedSize, h.serialized().count)
        XCTAssertEqual(h.serializedSize, 4 + 1 + 1 + 4 + 4 + 1 + 3)
        var r = ByteReader(h.serialized())
        XCTAssertEqual(try ArchiveHeader.read(from: &r), h)
    }

    /// Issue 9: a one-image archive of a 28×28 grey image spends at most 40 bytes beyond its
    /// payload (header with the model's identity, the entry's fields and CRC, the end record):
    /// the writer's default makes it version 2; forced to version 3 at most 50, whose block adds
    /// its magic, entry count and message length and whose end record its magic (Spec/ARCHIVE.md
    /// §3.4): bytes a collection pays once per block of 64.
    func testSmallArchiveOverhead() throws {
        let image = DDNCoderTests.images(1, seed: 3)[0]
        var writer = ArchiveWriter()
        writer.coders = ArchiveHostileTests.ddnCoders
        let png = PNGImage(pixels: PixelImage(width: 28, height: 28, channels: 1, bitDepth: 8,
                                              samples: (0..<784).map { UInt16(image.samples[$0 % image.samples.count]) }), colorType: .gray)
        var identity = [UInt8](repeating: 0xAB, count: 32); identity[0] = 1
        writer.modelIdentity = identity  // a model named, as the default model's entries do
        for (version, limit) in [(UInt8?.none, 40), (2, 40), (3, 50)] {
            writer.formatVersion = version
            let (archive, reports) = try writer.write([ArchiveInput(name: "test-00042.png", bytes: try PNGWriter.encode(png))])
            XCTAssertLessThanOrEqual(archive.count - reports[0].payloadBytes, limit, "version \(version)")
            XCTAssertTrue(try ArchiveReader(archive, coders: ArchiveHostileTests.ddnCoders).header.hasModel)
        }
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
        func files(_ threads: Int) -> [[UInt8]?] { reader.restoreAll(threads: threads).map { try? $0.file.get() } }
        XCTAssertEqual(files(1), files(2))
        XCTAssertFalse(files(2).contains(nil))
    }

    func testModelIdentity() throws {
        var w = ArchiveWriter()
        w.modelIdentity = [UInt8](repeating: 0xAB, count: 32)
        let (archive, _) = try w.write(Array(try Self.mixedInputs().prefix(2)))
        let reader = try ArchiveReader(archive)
        XCTAssertTrue(reader.header.hasModel)
        XCTAssertNoThrow(try reader.checkModel([UInt8](repeating: 0xAB, count: 32)))
        XCTAssertEqual(reader.header.modelIdentity.count, 4)
        var other = [UInt8](repeating: 0xAB, count: 32); other[3] = 0
        XCTAssertThrowsError(try reader.checkModel(other))
        XCTAssertThrowsError(try reader.checkModel(nil))
    }
}
