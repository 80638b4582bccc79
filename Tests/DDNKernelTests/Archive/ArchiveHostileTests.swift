import XCTest
@testable import DDNKernel

/// Corrupt archives and unsafe names (issue 5 items 4 and 5): always a typed error, never a crash,
/// never a large allocation, never a file outside the target folder.
final class ArchiveHostileTests: XCTestCase {
    /// Parses and fully decodes; returns the error, nil when everything decoded.
    /// Coders with the DDN coder over a tiny model, so that DDN entries are parsed and decoded too.
    static let ddnCoders = try! CoderSet.standard(model: DDNCoderTests.tinySingleShot())

    func openAll(_ bytes: [UInt8], maxPixels: Int = 1 << 16) -> Error? {
        do {
            let reader = try ArchiveReader(bytes, coders: Self.ddnCoders, maxPixels: maxPixels)
            if let first = reader.restoreAll(threads: 1).first(where: { (try? $0.file.get()) == nil }) {
                _ = try first.file.get()
            }
            return nil
        } catch { return error }
    }

    func smallArchive(version: UInt8 = ArchiveHeader.currentVersion) throws -> [UInt8] {
        var writer = ArchiveWriter()
        writer.formatVersion = version
        return try writer.write(Array(try ArchiveFormatTests.mixedInputs().suffix(4))).archive
    }

    /// An archive whose entries are coded by the DDN coder (8×12 grey images of the tiny model).
    func ddnArchive(version: UInt8 = ArchiveHeader.currentVersion) throws -> [UInt8] {
        var writer = ArchiveWriter()
        writer.formatVersion = version
        writer.coders = Self.ddnCoders
        let inputs = try DDNCoderTests.images(3, seed: 5).enumerated().map { i, image in
            ArchiveInput(name: "d\(i).png", bytes: try PNGWriter.encode(PNGImage(pixels: image, colorType: .gray)))
        }
        let (archive, reports) = try writer.write(inputs)
        XCTAssertTrue(reports.contains { $0.coder == CoderID.ddn })
        return archive
    }

    func testTruncationAtEveryOffset() throws {
        for version: UInt8 in [2, 3] {
            let archive = try smallArchive(version: version)
            XCTAssertNil(openAll(archive))
            for n in 0..<archive.count {
                let e = openAll(Array(archive[0..<n]))
                XCTAssertNotNil(e, "version \(version) truncated at \(n) accepted")
                XCTAssertTrue(e is ArchiveError, "\(String(describing: e))")
            }
        }
    }

    /// Every single-bit flip is detected — or repaired (a damaged name byte, by the entry's
    /// CRC-32): nothing restored ever differs from the undamaged archive's files and names.
    func testEverySingleBitFlipIsDetectedOrRepaired() throws {
      for version: UInt8 in [2, 3] {
        let archive = try smallArchive(version: version)
        func files(_ bytes: [UInt8]) -> [String: [UInt8]]? {
            guard let reader = try? ArchiveReader(bytes, coders: Self.ddnCoders) else { return nil }
            var out: [String: [UInt8]] = [:]
            for o in reader.restoreAll(threads: 1) { if let f = try? o.file.get() { out[o.name] = f } }
            return out
        }
        let original = files(archive)!
        var rng = SplitMix64(seed: 21)
        var repaired = 0
        for _ in 0..<1500 {
            var bytes = archive
            let bit = rng.below(archive.count * 8)
            bytes[bit / 8] ^= UInt8(1 << (bit % 8))
            guard let restored = files(bytes) else { continue }
            for (name, file) in restored { XCTAssertEqual(original[name], file, "flip of bit \(bit): \(name)") }
            if openAll(bytes) == nil { repaired += 1; XCTAssertEqual(restored, original, "flip of bit \(bit)") }
        }
        print("version \(version) single-bit flips: \(repaired) of 1500 repaired in full, the others detected")
      }
    }

