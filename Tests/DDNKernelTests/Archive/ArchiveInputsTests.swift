import XCTest
@testable import DDNKernel

/// Entry names as zip and tar give them (Archive/ArchiveInputs.swift, Spec/ARCHIVE.md §3 Names).
final class ArchiveInputsTests: XCTestCase {
    func testEntryNameIsThePathAsGivenMadeRelative() {
        let cases: [(String, String)] = [
            ("train/3/x0.png", "train/3/x0.png"),
            ("./train/3/x0.png", "train/3/x0.png"),
            ("/tmp/data/x.png", "tmp/data/x.png"),
            ("//tmp//data/./x.png", "tmp/data/x.png"),
            ("../b/./c.png", "b/c.png"),
            ("../../c.png", "c.png"),
            ("data/../train/x.png", "train/x.png"),
            ("data/train/", "data/train"),
            (".", ""), ("..", ""), ("/", ""),
        ]
        for (path, name) in cases { XCTAssertEqual(Files.entryName(forPath: path), name, path) }
        // every non-empty result is a safe name
        for (path, name) in cases where !name.isEmpty { XCTAssertNoThrow(try ArchiveEntry.validateName(Files.entryName(forPath: path)), path) }
    }

    /// Folders: paths kept (or junked), subfolders walked with `recursive` and counted without.
    func testCollectInputs() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ddnz-inputs-\(getpid())-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for sub in ["d/a", "d/b/c"] { try Files.makeFolder(dir + "/" + sub) }
        for file in ["d/top.png", "d/notes.txt", "d/a/x.png", "d/b/c/x.PNG"] {
            FileManager.default.createFile(atPath: dir + "/" + file, contents: Data())
        }
        let prefix = Files.entryName(forPath: dir)
        let flat = try Files.collectInputs([dir + "/d"])
        XCTAssertEqual(flat.inputs.map(\.name), [prefix + "/d/top.png"])
        XCTAssertEqual(flat.leftOut, [Files.LeftOut(folder: dir + "/d", files: 2)])
        let deep = try Files.collectInputs([dir + "/d"], recursive: true)
        XCTAssertEqual(deep.inputs.map(\.name), ["a/x.png", "b/c/x.PNG", "top.png"].map { prefix + "/d/" + $0 })
        XCTAssertEqual(deep.leftOut, [])
        let junked = try Files.collectInputs([dir + "/d"], recursive: true, junkPaths: true)
        XCTAssertEqual(junked.inputs.map(\.name), ["x.png", "x.PNG", "top.png"])
        XCTAssertEqual(junked.refused.count, 0)
        let twice = try Files.collectInputs([dir + "/d/a/x.png", dir + "/d/b/../a/x.png"])
        XCTAssertEqual(twice.inputs.count, 1)
        XCTAssertEqual(twice.refused.map(\.path), [dir + "/d/b/../a/x.png"])
    }

    /// A file or folder name that is not valid UTF-8 cannot be an entry name: its PNG files are
    /// refused by their paths, shown with \xNN escapes (never dropped), or counted as left out.
    func testNamesNotUTF8AreRefusedByName() throws {
        XCTAssertEqual(Files.shown(path: Array("d/caf".utf8) + [0xE9] + Array(".png".utf8)), "d/caf\\xE9.png")
        XCTAssertEqual(Files.shown(path: Array("é/\u{1F600}".utf8) + [0xF0, 0x9F]), "é/\u{1F600}\\xF0\\x9F")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ddnz-utf8-\(getpid())-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Files.makeFolder(dir + "/d")
        FileManager.default.createFile(atPath: dir + "/d/ok.png", contents: Data())
        func raw(_ path: [UInt8]) -> [CChar] { (Array(dir.utf8) + path).map { CChar(bitPattern: $0) } + [0] }
        close(open(raw(Array("/d/caf".utf8) + [0xE9] + Array(".png".utf8)), O_CREAT | O_WRONLY, 0o644))
        close(open(raw(Array("/d/notes".utf8) + [0xE9] + Array(".txt".utf8)), O_CREAT | O_WRONLY, 0o644))
        XCTAssertEqual(mkdir(raw(Array("/d/s".utf8) + [0xFF]), 0o755), 0)
        close(open(raw(Array("/d/s".utf8) + [0xFF] + Array("/x.png".utf8)), O_CREAT | O_WRONLY, 0o644))
        let deep = try Files.collectInputs([dir + "/d"], recursive: true)
        XCTAssertEqual(deep.inputs.map(\.path), [dir + "/d/ok.png"])
        XCTAssertEqual(deep.refused.map(\.path), [dir + "/d/caf\\xE9.png", dir + "/d/s\\xFF/x.png"])
        XCTAssertEqual(deep.refusedLines.first, dir + "/d/caf\\xE9.png: " + Files.notUTF8Problem)
        let flat = try Files.collectInputs([dir + "/d"])
        XCTAssertEqual(flat.refused.map(\.path), [dir + "/d/caf\\xE9.png"])
        XCTAssertEqual(flat.leftOut, [Files.LeftOut(folder: dir + "/d", files: 1)])
    }
}
