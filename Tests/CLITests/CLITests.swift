import DDNKernel
import Foundation
import XCTest

/// End-to-end tests of the built `ddnzip` and `ddnunzip` binaries: exact round trips, refusals
/// with one line on stderr, pipes, `--help`.
final class CLITests: XCTestCase {
    var work: URL!

    override func setUpWithError() throws {
        work = FileManager.default.temporaryDirectory.appendingPathComponent("ddnz-cli-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: work)
    }

    /// Where SwiftPM put the executables (next to the test binary on Linux).
    var products: URL {
        #if os(macOS)
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            return bundle.bundleURL.deletingLastPathComponent()
        }
        #endif
        return Bundle.main.bundleURL
    }

    struct Run {
        var status: Int32
        var stdout: Data
        var stderr: String
    }

    /// Runs a built tool (or the program at an absolute path) in `work` (no terminal), feeding `stdin`.
    @discardableResult
    func run(_ tool: String, _ args: [String], stdin: Data? = nil) throws -> Run {
        let p = Process()
        p.executableURL = tool.hasPrefix("/") ? URL(fileURLWithPath: tool) : products.appendingPathComponent(tool)
        p.arguments = args
        p.currentDirectoryURL = work
        let out = Pipe(), err = Pipe(), input = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = input
        try p.run()
        if let stdin { input.fileHandleForWriting.write(stdin) }
        try input.fileHandleForWriting.close()
        // Read both pipes before waiting (large outputs would block the child otherwise).
        nonisolated(unsafe) var stdoutData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { stdoutData = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let stderrData = err.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        p.waitUntilExit()
        return Run(status: p.terminationStatus, stdout: stdoutData, stderr: String(decoding: stderrData, as: UTF8.self))
    }

    /// Writes a few PNG files (several formats, one with chunks, one with bytes after IEND).
    func makeInputs() throws -> [String] {
        var names: [String] = []
        let formats: [(PNGColorType, Int)] = [(.gray, 1), (.gray, 16), (.rgb, 8), (.palette, 4), (.rgba, 16), (.grayAlpha, 8)]
        for (i, (ct, depth)) in formats.enumerated() {
            let c = ct.channels
            let samples = (0..<(9 * 7 * c)).map { UInt16(($0 * 7919 + i) % (ct == .palette ? 16 : 1 << depth)) }
            let palette: [UInt8] = ct == .palette ? (0..<48).map { UInt8($0 * 5) } : []
            let chunks = i == 2 ? [PNGChunk(type: Array("tEXt".utf8), position: .beforePLTE, data: Array("k\0v".utf8))] : []
            let png = PNGImage(pixels: PixelImage(width: 9, height: 7, channels: c, bitDepth: depth, samples: samples),
                               colorType: ct, palette: palette, interlaced: i == 3, chunks: chunks)
            var bytes = try PNGWriter.encode(png)
            if i == 5 { bytes += [0xDE, 0xAD] }  // stored verbatim
            let name = "in-\(i).png"
            try Data(bytes).write(to: work.appendingPathComponent(name))
            names.append(name)
        }
        return names
    }

    func file(_ name: String) -> Data? { FileManager.default.contents(atPath: work.appendingPathComponent(name).path) }

    func assertSamePNG(_ a: Data, _ b: Data, file: StaticString = #filePath, line: UInt = #line) throws {
        let ra = try PNGReader().read([UInt8](a)), rb = try PNGReader().read([UInt8](b))
        switch (ra, rb) {
        case (.image(let x), .image(let y)): XCTAssertEqual(x, y, file: file, line: line)
        case (.verbatim, .verbatim): XCTAssertEqual(a, b, file: file, line: line)
        default: XCTFail("one stored, one not", file: file, line: line)
        }
    }

    func assertOneLineError(_ r: Run, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertNotEqual(r.status, 0, file: file, line: line)
        let lines = r.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, r.stderr, file: file, line: line)
    }

    func testZipUnzipExact() throws {
        let names = try makeInputs()
        XCTAssertEqual(try run("ddnzip", ["-q", "a.ddnz"] + names).status, 0)
        let r = try run("ddnunzip", ["-q", "a.ddnz", "-d", "out"])
        XCTAssertEqual(r.status, 0, r.stderr)
        for name in names {
            let restored = try XCTUnwrap(file("out/" + name), name)
            try assertSamePNG(try XCTUnwrap(file(name)), restored)
        }
        XCTAssertEqual(file("out/in-5.png"), file("in-5.png"))  // stored byte for byte
        // List and test.
        let list = try run("ddnunzip", ["-l", "a.ddnz"])
        XCTAssertEqual(list.status, 0)
        let listed = String(decoding: list.stdout, as: UTF8.self).split(separator: "\n").map(String.init)
        XCTAssertTrue(listed.contains { $0.contains("in-3.png") })
        // columns line up whatever the entry (names start at the same column); coders by name; the total in bpsp
        let nameColumns = Set(names.compactMap { n in listed.first { $0.hasSuffix(n) }.map { $0.count - n.count } })
        XCTAssertEqual(nameColumns.count, 1, listed.joined(separator: "\n"))
        XCTAssertTrue(listed.contains { $0.contains("stored") } && listed.contains { $0.contains("classic") })
        XCTAssertTrue(listed.contains { $0.contains("needs no model") })
        XCTAssertTrue(listed.last?.contains("bpsp") ?? false)
        XCTAssertEqual(try run("ddnunzip", ["-t", "-q", "a.ddnz"]).status, 0)
    }

    /// `--block N`: N entries per solid block (format 3), listed as such; `--block 1` writes
    /// format 2; both restore exactly.
    func testBlockOption() throws {
        let names = try makeInputs()
        for (block, format, blocks) in [(2, 3, (names.count + 1) / 2), (1, 2, 0)] {
            XCTAssertEqual(try run("ddnzip", ["-q", "--block", "\(block)", "b\(block).ddnz"] + names).status, 0)
            let list = String(decoding: try run("ddnunzip", ["-l", "b\(block).ddnz"]).stdout, as: UTF8.self)
            XCTAssertTrue(list.contains("(archive format \(format))"), list)
            XCTAssertEqual(list.contains("\(names.count) entries in \(blocks) blocks"), format == 3, list)
            XCTAssertEqual(try run("ddnunzip", ["-q", "b\(block).ddnz", "-d", "out\(block)"]).status, 0)
            for name in names { try assertSamePNG(try XCTUnwrap(file(name)), try XCTUnwrap(file("out\(block)/" + name))) }
        }
    }

    func testFolderInputAndThreadInvariance() throws {
        _ = try makeInputs()
        try FileManager.default.createDirectory(at: work.appendingPathComponent("sub"), withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: work.path) where name.hasSuffix(".png") {
            try FileManager.default.moveItem(at: work.appendingPathComponent(name), to: work.appendingPathComponent("sub/" + name))
        }
        XCTAssertEqual(try run("ddnzip", ["-q", "-j", "1", "j1.ddnz", "sub"]).status, 0)
        XCTAssertEqual(try run("ddnzip", ["-q", "-j2", "j2.ddnz", "sub"]).status, 0)
        XCTAssertNotNil(file("j1.ddnz"))
        XCTAssertEqual(file("j1.ddnz"), file("j2.ddnz"))
    }

    func testRefusesToOverwrite() throws {
        let names = try makeInputs()
        try Data([1, 2, 3]).write(to: work.appendingPathComponent("a.ddnz"))
        assertOneLineError(try run("ddnzip", ["a.ddnz"] + names))
        XCTAssertEqual(file("a.ddnz"), Data([1, 2, 3]))
        XCTAssertEqual(try run("ddnzip", ["-q", "-f", "a.ddnz"] + names).status, 0)
        // an existing folder as the archive: named as such, with and without -f (which cannot replace it)
        try FileManager.default.createDirectory(at: work.appendingPathComponent("adir"), withIntermediateDirectories: true)
        for flags in [[], ["-f"]] {
            let folder = try run("ddnzip", flags + ["adir", names[0]])
            assertOneLineError(folder)
            XCTAssertEqual(folder.stderr, "ddnzip: adir is a folder; the first argument is the archive file to write (ddnzip ARCHIVE.ddnz FILE|DIR…)\n")
            XCTAssertFalse(folder.stderr.contains("-f"))
        }
    }