    /// Seeded mutations (versions 2 and 3 have per-entry and per-block CRCs only: the parser and
    /// decoders see them).
    /// `DDN_FUZZ_SECONDS=600` turns it into a long fuzz run (prints the inputs tried).
    func testMutationsNeverCrash() throws {
        let seeds = [try smallArchive(version: 2), try ArchiveWriter.version2.write(try ArchiveFormatTests.mixedInputs()).archive, try ddnArchive(version: 2),
                     try smallArchive(), try ArchiveWriter().write(try ArchiveFormatTests.mixedInputs()).archive, try ddnArchive(),
                     try ArchiveBlockTests.write(try ArchiveBlockTests.inputs(6, seed: 3), block: 2)]
        let seconds = Double(ProcessInfo.processInfo.environment["DDN_FUZZ_SECONDS"] ?? "") ?? 0
        let seed = UInt64(ProcessInfo.processInfo.environment["DDN_FUZZ_SEED"] ?? "") ?? 22
        var rng = SplitMix64(seed: seed)
        var tried = 0, accepted = 0
        let start = Date()
        while seconds > 0 ? Date().timeIntervalSince(start) < seconds : tried < 3000 {
            var body = seeds[tried % seeds.count]
            for _ in 0..<(1 + rng.below(4)) {
                let i = rng.below(body.count)
                switch rng.below(5) {
                case 0: body[i] ^= UInt8(1 << rng.below(8))
                case 1: body[i] = UInt8(rng.below(256))
                case 2: body.insert(UInt8(rng.below(256)), at: i)
                case 3: body.remove(at: i)
                default: body[i] = [0, 0x7F, 0x80, 0xFF][rng.below(4)]
                }
            }
            if openAll(body) == nil { accepted += 1 }
            tried += 1
        }
        print("archive mutation fuzz: seed \(seed), \(tried) inputs in \(Int(Date().timeIntervalSince(start))) s, \(accepted) decoded without error, 0 crashes")
    }

    /// Seeded mutations of PNG files (chunk CRCs fixed up, so libpng sees them): an error or a
    /// result, never a crash. `DDN_FUZZ_SECONDS` applies here too.
    func testPNGMutationsNeverCrash() throws {
        let inputs = try ArchiveFormatTests.mixedInputs().map(\.bytes)
        let seconds = Double(ProcessInfo.processInfo.environment["DDN_FUZZ_SECONDS"] ?? "") ?? 0
        var rng = SplitMix64(seed: 23)
        var tried = 0
        let start = Date()
        while seconds > 0 ? Date().timeIntervalSince(start) < seconds : tried < 2000 {
            var file = inputs[tried % inputs.count]
            for _ in 0..<(1 + rng.below(3)) {
                let i = 8 + rng.below(file.count - 8)
                file[i] = rng.below(2) == 0 ? UInt8(rng.below(256)) : file[i] ^ UInt8(1 << rng.below(8))
            }
            // Recompute every chunk's CRC where the framing still holds.
            var pos = 8
            while pos + 12 <= file.count {
                let n = Int(file[pos]) << 24 | Int(file[pos + 1]) << 16 | Int(file[pos + 2]) << 8 | Int(file[pos + 3])
                guard n >= 0, n <= file.count - pos - 12 else { break }
                let crc = PNGFixture.be32(crc32(Array(file[(pos + 4)..<(pos + 8 + n)])))
                file.replaceSubrange((pos + 8 + n)..<(pos + 12 + n), with: crc)
                pos += 12 + n
            }
            if case .image(let png)? = try? PNGReader(maxPixels: 1 << 16).read(file) { _ = try? PNGWriter.encode(png) }
            tried += 1
        }
        print("PNG mutation fuzz: \(tried) inputs in \(Int(Date().timeIntervalSince(start))) s, 0 crashes")
    }

    func testHugeCountsFailAtOnce() {
        // Version 1: 2^32 − 1 entries.
        var body: [UInt8] = [0x44, 0x44, 0x4E, 0x5A, 1, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F]
        var e = openAll(body + PNGFixture.be32(crc32(body)))
        guard case .lengthExceedsData? = e as? ArchiveError else { return XCTFail("\(String(describing: e))") }
        // A 2^31-byte statistics blob.
        body = [0x44, 0x44, 0x4E, 0x5A, 2, 2, 0x80, 0x80, 0x80, 0x80, 0x08, 0]
        e = openAll(body)
        guard case .lengthExceedsData? = e as? ArchiveError else { return XCTFail("\(String(describing: e))") }
        // One stored entry claiming a 2^31-byte payload: no entry reads.
        body = [0x44, 0x44, 0x4E, 0x5A, 2, 0, 0x00, 5] + Array("a.png".utf8) + [0x80, 0x80, 0x80, 0x80, 0x02, 0, 0, 0, 0, 7, 1]
        let reader = try! ArchiveReader(body)
        XCTAssertTrue(reader.entries.isEmpty)
        XCTAssertFalse(reader.unreadable.isEmpty)
        // A 65535 × 65535 entry is refused before decoding.
        var entry = ArchiveEntry()
        entry.name = "big.png"; entry.coder = CoderID.classical; entry.width = 65535; entry.height = 65535
        entry.colorType = 0; entry.bitDepth = 8; entry.payload = [0]
        body = ArchiveHeader.version2.serialized() + entry.serialized(after: EntryPredecessor(), headerCRC: 0) { $0 } + [7, 1]
        let big = try! ArchiveReader(body, maxPixels: 1 << 26)
        guard case .overPixelLimit? = big.problems[0] else { return XCTFail("\(big.problems)") }   // reported, never decoded
        XCTAssertNotNil(openAll(body, maxPixels: 1 << 26))
    }

