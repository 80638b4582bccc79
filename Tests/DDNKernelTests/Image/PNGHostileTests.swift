import XCTest
@testable import DDNKernel

/// Broken and unusual PNGs (issue 5 item 2): refused with a typed error, or kept verbatim.
final class PNGHostileTests: XCTestCase {
    let rows: [[UInt8]] = [[1, 2, 3], [4, 5, 6]]
    var valid: [UInt8] { PNGFixture.file(width: 3, height: 2, bitDepth: 8, colorType: 0, rows: rows) }

    func read(_ bytes: [UInt8], maxPixels: Int = 1 << 26) -> Result<PNGReader.Result, Error> {
        Result { try PNGReader(maxPixels: maxPixels).read(bytes) }
    }

    func assertRefused(_ bytes: [UInt8], _ expected: ImageError? = nil, file: StaticString = #filePath, line: UInt = #line) {
        switch read(bytes) {
        case .success: XCTFail("accepted", file: file, line: line)
        case .failure(let e):
            XCTAssertTrue(e is ImageError, "\(e)", file: file, line: line)
            if let expected { XCTAssertEqual(e as? ImageError, expected, file: file, line: line) }
            XCTAssertFalse("\(e)".contains("\n"), file: file, line: line)
        }
    }

    func assertVerbatim(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) throws {
        guard case .success(.verbatim) = read(bytes) else { return XCTFail("not stored verbatim", file: file, line: line) }
        let (archive, _) = try ArchiveWriter().write([ArchiveInput(name: "v.png", bytes: bytes)])
        XCTAssertEqual(try ArchiveReader(archive).restore(0), bytes, file: file, line: line)
    }

    func testValidFixtureReads() throws {
        guard case .success(.image(let png)) = read(valid) else { return XCTFail() }
        XCTAssertEqual(png.pixels.samples, [1, 2, 3, 4, 5, 6])
    }

    func testZeroWidthOrHeight() {
        for (w, h) in [(0, 2), (3, 0)] {
            assertRefused(PNGFixture.file(width: w, height: h, bitDepth: 8, colorType: 0, rows: rows))
        }
    }

    func testHugeIHDRRefusedBeforeAllocation() {
        let file = PNGFixture.file(width: 65535, height: 65535, bitDepth: 8, colorType: 0, rows: [[0]])
        assertRefused(file, .tooLarge(width: 65535, height: 65535, limit: 1 << 26))
        // The limit is configurable.
        if case .success = read(valid, maxPixels: 5) { XCTFail("limit ignored") }
    }

    func testTruncatedFiles() throws {
        let file = valid
        let idatStart = 8 + 25
        assertRefused(Array(file[0..<(idatStart + 12)]), .truncated)  // inside IDAT
        assertRefused(Array(file[0..<5]))
        assertRefused([])
        // Two IDAT chunks, cut after the first: image data incomplete.
        let raw = PNGFixture.zlibStored([0, 1, 2, 3, 0, 4, 5, 6])
        let two = PNGFixture.signature + PNGFixture.ihdr(width: 3, height: 2, bitDepth: 8, colorType: 0)
            + PNGFixture.chunk("IDAT", Array(raw[0..<6]))
        assertRefused(two)
        // Without IEND, image complete: stored byte for byte.
        try assertVerbatim(Array(file[0..<(file.count - 12)]))
    }

    func testBadCRCs() throws {
        let raw = PNGFixture.zlibStored([0, 1, 2, 3, 0, 4, 5, 6])
        let badIDAT = PNGFixture.signature + PNGFixture.ihdr(width: 3, height: 2, bitDepth: 8, colorType: 0)
            + PNGFixture.chunk("IDAT", raw, badCRC: true) + PNGFixture.chunk("IEND", [])
        assertRefused(badIDAT, .badCRC(chunk: "IDAT"))
        let badText = PNGFixture.file(width: 3, height: 2, bitDepth: 8, colorType: 0, rows: rows,
                                      before: [PNGFixture.chunk("tEXt", Array("k\0v".utf8), badCRC: true)])
        try assertVerbatim(badText)
    }

    func testBytesAfterIENDAreKept() throws {
        try assertVerbatim(valid + [0])
        try assertVerbatim(valid + Array("trailing garbage".utf8))
        try assertVerbatim(valid + valid)
    }

    func testAnimatedPNGIsKept() throws {
        let actl = PNGFixture.chunk("acTL", PNGFixture.be32(1) + PNGFixture.be32(0))
        try assertVerbatim(PNGFixture.file(width: 3, height: 2, bitDepth: 8, colorType: 0, rows: rows, before: [actl]))
    }

    func testNotAPNG() {
        assertRefused(Array("GIF89a not a png at all".utf8), .notPNG)
        var wrongType = valid
        wrongType[8 + 4 + 4 + 9] = 1  // colour type 1 (CRC now wrong too: either refusal is fine)
        assertRefused(wrongType)
        let unknownCritical = PNGFixture.file(width: 3, height: 2, bitDepth: 8, colorType: 0, rows: rows,
                                              before: [PNGFixture.chunk("CRIT", [1])])
        assertRefused(unknownCritical)
    }
}