    /// Restores go on past conflicts (issue 20 item 2): one existing target is named and left as
    /// it was, every other entry is restored, and the exit status is 2; -n skips it quietly
    /// (status 0); -o and -f overwrite it.
    func testRestoreGoesOnPastExistingFiles() throws {
        let names = try makeInputs()
        XCTAssertEqual(try run("ddnzip", ["-q", "a.ddnz"] + names).status, 0)
        try FileManager.default.createDirectory(at: work.appendingPathComponent("out"), withIntermediateDirectories: true)
        try Data([7]).write(to: work.appendingPathComponent("out/in-2.png"))
        let r = try run("ddnunzip", ["a.ddnz", "-d", "out"])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertEqual(r.stderr, "ddnunzip: out/in-2.png exists; skipped (-f or -o overwrites, -n skips quietly)\n"
                       + "ddnunzip: restored 5 of 6 files into out; 1 existing file left as it was\n")
        XCTAssertEqual(file("out/in-2.png"), Data([7]))
        for name in names where name != "in-2.png" { try assertSamePNG(try XCTUnwrap(file(name)), try XCTUnwrap(file("out/" + name))) }
        // -q names no skipped file, as unzip -qq: the exit status (2) tells
        let quiet = try run("ddnunzip", ["-q", "a.ddnz", "-d", "out"])
        XCTAssertEqual(quiet.status, 2, quiet.stderr)
        XCTAssertEqual(quiet.stderr, "")
        // -n: quietly, status 0, nothing replaced
        let never = try run("ddnunzip", ["-q", "-n", "a.ddnz", "-d", "out"])
        XCTAssertEqual(never.status, 0, never.stderr)
        XCTAssertEqual(never.stderr, "")
        XCTAssertEqual(file("out/in-2.png"), Data([7]))
        assertOneLineError(try run("ddnunzip", ["-n", "-o", "a.ddnz", "-d", "out"]))
        // -o (and -f) overwrite
        for flag in ["-o", "-f"] {
            try Data([7]).write(to: work.appendingPathComponent("out/in-2.png"))
            let over = try run("ddnunzip", ["-q", flag, "a.ddnz", "-d", "out"])
            XCTAssertEqual(over.status, 0, over.stderr)
            try assertSamePNG(try XCTUnwrap(file("in-2.png")), try XCTUnwrap(file("out/in-2.png")))
        }
        // no temporary file left behind
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: work.appendingPathComponent("out").path).sorted(), names.sorted())
    }

    /// Entries whose folder cannot be created (a file in its place) are counted in the summary,
    /// which adds up to the entry count; plurals follow the count.
    func testSummaryCountsFilesThatCouldNotBeWritten() throws {
        let names = try makeInputs()
        let fm = FileManager.default
        try fm.createDirectory(at: work.appendingPathComponent("data/a"), withIntermediateDirectories: true)
        for (i, name) in names.enumerated() {
            try fm.moveItem(at: work.appendingPathComponent(name), to: work.appendingPathComponent(i == 0 ? "data/\(name)" : "data/a/\(name)"))
        }
        XCTAssertEqual(try run("ddnzip", ["-q", "-r", "n2.ddnz", "data"]).status, 0)
        try fm.createDirectory(at: work.appendingPathComponent("o/data"), withIntermediateDirectories: true)
        try Data("x\n".utf8).write(to: work.appendingPathComponent("o/data/a"))
        let r = try run("ddnunzip", ["n2.ddnz", "-d", "o"])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.hasSuffix("ddnunzip: restored 1 of \(names.count) files into o; \(names.count - 1) could not be written\n"), r.stderr)
        try fm.moveItem(at: work.appendingPathComponent("data/\(names[0])"), to: work.appendingPathComponent("one.png"))
        XCTAssertEqual(try run("ddnzip", ["-q", "one.ddnz", "one.png"]).status, 0)
        XCTAssertEqual(try run("ddnunzip", ["-t", "one.ddnz"]).stderr, "ddnunzip: 1 of 1 entry OK\n")
    }

    func testArchiveEqualToInputRefused() throws {
        let names = try makeInputs()
        let before = file(names[0])
        assertOneLineError(try run("ddnzip", ["-f", names[0]] + names))
        XCTAssertEqual(file(names[0]), before)
    }

    /// A broken input is skipped with one line naming it; the archive of the rest is written
    /// and the exit status is 2. A cut archive restores what it still holds, names the damage
    /// (every line `ddnunzip: …`) and exits non-zero; a missing archive is one line.
    func testCorruptInputsAndArchives() throws {
        let names = try makeInputs()
        try Data("not a png".utf8).write(to: work.appendingPathComponent("bad.png"))
        let skipped = try run("ddnzip", ["-q", "b.ddnz", "bad.png"] + names)
        XCTAssertEqual(skipped.status, 2, skipped.stderr)
        XCTAssertEqual(skipped.stderr, "ddnzip: skipped bad.png: not a PNG file\n")
        XCTAssertEqual(try ArchiveReader(Array(try XCTUnwrap(file("b.ddnz")))).entries.map(\.name), names)
        assertOneLineError(try run("ddnzip", ["c.ddnz", "bad.png"]))
        XCTAssertNil(file("c.ddnz"))
        // a name that cannot be stored, and a second input of the same name (./x.png is named x.png): skipped the same way
        try XCTUnwrap(file(names[0])).write(to: work.appendingPathComponent("win\\name.png"))
        let named = try run("ddnzip", ["-q", "n.ddnz", "win\\name.png", "./" + names[0]] + names)
        XCTAssertEqual(named.status, 2, named.stderr)
        XCTAssertEqual(named.stderr, "ddnzip: skipped win\\name.png: unsafe entry name \"win\\\\name.png\"\n"
                       + "ddnzip: skipped \(names[0]): two entries named \"\(names[0])\"\n")
        XCTAssertEqual(try ArchiveReader(Array(try XCTUnwrap(file("n.ddnz")))).entries.map(\.name), names)   // the first of the two
        XCTAssertEqual(try run("ddnzip", ["-q", "a.ddnz"] + names).status, 0)
        let archive = try XCTUnwrap(file("a.ddnz"))
        for cut in [0, 3, 10, archive.count / 2, archive.count - 1] {
            try archive.prefix(cut).write(to: work.appendingPathComponent("cut.ddnz"))
            let r = try run("ddnunzip", ["-q", "cut.ddnz", "-d", "cut-\(cut)"])
            XCTAssertNotEqual(r.status, 0, "cut at \(cut)")
            XCTAssertFalse(r.stderr.isEmpty)
            for line in r.stderr.split(separator: "\n") { XCTAssertTrue(line.hasPrefix("ddnunzip: "), String(line)) }
            if cut == archive.count - 1 {   // every entry is there, only the end record is cut
                XCTAssertEqual(r.stderr.split(separator: "\n").last, "ddnunzip: restored \(names.count) files into cut-\(cut); the archive is cut inside its end record")
            }
            for name in (try? FileManager.default.contentsOfDirectory(atPath: work.appendingPathComponent("cut-\(cut)").path)) ?? [] {
                try assertSamePNG(try XCTUnwrap(file(name)), try XCTUnwrap(file("cut-\(cut)/" + name)))
            }
        }
        // a damaged header byte (the archive id) is repaired by the entries' CRC-32: all restored, reported, exit 1
        var flipped = archive
        flipped[7] ^= 0x40
        try flipped.write(to: work.appendingPathComponent("flipped.ddnz"))
        let repaired = try run("ddnunzip", ["-q", "flipped.ddnz", "-d", "flipped"])
        XCTAssertEqual(repaired.status, 1, repaired.stderr)
        XCTAssertEqual(repaired.stderr, "ddnunzip: flipped.ddnz: header byte 7 was damaged; repaired by the entries' CRC-32\n"
                       + "ddnunzip: restored \(names.count) of \(names.count) files into flipped\n")
        for name in names { try assertSamePNG(try XCTUnwrap(file(name)), try XCTUnwrap(file("flipped/" + name))) }
        assertOneLineError(try run("ddnunzip", ["missing.ddnz"]))
    }

    /// `-u` adds files to an existing archive (replacing an entry of the same name) and keeps
    /// the others exact.
    func testUpdateAddsToAnArchive() throws {
        let names = try makeInputs()
        XCTAssertEqual(try run("ddnzip", ["-q", "u.ddnz"] + names.prefix(3)).status, 0)
        let r = try run("ddnzip", ["-q", "-u", "u.ddnz"] + names.suffix(4))   // one replaced, three added
        XCTAssertEqual(r.status, 0, r.stderr)
        let entries = try ArchiveReader(Array(try XCTUnwrap(file("u.ddnz")))).entries.map(\.name)
        XCTAssertEqual(entries, Array(names.prefix(2)) + Array(names.suffix(4)))
        XCTAssertEqual(try run("ddnunzip", ["-q", "u.ddnz", "-d", "u"]).status, 0)
        for name in names { try assertSamePNG(try XCTUnwrap(file(name)), try XCTUnwrap(file("u/" + name))) }
        assertOneLineError(try run("ddnzip", ["u.ddnz"] + names))   // without -u or -f: refused
    }

    /// `-u` keeps the archive's block size, and so its format (blocks of 2: format 3; `--block
    /// 1`: format 2), unless `--block` is given.
    func testUpdateKeepsTheBlockSize() throws {
        let names = try makeInputs()
        func reader(_ archive: String) throws -> ArchiveReader { try ArchiveReader(Array(try XCTUnwrap(file(archive)))) }
        for (block, format) in [(2, 3), (1, 2)] {
            let archive = "k\(block).ddnz"
            XCTAssertEqual(try run("ddnzip", ["-q", "--block", "\(block)", archive] + names.prefix(3)).status, 0)
            let r = try run("ddnzip", ["-q", "-u", archive] + names.suffix(3))
            XCTAssertEqual(r.status, 0, r.stderr)
            let updated = try reader(archive)
            XCTAssertEqual(updated.entries.count, 6)
            XCTAssertEqual(updated.header.version, UInt8(format), "--block \(block)")
            XCTAssertEqual(updated.blockSize(orAtLeast: ArchiveWriter.defaultBlockSize), block, "--block \(block)")
        }
        XCTAssertEqual(try run("ddnzip", ["-q", "-u", "--block", "4", "k2.ddnz", names[0]]).status, 0)
        XCTAssertEqual(try reader("k2.ddnz").blockCount, 2, "--block 4 given with -u")
    }

    /// `-r` keeps subfolder paths as entry names, the folder given included; `ddnunzip ARCHIVE
    /// PATTERN` restores only the matching entries, in their subfolders.
    func testSubfoldersAndSelectiveExtraction() throws {
        let names = try makeInputs()
        for (i, name) in names.enumerated() {
            let folder = work.appendingPathComponent("data/train/\(i % 2)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: work.appendingPathComponent(name), to: folder.appendingPathComponent(name))
        }
        XCTAssertEqual(try run("ddnzip", ["-q", "-r", "t.ddnz", "data"]).status, 0)
        let entries = try ArchiveReader(Array(try XCTUnwrap(file("t.ddnz")))).entries.map(\.name)
        XCTAssertEqual(Set(entries), Set(names.enumerated().map { "data/train/\($0.offset % 2)/\($0.element)" }))
        let r = try run("ddnunzip", ["-q", "t.ddnz", "data/train/1/*", "-d", "sel"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let restored = try FileManager.default.subpathsOfDirectory(atPath: work.appendingPathComponent("sel").path).filter { $0.hasSuffix(".png") }
        XCTAssertEqual(Set(restored), Set(entries.filter { $0.hasPrefix("data/train/1/") }))
        for path in restored { try assertSamePNG(try XCTUnwrap(file(path)), try XCTUnwrap(file("sel/" + path))) }
        assertOneLineError(try run("ddnunzip", ["t.ddnz", "nothing/*", "-d", "none"]))
    }

    /// Writes `data/{train,test}/{3,4}/x{0,1}.png` (8 files, the same names in every folder) and
    /// returns their paths below `work`.
    func makeTree() throws -> [String] {
        let png = try makeInputs()
        var paths: [String] = []
        for (k, folder) in ["data/train/3", "data/train/4", "data/test/3", "data/test/4"].enumerated() {
            try FileManager.default.createDirectory(at: work.appendingPathComponent(folder), withIntermediateDirectories: true)
            for i in 0..<2 {
                let path = "\(folder)/x\(i).png"
                try FileManager.default.copyItem(at: work.appendingPathComponent(png[(2 * k + i) % png.count]), to: work.appendingPathComponent(path))
                paths.append(path)
            }
        }
        return paths
    }

    /// Names as zip and tar give them (issue 20): `cd data && ddnzip -r ../b.ddnz train test`
    /// keeps `train/3/x0.png` and `test/3/x0.png` apart, and `ddnunzip b.ddnz train/3` restores
    /// exactly that folder's two files.
    func testPathsKeptAsGivenAndFolderExtraction() throws {
        let paths = try makeTree()
        let p = Process()   // run() works in `work`; this one in work/data
        p.executableURL = products.appendingPathComponent("ddnzip")
        p.arguments = ["-q", "-r", "../b.ddnz", "train", "test"]
        p.currentDirectoryURL = work.appendingPathComponent("data")
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        let names = try ArchiveReader(Array(try XCTUnwrap(file("b.ddnz")))).entries.map(\.name)
        XCTAssertEqual(names, ["train/3/x0.png", "train/3/x1.png", "train/4/x0.png", "train/4/x1.png",
                               "test/3/x0.png", "test/3/x1.png", "test/4/x0.png", "test/4/x1.png"])
        for folder in ["train/3", "train/3/"] {
            let out = "out-\(folder.count)"
            let r = try run("ddnunzip", ["b.ddnz", folder, "-d", out])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(r.stderr, "ddnunzip: restored 2 of 2 files into \(out)\n")
            let restored = try FileManager.default.subpathsOfDirectory(atPath: work.appendingPathComponent(out).path).filter { $0.hasSuffix(".png") }
            XCTAssertEqual(restored.sorted(), ["train/3/x0.png", "train/3/x1.png"])
            for name in restored { try assertSamePNG(try XCTUnwrap(file("data/" + name)), try XCTUnwrap(file("\(out)/\(name)"))) }
        }
        // a folder at any depth, and ./ ignored; a folder name is not a prefix of names ("tra" selects nothing)
        XCTAssertEqual(try run("ddnunzip", ["-t", "b.ddnz", "./train/"]).stderr, "ddnunzip: 4 of 4 entries OK\n")
        let prefix = try run("ddnunzip", ["-t", "b.ddnz", "tra"])
        assertOneLineError(prefix)
        XCTAssertEqual(prefix.stderr, "ddnunzip: b.ddnz: no entry matches tra\n")
        // files named by their paths as given, less a leading /, ./ or ..: no collisions
        let given = try run("ddnzip", ["-q", "e.ddnz", paths[0], "./" + paths[4], "data/../" + paths[5], work.path + "/" + paths[6]])
        XCTAssertEqual(given.status, 0, given.stderr)
        XCTAssertEqual(try ArchiveReader(Array(try XCTUnwrap(file("e.ddnz")))).entries.map(\.name),
                       [paths[0], paths[4], paths[5], String((work.path + "/" + paths[6]).drop { $0 == "/" })])
        // --junk-paths: file names only, as zip -j (the second x0.png is then a duplicate)
        let junked = try run("ddnzip", ["-q", "--junk-paths", "j.ddnz", paths[0], paths[4]])
        XCTAssertEqual(junked.status, 2, junked.stderr)
        XCTAssertEqual(junked.stderr, "ddnzip: skipped \(paths[4]): two entries named \"x0.png\"\n")
        XCTAssertEqual(try ArchiveReader(Array(try XCTUnwrap(file("j.ddnz")))).entries.map(\.name), ["x0.png"])
    }

    /// A folder without -r: its own PNG files are added and one line says how many its
    /// subfolders hold; with none directly inside, nothing is written and the line says why.
    func testFolderWithoutRecursionNamesWhatItLeftOut() throws {
        _ = try makeTree()
        try FileManager.default.copyItem(at: work.appendingPathComponent("in-0.png"), to: work.appendingPathComponent("data/train/top.png"))
        let r = try run("ddnzip", ["c.ddnz", "data/train"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.hasPrefix("ddnzip: data/train: left out 4 PNG files in its subfolders (use -r to add subfolders)\n"), r.stderr)
        XCTAssertEqual(try ArchiveReader(Array(try XCTUnwrap(file("c.ddnz")))).entries.map(\.name), ["data/train/top.png"])
        XCTAssertEqual(try run("ddnzip", ["-q", "q.ddnz", "data/train"]).stderr, "")   // -q: nothing but errors
        let none = try run("ddnzip", ["d.ddnz", "data"])
        assertOneLineError(none)
        XCTAssertEqual(none.stderr, "ddnzip: data: left out 9 PNG files in its subfolders (use -r to add subfolders); nothing written\n")
        XCTAssertNil(file("d.ddnz"))
    }

    /// Creates a file whose path is given as raw bytes (not necessarily UTF-8), relative to `work`.
    func createRaw(_ path: [UInt8], contents: Data) throws {
        let full = Array(work.path.utf8) + [0x2F] + path
        let fd = open(full.map { CChar(bitPattern: $0) } + [0], O_CREAT | O_WRONLY | O_TRUNC, 0o644)
        XCTAssertGreaterThanOrEqual(fd, 0)
        _ = contents.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    /// A file name that is not valid UTF-8 cannot be an entry name (Spec/ARCHIVE.md §3): it is
    /// named in one line with \xNN escapes and why, found in a folder (never dropped silently) or
    /// given directly (not "no such file").
    func testFileNamesNotUTF8AreNamedNotDropped() throws {
        let png = try XCTUnwrap(file(try makeInputs()[0]))
        try FileManager.default.createDirectory(at: work.appendingPathComponent("d"), withIntermediateDirectories: true)
        try png.write(to: work.appendingPathComponent("d/a.png"))
        try createRaw(Array("d/caf".utf8) + [0xE9] + Array(".png".utf8), contents: png)     // café.png in Latin-1
        XCTAssertEqual(mkdir(work.path + "/d/sub", 0o755), 0)
        try createRaw(Array("d/sub/x".utf8) + [0xFF] + Array(".png".utf8), contents: png)
        let why = "its path is not valid UTF-8 (shown with \\xNN escapes), and entry names must be; rename it (convmv converts names between encodings)"
        let r = try run("ddnzip", ["-q", "-r", "t.ddnz", "d"])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertEqual(r.stderr, "ddnzip: skipped d/caf\\xE9.png: \(why)\n" + "ddnzip: skipped d/sub/x\\xFF.png: \(why)\n")
        XCTAssertEqual(try ArchiveReader(Array(try XCTUnwrap(file("t.ddnz")))).entries.map(\.name), ["d/a.png"])
        // without -r the subfolder's file is counted as left out; the folder's own is named
        let flat = try run("ddnzip", ["f.ddnz", "d"])
        XCTAssertEqual(flat.status, 2, flat.stderr)
        XCTAssertTrue(flat.stderr.hasPrefix("ddnzip: d: left out 1 PNG file in its subfolders (use -r to add subfolders)\n"
                                            + "ddnzip: skipped d/caf\\xE9.png: \(why)\n"), flat.stderr)
        // given directly (through a shell: Process takes only UTF-8 arguments)
        func zipRaw(_ args: String) throws -> Run {
            try run("/bin/sh", ["-c", "exec \"$0\" -q " + args, products.appendingPathComponent("ddnzip").path])
        }
        let direct = try zipRaw("g.ddnz \"$(printf 'd/caf\\351.png')\" d/a.png")
        XCTAssertEqual(direct.status, 2, direct.stderr)
        XCTAssertEqual(direct.stderr, "ddnzip: skipped d/caf\\xE9.png: \(why)\n")
        XCTAssertEqual(try ArchiveReader(Array(try XCTUnwrap(file("g.ddnz")))).entries.map(\.name), ["d/a.png"])
        let alone = try zipRaw("h.ddnz \"$(printf 'd/caf\\351.png')\"")
        assertOneLineError(alone)
        XCTAssertEqual(alone.stderr, "ddnzip: d/caf\\xE9.png: \(why); nothing written\n")
    }

    /// A version-2 archive of 2×1 grey entries (samples 0, 255; raw coder 3) with any names, as
    /// Spec/ARCHIVE.md §7 lays it out: what a crafted archive holds (the writer refuses such names).
    func craftedArchive(names: [String]) -> Data {
        func crc(_ bytes: [UInt8], _ start: UInt32 = 0) -> UInt32 {
            var c = ~start
            for b in bytes { c ^= UInt32(b); for _ in 0..<8 { c = c & 1 == 1 ? (c >> 1) ^ 0xEDB8_8320 : c >> 1 } }
            return ~c
        }
        func u32(_ v: UInt32) -> [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: v >> $0) } }
        func varint(_ v: Int) -> [UInt8] { v < 128 ? [UInt8(v)] : [UInt8(v & 127 | 128)] + varint(v >> 7) }
        let samples: [UInt8] = [0, 255]
        let id = names.reduce(UInt32(0)) { crc(Array($1.utf8) + samples, $0) }
        let header: [UInt8] = Array("DDNZ".utf8) + [2, 0] + u32(id)
        var out = header
        for name in names {
            let n = Array(name.utf8)
            let fields: [UInt8] = [0x83] + varint(n.count), shape: [UInt8] = [2, 1, 8, 0] + samples
            let check = crc(n, crc(samples, crc(fields + shape, crc(header))))
            out += fields + n + shape + u32(check)
        }
        return Data(out + [7] + varint(names.count))
    }

    /// Entries with unsafe names (absolute, `..`) whose CRC-32 passes were made so: refused and
    /// named for their names, never written, not reported as damage.
    func testUnsafeEntryNamesAreRefusedNotDamaged() throws {
        let absolute = work.path + "/abs.png"
        try craftedArchive(names: ["a.png", "../evil.png", absolute, "b.png"]).write(to: work.appendingPathComponent("x.ddnz"))
        let r = try run("ddnunzip", ["x.ddnz", "-d", "out"])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertEqual(r.stderr, "ddnunzip: entry \"../evil.png\" refused for its unsafe name (a .. component); it is not damaged, and not restored\n"
                       + "ddnunzip: entry \"\(absolute)\" refused for its unsafe name (absolute); it is not damaged, and not restored\n"
                       + "ddnunzip: restored 2 of 4 files into out; 2 refused for their names\n")
        XCTAssertNotNil(file("out/a.png"))
        XCTAssertNotNil(file("out/b.png"))
        XCTAssertNil(file("evil.png"))
        XCTAssertNil(file("abs.png"))
        let test = try run("ddnunzip", ["-t", "x.ddnz"])
        XCTAssertEqual(test.status, 1, test.stderr)
        XCTAssertEqual(test.stderr.split(separator: "\n").last, "ddnunzip: 2 of 4 entries OK, 2 refused for their names")
        XCTAssertFalse(test.stderr.contains("corrupt") || test.stderr.contains(" 1 damaged") || test.stderr.contains(" 2 damaged"), test.stderr)
    }

    /// A limit is not damage (issue 20 item 4): an entry over --max-pixels is named as skipped
    /// for the limit, with the value that restores it; every other entry is restored; status 2.
    func testEntryOverThePixelLimitIsSkippedNotDamaged() throws {
        var names = try makeInputs()   // 9×7 images
        let big = PNGImage(pixels: PixelImage(width: 20, height: 20, channels: 3, bitDepth: 8, samples: (0..<1200).map { UInt16($0 % 251) }), colorType: .rgb)
        try Data(try PNGWriter.encode(big)).write(to: work.appendingPathComponent("big.png"))
        names.insert("big.png", at: 3)   // between entries of other shapes
        XCTAssertEqual(try run("ddnzip", ["-q", "a.ddnz"] + names).status, 0)
        let r = try run("ddnunzip", ["--max-pixels", "100", "a.ddnz", "-d", "out"])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertEqual(r.stderr, "ddnunzip: skipped big.png: 20×20 = 400 pixels, over the pixel limit of 100 (raise it with --max-pixels 400)\n"
                       + "ddnunzip: restored 6 of 7 files into out; 1 over the pixel limit (--max-pixels)\n")
        XCTAssertFalse(r.stderr.contains("corrupt") || r.stderr.contains("damaged"), r.stderr)
        XCTAssertNil(file("out/big.png"))
        for name in names where name != "big.png" { try assertSamePNG(try XCTUnwrap(file(name)), try XCTUnwrap(file("out/" + name))) }
        let test = try run("ddnunzip", ["-t", "--max-pixels", "100", "a.ddnz"])
        XCTAssertEqual(test.status, 2, test.stderr)
        XCTAssertTrue(test.stderr.hasSuffix("ddnunzip: 6 of 7 entries OK, 1 over the pixel limit (--max-pixels)\n"), test.stderr)
        // -l decodes nothing: the entry is listed in full with a note, status 0
        let list = try run("ddnunzip", ["-l", "--max-pixels", "100", "a.ddnz"])
        XCTAssertEqual(list.status, 0, list.stderr)
        XCTAssertTrue(String(decoding: list.stdout, as: UTF8.self).contains("20×20  2/8    big.png  (over the pixel limit: --max-pixels 400 restores it)"))
        // -q: not named, as unzip -qq; the exit status tells
        let quiet = try run("ddnunzip", ["-q", "--max-pixels", "100", "a.ddnz", "-d", "quiet"])
        XCTAssertEqual(quiet.status, 2, quiet.stderr)
        XCTAssertEqual(quiet.stderr, "")
        XCTAssertEqual(try run("ddnunzip", ["-q", "--max-pixels", "400", "a.ddnz", "-d", "all"]).status, 0)
        try assertSamePNG(try XCTUnwrap(file("big.png")), try XCTUnwrap(file("all/big.png")))
        // ddnzip: an input over the limit names the flag too
        let zipped = try run("ddnzip", ["-q", "--max-pixels", "100", "b.ddnz", "big.png", names[0]])
        XCTAssertEqual(zipped.status, 2, zipped.stderr)
        XCTAssertEqual(zipped.stderr, "ddnzip: skipped big.png: PNG is 20×20 = 400 pixels, over the pixel limit of 100 (raise it with --max-pixels 400)\n")
    }

    /// `ddnunzip -l` says whether the model an archive needs is embedded (the default, or an
    /// earlier default), and a restore with the wrong model says which model the archive needs
    /// (an embedded one, named as such, or its SHA-256 prefix) and what was given; `--help`
    /// explains the columns.
    func testListingNamesTheEmbeddedModel() throws {
        let idx = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
        try XCTSkipUnless(FileManager.default.fileExists(atPath: idx), "needs Debian's dataset-fashion-mnist")
        let image = try Dataset.load(path: idx, limit: 1).image(0)
        try Data(try PNGWriter.encode(PNGImage(pixels: image, colorType: .gray))).write(to: work.appendingPathComponent("f.png"))
        let embedded = hex(Array(try DDNModel.embedded().identity.prefix(4)))
        XCTAssertEqual(try run("ddnzip", ["-q", "e.ddnz", "f.png"]).status, 0)
        let list = String(decoding: try run("ddnunzip", ["-l", "e.ddnz"]).stdout, as: UTF8.self)
        XCTAssertTrue(list.contains(" ddn-net "), list)
        XCTAssertTrue(list.contains("needs the model whose SHA-256 begins \(embedded) (archive format 2); that is the embedded default model"), list)
        // a model that is not embedded (the tiny one of a conformance vector, for 8×12 images):
        // listed as such, refused without -m in one line saying so
        let vector = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Fixtures/conformance/ddn5-grey").standardized
        let tiny = vector.appendingPathComponent("model.ddnm").path
        try FileManager.default.copyItem(at: vector.appendingPathComponent("archive.ddnz"), to: work.appendingPathComponent("o.ddnz"))
        let other = String(decoding: try run("ddnunzip", ["-l", "o.ddnz"]).stdout, as: UTF8.self)
        XCTAssertTrue(other.contains("; not an embedded model: give it with -m MODEL"), other)
        XCTAssertFalse(other.contains(embedded), other)
        let tinyPrefix = hex(Array(try DDNModel(serialized: Array(try Data(contentsOf: URL(fileURLWithPath: tiny)))).identity.prefix(4)))
        let refused = try run("ddnunzip", ["-t", "o.ddnz"])
        assertOneLineError(refused)
        XCTAssertEqual(refused.stderr, "ddnunzip: o.ddnz: archive needs the model whose SHA-256 begins \(tinyPrefix), not the embedded default "
                       + "model (SHA-256 \(embedded)…), used without -m: give the model file the archive was made with (-m MODEL)\n")
        XCTAssertEqual(try run("ddnunzip", ["-q", "-t", "-m", tiny, "o.ddnz"]).status, 0)
        // the embedded default needed, another model given: said so, in ddnunzip and ddnzip -u
        let needsEmbedded = "e.ddnz: archive needs the embedded default model (SHA-256 \(embedded)…), not \(tiny) (SHA-256 \(tinyPrefix)…): use it without -m"
        let wrong = try run("ddnunzip", ["-t", "-m", tiny, "e.ddnz"])
        assertOneLineError(wrong)
        XCTAssertEqual(wrong.stderr, "ddnunzip: \(needsEmbedded)\n")
        let update = try run("ddnzip", ["-q", "-u", "-m", tiny, "e.ddnz", "f.png"])
        assertOneLineError(update)
        XCTAssertEqual(update.stderr, "ddnzip: \(needsEmbedded); not updated\n")
        let help = String(decoding: try run("ddnunzip", ["--help"]).stdout, as: UTF8.self)
        for words in ["-l columns:", "ddn-net (the model's DDN", "2/8 is 8-bit RGB", "stored (the file byte for byte"] {
            XCTAssertTrue(help.contains(words), "--help lacks \(words)")
        }
    }

    /// `ddnunzip --levels N` previews the named entries only, from format 2's paths; a format-3
    /// archive (paths in the blocks' shared messages) is refused in one line, nothing written.
    func testLevelPreviews() throws {
        let idx = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
        try XCTSkipUnless(FileManager.default.fileExists(atPath: idx), "needs Debian's dataset-fashion-mnist")
        let images = try Dataset.load(path: idx, limit: 2)
        for i in 0..<2 {
            try Data(try PNGWriter.encode(PNGImage(pixels: images.image(i), colorType: .gray))).write(to: work.appendingPathComponent("f\(i).png"))
        }
        XCTAssertEqual(try run("ddnzip", ["-q", "--block", "1", "two.ddnz", "f0.png", "f1.png"]).status, 0)
        let one = try run("ddnunzip", ["--levels", "2", "two.ddnz", "-d", "p", "f1.png"])
        XCTAssertEqual(one.status, 0, one.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: work.appendingPathComponent("p").path), ["f1.levels2.png"])
        XCTAssertEqual(try run("ddnzip", ["-q", "--block", "2", "blocks.ddnz", "f0.png", "f1.png"]).status, 0)
        let refused = try run("ddnunzip", ["--levels", "2", "blocks.ddnz", "-d", "q"])
        assertOneLineError(refused)
        XCTAssertTrue(refused.stderr.contains("archive format 3"), refused.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: work.appendingPathComponent("q/f0.levels2.png").path))
    }

    /// Archives made with an earlier default model (Corpus/models/README.md) restore without -m,
    /// with the embedded copy their header names; `ddnzip -u` re-codes their entries with today's
    /// default.
    func testEarlierDefaultModelsStillDecode() throws {
        let idx = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
        try XCTSkipUnless(FileManager.default.fileExists(atPath: idx), "needs Debian's dataset-fashion-mnist")
        let images = try Dataset.load(path: idx, limit: 2)
        for i in 0..<2 {
            try Data(try PNGWriter.encode(PNGImage(pixels: images.image(i), colorType: .gray))).write(to: work.appendingPathComponent("f\(i).png"))
        }
        let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Corpus/models").standardized
        XCTAssertGreaterThanOrEqual(EmbeddedModel.all.count, 3)
        for earlier in EmbeddedModel.all.dropFirst() {
            let modelFile = models.appendingPathComponent(earlier.name + ".ddnm")
            XCTAssertEqual(try DDNModel(serialized: Array(try Data(contentsOf: modelFile))).identity, earlier.identity, earlier.name)
            let archive = "\(earlier.name).ddnz"
            XCTAssertEqual(try run("ddnzip", ["-q", "-m", modelFile.path, archive, "f0.png"]).status, 0)
            let list = String(decoding: try run("ddnunzip", ["-l", archive]).stdout, as: UTF8.self)
            XCTAssertTrue(list.contains("that is the embedded earlier default model \(earlier.name)"), list)
            let out = "out-\(earlier.name)"
            let restored = try run("ddnunzip", ["-q", archive, "-d", out])
            XCTAssertEqual(restored.status, 0, restored.stderr)
            try assertSamePNG(try XCTUnwrap(file("\(out)/f0.png")), try XCTUnwrap(file("f0.png")))
            // -u: the kept entry is read with the earlier model and written with today's
            XCTAssertEqual(try run("ddnzip", ["-q", "-u", archive, "f1.png"]).status, 0)
            let updated = String(decoding: try run("ddnunzip", ["-l", archive]).stdout, as: UTF8.self)
            XCTAssertTrue(updated.contains("that is the embedded default model"), updated)
            XCTAssertEqual(try run("ddnunzip", ["-q", "-o", archive, "-d", out]).status, 0)
            for f in ["f0.png", "f1.png"] { try assertSamePNG(try XCTUnwrap(file("\(out)/\(f)")), try XCTUnwrap(file(f))) }
        }
    }

    func testPipes() throws {
        let names = try makeInputs()
        let zipped = try run("ddnzip", ["-"] + names)
        XCTAssertEqual(zipped.status, 0, zipped.stderr)
        XCTAssertTrue(zipped.stderr.isEmpty, zipped.stderr)
        let r = try run("ddnunzip", ["-q", "-", "-d", "piped"], stdin: zipped.stdout)
        XCTAssertEqual(r.status, 0, r.stderr)
        for name in names { try assertSamePNG(try XCTUnwrap(file(name)), try XCTUnwrap(file("piped/" + name))) }
    }

    func testRefusesArchiveOnTerminal() throws {
        let names = try makeInputs()
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else { throw XCTSkip("no script(1)") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        let tool = products.appendingPathComponent("ddnzip").path
        p.arguments = ["-qec", "\(tool) - \(names[0])", "/dev/null"]
        p.currentDirectoryURL = work
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        p.standardInput = Pipe()
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertNotEqual(p.terminationStatus, 0)
        XCTAssertTrue(text.contains("terminal"), text)
    }

    /// ddntrain on a folder of odd-sized PNGs (1×1000), then those images through the new model
    /// and back exactly; an existing --out is refused without -f; errors are one line.
    func testTrainOnOddSizesAndCodeWithTheModel() throws {
        let data = work.appendingPathComponent("odd")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        var rng = SplitMix64(seed: 1000)
        for i in 0..<6 {
            let samples = (0..<1000).map { _ in UInt16(rng.below(256)) }
            let png = PNGImage(pixels: PixelImage(width: 1, height: 1000, channels: 1, bitDepth: 8, samples: samples), colorType: .gray)
            try Data(try PNGWriter.encode(png)).write(to: data.appendingPathComponent("o\(i).png"))
        }
        let train = try run("ddntrain", [data.path, "--test", data.path, "--held-out", "2", "--minutes", "0.02",
                                         "--layout", "single-shot", "-K", "4", "--channels", "2", "--grid", "none", "--out", "m.ddnm"])
        XCTAssertEqual(train.status, 0, train.stderr)
        assertOneLineError(try run("ddntrain", [data.path, "--minutes", "0.02", "--out", "m.ddnm"]))
        assertOneLineError(try run("ddntrain", ["/nonexistent", "--out", "x.ddnm"]))
        XCTAssertEqual(try run("ddnzip", ["-q", "-m", "m.ddnm", "odd.ddnz", "odd"]).status, 0)
        // a checkpoint is not a model: its identity changes with every save
        let ckpt = try run("ddnzip", ["-q", "-m", "m.ddnm.ckpt", "ck.ddnz", data.path])
        assertOneLineError(ckpt)
        XCTAssertTrue(ckpt.stderr.contains("checkpoint"), ckpt.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: work.appendingPathComponent("ck.ddnz").path))
        XCTAssertEqual(try run("ddnunzip", ["-q", "-m", "m.ddnm", "-d", "back", "odd.ddnz"]).status, 0)
        for i in 0..<6 {
            let a = try Data(contentsOf: data.appendingPathComponent("o\(i).png"))
            let b = try Data(contentsOf: work.appendingPathComponent("back/odd/o\(i).png"))
            guard case .image(let x) = try PNGReader().read(Array(a)), case .image(let y) = try PNGReader().read(Array(b)) else {
                return XCTFail("unreadable")
            }
            XCTAssertEqual(x.pixels, y.pixels)
        }
    }

    /// Writes `count` grey PNGs of `size`×`size` at `bitDepth` into the folder `name` (smooth
    /// gradients with noise, so that a model has something to learn); returns the folder.
    func makeTrainingFolder(_ name: String, count: Int, size: Int = 8, bitDepth: Int = 8, seed: UInt64 = 1) throws -> URL {
        let dir = work.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var rng = SplitMix64(seed: seed)
        let top = (1 << bitDepth) - 1
        for i in 0..<count {
            let samples = (0..<(size * size)).map { j in UInt16(min(top, (j % size + j / size + i) * top / (2 * size) + rng.below(4) % (top + 1))) }
            let png = PNGImage(pixels: PixelImage(width: size, height: size, channels: 1, bitDepth: bitDepth, samples: samples), colorType: .gray)
            try Data(try PNGWriter.encode(png)).write(to: dir.appendingPathComponent(String(format: "i%03d.png", i)))
        }
        return dir
    }

    /// A tiny, fast ddntrain configuration for the folders of `makeTrainingFolder`.
    let tinyTraining = ["-K", "4", "--channels", "2", "--residual-hidden", "8", "--residual-hidden2", "4", "--batch-size", "4"]

    /// `--steps` makes a run reproducible: the same command twice writes the same model bytes,
    /// with 1 or 2 threads (and another budget another model).
    func testTrainStepsReproducible() throws {
        let data = try makeTrainingFolder("data", count: 12)
        var models: [Data] = []
        for (out, steps, threads) in [("a.ddnm", "6", "2"), ("b.ddnm", "6", "2"), ("c.ddnm", "6", "1"), ("d.ddnm", "7", "2")] {
            let r = try run("ddntrain", [data.path, "--steps", steps, "--threads", threads, "--grid", "none", "--out", out] + tinyTraining)
            XCTAssertEqual(r.status, 0, r.stderr)
            models.append(try XCTUnwrap(file(out)))
        }
        XCTAssertEqual(models[0], models[1])
        XCTAssertEqual(models[0], models[2])
        XCTAssertNotEqual(models[0], models[3])
        let refused = try run("ddntrain", [data.path, "--steps", "-5", "--out", "e.ddnm"])
        assertOneLineError(refused)
        XCTAssertTrue(refused.stderr.contains("--steps must be at least 1 (got -5)"), refused.stderr)
    }

    /// The candidate grid is written without --test too (from the first training images), and
    /// not with --grid none.
    func testTrainGridAlwaysWritten() throws {
        let data = try makeTrainingFolder("data", count: 12)
        let r = try run("ddntrain", [data.path, "--steps", "2", "--out", "a.ddnm"] + tinyTraining)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("grid: a.ddnm.grid.png (4 training images)"), r.stderr)
        let grid = try XCTUnwrap(file("a.ddnm.grid.png"))
        guard case .image(let g) = try PNGReader().read([UInt8](grid)) else { return XCTFail("grid stored verbatim") }
        XCTAssertGreaterThan(g.pixels.width, 8)
        XCTAssertEqual(try run("ddntrain", [data.path, "--steps", "1", "--grid", "none", "--out", "b.ddnm"] + tinyTraining).status, 0)
        XCTAssertNil(file("b.ddnm.grid.png"))
    }

    /// ddntrain speaks to its user: a progress line in plain words (the details only with -v), a
    /// training curve PNG, the closing comparison in the bytes ddnzip really writes for the
    /// held-out images, and the next command as its last line.
    func testTrainReportsRealArchivesCurveAndNextCommand() throws {
        let data = try makeTrainingFolder("data", count: 12)
        _ = try makeTrainingFolder("test", count: 5, seed: 2)
        let r = try run("ddntrain", [data.path, "--test", "test", "--steps", "3", "--grid", "none", "--out", "a.ddnm"] + tinyTraining)
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stderr.split(separator: "\n").map(String.init)
        // Progress: bits per sub-pixel and what is left, no β or dead heads.
        XCTAssertTrue(lines.contains { $0.range(of: #"^step 1: -?[0-9]+\.[0-9]{3} bits per sub-pixel, 2 steps left$"#, options: .regularExpression) != nil }, r.stderr)
        XCTAssertFalse(r.stderr.contains("β") || r.stderr.contains("dead"), r.stderr)
        // The curve: an RGB picture with the train line and the held-out point drawn.
        XCTAssertTrue(r.stderr.contains("curve: a.ddnm.curve.png (bits per sub-pixel against steps: train, and held-out at 1 point)"), r.stderr)
        guard case .image(let curve) = try PNGReader().read([UInt8](try XCTUnwrap(file("a.ddnm.curve.png")))) else { return XCTFail("curve stored verbatim") }
        XCTAssertEqual([curve.pixels.width, curve.pixels.height, curve.pixels.channels], [720, 420, 3])
        let colours = Set(Swift.stride(from: 0, to: curve.pixels.samples.count, by: 3).map { Array(curve.pixels.samples[$0..<($0 + 3)]) })
        XCTAssertTrue(colours.contains([31, 119, 180]) && colours.contains([214, 39, 40]), "\(colours.count) colours")
        // The comparison names the bytes of the archives ddnzip writes of the same files.
        XCTAssertEqual(try run("ddnzip", ["-q", "-m", "a.ddnm", "new.ddnz", "test"]).status, 0)
        XCTAssertEqual(try run("ddnzip", ["-q", "plain.ddnz", "test"]).status, 0)   // the default model codes 28×28 only
        func bytes(_ label: String) -> Int? {
            guard let line = lines.first(where: { $0.hasPrefix("  \(label) ") }),
                  let m = line.range(of: #"[0-9,]+ bytes"#, options: .regularExpression) else { return nil }
            return Int(line[m].dropLast(6).replacingOccurrences(of: ",", with: ""))
        }
        XCTAssertTrue(r.stderr.contains("held-out 5 images, one archive each way, the bytes ddnzip writes:"), r.stderr)
        XCTAssertEqual(bytes("new model"), file("new.ddnz")?.count, r.stderr)
        XCTAssertEqual(bytes("no model"), file("plain.ddnz")?.count, r.stderr)
        XCTAssertTrue(r.stderr.contains("  default model       not for these images (it codes 28×28 grey 8-bit images)"), r.stderr)
        XCTAssertTrue(lines.contains { $0.range(of: #"^the new model's archive is [0-9]+\.[0-9]% (smaller|larger) than no model's"#, options: .regularExpression) != nil }
                      || r.stderr.contains("the same size as no model's"), r.stderr)
        XCTAssertEqual(lines.last, "next: ddnzip -m a.ddnm ARCHIVE.ddnz YOUR_PNGS/  (restore: ddnunzip -m a.ddnm ARCHIVE.ddnz)")
        // -v adds the details; --curve none writes no curve.
        let v = try run("ddntrain", [data.path, "--steps", "1", "-v", "--curve", "none", "--grid", "none", "--out", "b.ddnm"] + tinyTraining)
        XCTAssertEqual(v.status, 0, v.stderr)
        XCTAssertTrue(v.stderr.contains("; β ") && v.stderr.contains("dead heads per level"), v.stderr)
        XCTAssertTrue(v.stderr.contains("no held-out images (--test): no archives to compare"), v.stderr)
        XCTAssertNil(file("b.ddnm.curve.png"))
        XCTAssertFalse(v.stderr.contains("curve:"), v.stderr)
    }

    /// ddntrain's data errors name the file, and images of several shapes are explained in
    /// plain words (no tuple, no pointer to --help).
    func testTrainDataErrorsNameTheFile() throws {
        let bad = try makeTrainingFolder("bad", count: 2)
        try Data("not a png".utf8).write(to: bad.appendingPathComponent("notes.png"))
        let r = try run("ddntrain", [bad.path, "--out", "m.ddnm"])
        assertOneLineError(r)
        XCTAssertTrue(r.stderr.contains(bad.appendingPathComponent("notes.png").path + ": not a PNG file"), r.stderr)
        XCTAssertFalse(r.stderr.contains("--help"), r.stderr)
        // i000.png 1-bit, i001.png 16-bit.
        let mixed = work.appendingPathComponent("mixed")
        try FileManager.default.createDirectory(at: mixed, withIntermediateDirectories: true)
        for (name, depth) in [("i000.png", 1), ("i001.png", 16)] {
            let png = PNGImage(pixels: PixelImage(width: 32, height: 32, channels: 1, bitDepth: depth, samples: [UInt16](repeating: 1, count: 1024)), colorType: .gray)
            try Data(try PNGWriter.encode(png)).write(to: mixed.appendingPathComponent(name))
        }
        let m = try run("ddntrain", [mixed.path, "--out", "m.ddnm"])
        assertOneLineError(m)
        XCTAssertTrue(m.stderr.contains("i001.png is 32×32 grey 16-bit, but the first image (\(mixed.path)/i000.png) is 32×32 grey 1-bit: " +
                                        "a model is trained on images of one size, channel count and bit depth"), m.stderr)
        // Held-out images of another shape than the training images.
        let other = try makeTrainingFolder("other", count: 2, size: 12)
        let test8 = try makeTrainingFolder("test8", count: 2)
        let t = try run("ddntrain", [other.path, "--test", test8.path, "--out", "m.ddnm"])
        assertOneLineError(t)
        XCTAssertTrue(t.stderr.contains("test8 has 8×8 grey 8-bit images, but the training images are 12×12 grey 8-bit"), t.stderr)
        // Images too large to train a model for: refused before any model is made (a photograph took tens of GB)
        let large = try makeTrainingFolder("large", count: 1, size: 257)
        let l = try run("ddntrain", [large.path, "--out", "m.ddnm"])
        assertOneLineError(l)
        XCTAssertTrue(l.stderr.contains("\(large.path): images of 257×257 grey 8-bit are larger than ddntrain trains a model for"), l.stderr)
        XCTAssertNil(file("m.ddnm"))
    }

    func testHelp() throws {
        for tool in ["ddnzip", "ddnunzip", "ddntrain"] {
            let r = try run(tool, ["--help"])
            XCTAssertEqual(r.status, 0)
            let text = String(decoding: r.stdout, as: UTF8.self)
            XCTAssertTrue(text.contains("USAGE: \(tool)"), text)
        }
        assertOneLineError(try run("ddnzip", []))
        assertOneLineError(try run("ddnzip", ["-x", "a.ddnz", "b.png"]))
        assertOneLineError(try run("ddnunzip", ["--nope"]))
        let bench = try run("ddnzip", ["bench", "--help"])
        XCTAssertEqual(bench.status, 0)
        XCTAssertTrue(String(decoding: bench.stdout, as: UTF8.self).contains("--json"))
    }

    /// `--version` on every tool (ddnzip's default subcommand included): one line naming the
    /// tool, its version and the formats it writes, on standard output, status 0.
    func testVersion() throws {
        for tool in ["ddnzip", "ddnunzip", "ddntrain"] {
            let r = try run(tool, ["--version"])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(String(decoding: r.stdout, as: UTF8.self), DDNVersion.line(tool) + "\n")
            XCTAssertTrue(DDNVersion.line(tool).hasPrefix("\(tool) \(DDNVersion.tool) (archive format "))
        }
        let bench = try run("ddnzip", ["bench", "--version"])
        XCTAssertEqual(String(decoding: bench.stdout, as: UTF8.self), DDNVersion.line("ddnzip") + "\n")
    }

    /// Negative numbers reach validation (not "Missing value for …" as if `-1` were a flag) and
    /// are refused with one line naming the option, the requirement and the value given.
    func testNegativeValuesRefusedByName() throws {
        let cases: [(String, [String], String)] = [
            ("ddnzip", ["-j", "-2", "a.ddnz", "x.png"], "-j must be at least 1 (got -2)"),
            ("ddnzip", ["--max-pixels", "-5", "a.ddnz", "x.png"], "--max-pixels must be at least 1 (got -5)"),
            ("ddnzip", ["bench", "-j", "-1", "."], "-j must be at least 1 (got -1)"),
            ("ddnzip", ["-e", "-1", "a.ddnz", "x.png"], "-e must be 1 to 9 (got -1)"),
            ("ddnzip", ["--block", "0", "a.ddnz", "x.png"], "--block must be 1 to 4096 (got 0)"),
            ("ddnzip", ["bench", "-e", "10", "."], "-e must be 1 to 9 (got 10)"),
            ("ddnunzip", ["--levels", "-1", "a.ddnz"], "--levels must be at least 0 (got -1)"),
            ("ddnunzip", ["-j", "-1", "a.ddnz"], "-j must be at least 1 (got -1)"),
            ("ddntrain", ["data", "--out", "m.ddnm", "--minutes", "-1"], "--minutes must be positive (got -1)"),
            ("ddntrain", ["data", "--out", "m.ddnm", "--lr", "-0.5"], "--lr must be positive (got -0.5)"),
            ("ddntrain", ["data", "--out", "m.ddnm", "--held-out", "-3"], "--held-out must be at least 1 (got -3)"),
            ("ddntrain", ["data", "--out", "m.ddnm", "--limit", "-1"], "--limit must be at least 1 (got -1)"),
            ("ddntrain", ["data", "--out", "m.ddnm", "-K", "-4"], "-K must be 2...1024 (got -4)"),
            ("ddntrain", ["data", "--out", "m.ddnm", "--batch-size", "-1"], "--batch-size must be at least 2 (got -1)"),
            ("ddntrain", ["data", "--out", "m.ddnm", "--residual-hidden", "-16"], "--residual-hidden must be 0...1024 (got -16)"),
            ("ddntrain", ["data", "--out", "m.ddnm", "--checkpoint-minutes", "-1"], "--checkpoint-minutes must be positive (got -1)"),
            ("ddntrain", ["data", "--out", "m.ddnm", "--seed", "-1"], "--seed"),
        ]
        for (tool, args, message) in cases {
            let r = try run(tool, args)
            assertOneLineError(r)
            XCTAssertTrue(r.stderr.contains(message), "\(tool) \(args): \(r.stderr)")
            XCTAssertFalse(r.stderr.contains("Missing value"), "\(tool) \(args): \(r.stderr)")
        }
    }

    /// `ddnzip --help` (and `-h`, `help`) shows the options of the common use, not only the
    /// subcommands; `ddnunzip --help` shows the same shared options.
    func testHelpShowsCommonOptions() throws {
        for args in [["--help"], ["-h"], ["help"]] {
            let r = try run("ddnzip", args)
            XCTAssertEqual(r.status, 0, r.stderr)
            let text = String(decoding: r.stdout, as: UTF8.self)
            for option in ["-j <n>", "-m <model>", "--max-pixels <n>", "-f ", "-q ", "-v ", "<archive>", "ddnzip bench"] {
                XCTAssertTrue(text.contains(option), "\(args) lacks \(option): \(text)")
            }
        }
        let unzip = String(decoding: try run("ddnunzip", ["--help"]).stdout, as: UTF8.self)
        for option in ["-j <n>", "-m <model>", "--max-pixels <n>", "-f ", "-q ", "-v ", "-n ", "-o ", "--levels <N>"] {
            XCTAssertTrue(unzip.contains(option), "ddnunzip --help lacks \(option): \(unzip)")
        }
    }

    /// The signal handling installed by CLISupport: ddnzip blocked writing an archive to a pipe
    /// nobody reads, then SIGINT, exits with status 130 (128 + SIGINT) instead of dying of the signal.
    func testInterruptExitsWithStatus130() throws {
        var rng = SplitMix64(seed: 7)
        let samples = (0..<(300 * 300 * 3)).map { _ in UInt16(rng.below(256)) }
        let png = PNGImage(pixels: PixelImage(width: 300, height: 300, channels: 3, bitDepth: 8, samples: samples), colorType: .rgb)
        try Data(try PNGWriter.encode(png)).write(to: work.appendingPathComponent("noise.png"))
        let p = Process()
        p.executableURL = products.appendingPathComponent("ddnzip")
        p.arguments = ["-q", "-", "noise.png"]
        p.currentDirectoryURL = work
        let out = Pipe()  // never read: the archive (> 64 KiB) blocks on it
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        p.standardInput = Pipe()
        try p.run()
        Thread.sleep(forTimeInterval: 1)
        XCTAssertTrue(p.isRunning)
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationReason, .exit)
        XCTAssertEqual(p.terminationStatus, 130)
    }

    /// `ddnzip bench` without --json prints the table (built by the command line from the
    /// kernel's measurements).
    func testBenchTable() throws {
        _ = try makeInputs()
        let r = try run("ddnzip", ["bench", "--no-external", "."])
        XCTAssertEqual(r.status, 0, r.stderr)
        let text = String(decoding: r.stdout, as: UTF8.self)
        XCTAssertTrue(text.contains(".: 6 PNG files"), text)
        for row in ["original PNG", "PNG best (libpng)", "ddnzip, one archive"] { XCTAssertTrue(text.contains(row), text) }
        XCTAssertFalse(text.contains("cjxl -d 0"), text)  // --no-external: no row for it
    }

    /// `bench --json`: bytes and bpsp for every method, the model's SHA-256, the external tools'
    /// versions, and the same keys with and without --no-external / --no-ddn (null when not measured).
    func testBenchJSON() throws {
        _ = try makeInputs()
        func bench(_ flags: [String]) throws -> [String: Any] {
            let r = try run("ddnzip", ["bench", "--json"] + flags + ["."])
            XCTAssertEqual(r.status, 0, r.stderr)
            let json = try JSONSerialization.jsonObject(with: r.stdout) as? [[String: Any]]
            return try XCTUnwrap(json?.first, String(decoding: r.stdout, as: UTF8.self))
        }
        let full = try bench([]), plain = try bench(["--no-external", "--no-ddn"])
        XCTAssertEqual(full["files"] as? Int, 6)
        XCTAssertEqual(Set(full.keys), Set(plain.keys))
        for method in ["original", "pngBest", "webp", "jxl", "perImage", "oneArchive", "classicalOnlyPerImage", "classicalOnlyOneArchive"] {
            XCTAssertTrue(full.keys.contains(method + "Bpsp") && full.keys.contains(method + "Bytes"), method)
        }
        let subPixels = try XCTUnwrap(full["subPixels"] as? Int)
        let oneArchive = try XCTUnwrap(full["oneArchiveBytes"] as? Int)
        XCTAssertEqual(try XCTUnwrap(full["oneArchiveBpsp"] as? Double), Double(oneArchive * 8) / Double(subPixels), accuracy: 1e-9)
        // The embedded model's SHA-256 with the DDN, null without.
        let identity = try DDNModel.embedded().identity.map { String(format: "%02x", $0) }.joined()
        XCTAssertEqual(full["modelSHA256"] as? String, identity)
        XCTAssertTrue(plain["modelSHA256"] is NSNull)
        XCTAssertTrue(plain["classicalOnlyOneArchiveBytes"] is NSNull)
        // External tools: measured with their version when installed, null with --no-external.
        for (tool, key) in [("cwebp", "webp"), ("cjxl", "jxl")] {
            XCTAssertTrue(plain[key + "Bpsp"] is NSNull && plain[key + "Version"] is NSNull, tool)
            let installed = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
                .contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)") }
            XCTAssertEqual(full[key + "Version"] is String, installed, tool)
            XCTAssertEqual(full[key + "Bpsp"] is Double, installed, tool)
        }
    }
}