    /// An archive holding one stored entry with any name (the writer would refuse the name).
    func archive(named name: String) -> [UInt8] {
        var entry = ArchiveEntry()
        entry.name = name
        entry.coder = CoderID.stored
        entry.payload = [1, 2, 3]
        let header = ArchiveHeader.version2.serialized()
        return header + entry.serialized(after: EntryPredecessor(), headerCRC: crc32(header)) { $0 } + [7, 1]
    }

    func testUnsafeNamesAreRefused() throws {
        XCTAssertNil(openAll(archive(named: "ok.png")))
        XCTAssertNil(openAll(archive(named: "train/3/ok.png")))
        for name in ["../a.png", "/tmp/b.png", "..\\c.png", "a\0b.png", "..", ".", "", "a//b.png", "a/../b.png", "a/", "./a.png"] {
            XCTAssertThrowsError(try ArchiveEntry.validateName(name), name)
            XCTAssertThrowsError(try ArchiveWriter().write([ArchiveInput(name: name, bytes: [])]), name)
            let e = openAll(archive(named: name))
            XCTAssertNotNil(e, name)
            // whole (its CRC-32 passes): refused for its name, not counted as damage (an empty
            // name cannot even be written as a name field)
            guard !name.isEmpty else { continue }
            let reader = try ArchiveReader(archive(named: name))
            let tally = reader.tally(reader.restoreAll(threads: 1))
            XCTAssertEqual([tally.restored, tally.refused, tally.damaged, tally.lost], [0, 1, 0, 0], name)
            let error = try XCTUnwrap(reader.restore(batch: [0]).first.flatMap { r -> ArchiveError? in
                if case .failure(let e) = r { return e as? ArchiveError } else { return nil } }, name)
            XCTAssertTrue(error.isRefusedName, "\(name): \(error)")
        }
        XCTAssertEqual(ArchiveError.unsafeName("/a.png").refusalLine,
                       "entry \"/a.png\" refused for its unsafe name (absolute); it is not damaged, and not restored")
        XCTAssertEqual(ArchiveError.unsafeness(of: "a/../b.png"), "a .. component")
        XCTAssertNil(ArchiveError.pixelChecksumMismatch(entry: "a.png").refusalLine)
        XCTAssertThrowsError(try ArchiveEntry.validateName(String(repeating: "x", count: 256)))
        XCTAssertNoThrow(try ArchiveEntry.validateName(String(repeating: "x/", count: 500) + "y"))
        XCTAssertThrowsError(try ArchiveEntry.validateName(String(repeating: "x/", count: 512) + "y"))
        // The extractor refuses too, and writes nothing outside its folder.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ddnz-names-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dir) }
        let inner = dir.appendingPathComponent("out").path
        XCTAssertThrowsError(try ArchiveExtractor.write([[1]], names: ["../escape.png"], into: inner, overwrite: true))
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("escape.png").path))
    }

    func testDuplicateNamesRefused() throws {
        let input = ArchiveInput(name: "a.png", bytes: [])
        XCTAssertThrowsError(try ArchiveWriter().write([input, input]))
    }

    func testExtractorNeverOverwritesUnasked() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ddnz-over-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Files.makeFolder(dir)
        FileManager.default.createFile(atPath: dir + "/b.png", contents: Data([9]))
        // the existing file is left and named; the others are still written
        let skipped = try ArchiveExtractor.write([[1], [2], [3]], names: ["a.png", "b.png", "c.png"], into: dir, overwrite: false)
        XCTAssertEqual(skipped, ArchiveExtractor.Outcome(written: 2, existing: [dir + "/b.png"], failed: []))
        XCTAssertEqual(FileManager.default.contents(atPath: dir + "/a.png"), Data([1]))
        XCTAssertEqual(FileManager.default.contents(atPath: dir + "/b.png"), Data([9]))
        XCTAssertEqual(try ArchiveExtractor.write([[1], [2]], names: ["a.png", "b.png"], into: dir, overwrite: true).written, 2)
        XCTAssertEqual(FileManager.default.contents(atPath: dir + "/b.png"), Data([2]))
    }
}
