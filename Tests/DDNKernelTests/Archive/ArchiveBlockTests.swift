import XCTest
@testable import DDNKernel

/// Version-3 archives (Spec/ARCHIVE.md §3.4–§3.6, §6): solid blocks round-trip at every block
/// size and thread count, their coder-5 entries share one bits-back message, damage costs the
/// block it hits and no other, and a cut archive restores every whole block.
final class ArchiveBlockTests: XCTestCase {
    /// A seeded model with a residual network, coder 5 the only candidate for its shape (8×12
    /// grey): images of other shapes fall back to raw samples, with payloads of their own.
    static let coders: CoderSet = {
        let (model, _) = DDNCoderTests.seededNetworkModel()
        var set = try! CoderSet.standard(model: model)
        set.candidates = [CoderID.ddnNetwork]
        return set
    }()

    /// `n` images of the model's shape named img-000.png…, with the mixed inputs of
    /// `ArchiveFormatTests` every `every` entries.
    static func inputs(_ n: Int, seed: UInt64, mixedEvery every: Int = 5) throws -> [ArchiveInput] {
        let mixed = try ArchiveFormatTests.mixedInputs().prefix(4)
        var out: [ArchiveInput] = []
        for (i, image) in DDNCoderTests.images(n, seed: seed).enumerated() {
            out.append(ArchiveInput(name: String(format: "img-%03d.png", i), bytes: try PNGWriter.encode(PNGImage(pixels: image, colorType: .gray))))
            if i % every == every - 1, let m = mixed.dropFirst((i / every) % mixed.count).first { out.append(ArchiveInput(name: "m\(i)-" + m.name, bytes: m.bytes)) }
        }
        return out
    }

    static func write(_ inputs: [ArchiveInput], block: Int, threads: Int = 2) throws -> [UInt8] {
        var writer = ArchiveWriter()
        writer.coders = coders
        writer.blockSize = block
        writer.threads = threads
        return try writer.write(inputs).archive
    }

    /// Every entry comes back exactly at block sizes 1 (version 2), 4 and 64; the bytes do not depend on
    /// the thread count; the block size reads back; the listing's shares add up to the archive
    /// less its container.
    func testBlocksRoundTrip() throws {
        let inputs = try Self.inputs(14, seed: 7)
        let originals = try inputs.map { try PNGReader().read($0.bytes) }
        for block in [1, 4, 64] {
            let bytes = try Self.write(inputs, block: block)
            XCTAssertEqual(bytes, try Self.write(inputs, block: block, threads: 1), "block \(block): thread count")
            XCTAssertEqual(bytes[4], block == 1 ? 2 : 3, "block 1 writes version 2")
            let reader = try ArchiveReader(bytes, coders: Self.coders)
            XCTAssertFalse(reader.foundDamage)
            XCTAssertEqual(reader.blockCount, block == 1 ? 0 : (inputs.count + block - 1) / block)
            XCTAssertEqual(reader.blockSize(orAtLeast: ArchiveWriter.defaultBlockSize), block, "the block size, read back")
            XCTAssertEqual(reader.entries.map(\.name), inputs.map(\.name))
            XCTAssertTrue(reader.entries.contains { $0.coder == CoderID.ddnNetwork } && reader.entries.contains { $0.coder == CoderID.rawSamples || $0.isStored })
            let outcomes = reader.restoreAll(threads: 2)
            XCTAssertEqual(reader.tally(outcomes), RestoreTally(restored: inputs.count, entryCount: inputs.count))
            for (o, original) in zip(outcomes, originals) {
                guard case .image(let png) = original else { continue }
                guard case .image(let back)? = try? PNGReader().read(try o.file.get()) else { XCTFail("\(o.name)"); continue }
                XCTAssertEqual(back.pixels, png.pixels, o.name)
            }
            // the shares of the shared messages are the messages
            guard block > 1 else { continue }
            let shares = reader.entries.indices.filter { reader.entries[$0].coder == CoderID.ddnNetwork }.reduce(0) { $0 + reader.codedBytes($1) }
            XCTAssertEqual(shares, reader.blocks.reduce(0) { $0 + $1.stream.count })
        }
    }

    /// A version-3 archive with two blocks of bits-back messages and raw entries, pinned by its
    /// CRC-32: the same bytes must come out of debug, release, `-target-cpu` builds and the
    /// portable and AVX2 matrix products (`DDN_PORTABLE_GEMM=1`), on 1 thread or 2.
    func testGoldenArchive() throws {
        let bytes = try Self.write(try Self.inputs(7, seed: 21, mixedEvery: 3), block: 5)
        XCTAssertEqual(String(format: "%08x", crc32(bytes)), "cbf100ff", "\(bytes.count) bytes")
        XCTAssertEqual(bytes.count, 850)
    }

    /// A flipped byte anywhere in the blocks loses at most the block it falls in: every entry of
    /// every other block is restored, the entries of a damaged block that reads are named, and
    /// the tally adds up to the entry count.
    func testDamageCostsOnlyTheBlockItHits() throws {
        let inputs = try Self.inputs(16, seed: 9)
        let bytes = try Self.write(inputs, block: 4)
        let clean = try ArchiveReader(bytes, coders: Self.coders)
        let headerEnd = clean.blocks[0].byteRange.lowerBound
        var r = SplitMix64(seed: 4)
        for trial in 0..<40 {
            let at = headerEnd + r.below(clean.blocks.last!.byteRange.upperBound - headerEnd)
            var damaged = bytes
            damaged[at] ^= UInt8(1 + r.below(255))
            let hit = clean.blocks.firstIndex { $0.byteRange.contains(at) }
            let reader = try ArchiveReader(damaged, coders: Self.coders)
            let outcomes = reader.restoreAll(threads: 1)
            let restored = Set(outcomes.filter { (try? $0.file.get()) != nil }.map(\.name))
            let spared = clean.entries.filter { $0.block != hit }.map(\.name)
            XCTAssertTrue(Set(spared).isSubset(of: restored), "trial \(trial): byte \(at) in block \(hit ?? -1)")
            let tally = reader.tally(outcomes)
            XCTAssertEqual(tally.restored + tally.damaged + tally.lost, inputs.count, "trial \(trial): byte \(at)")
            // the entries found but not restored are one block's, each named (as read: a damaged
            // name byte gives a name the block's CRC-32 refuses)
            let failed = outcomes.filter { $0.index >= 0 && (try? $0.file.get()) == nil }
            XCTAssertLessThanOrEqual(Set(failed.map { reader.entries[$0.index].block }).count, 1, "trial \(trial): byte \(at)")
            XCTAssertLessThanOrEqual(failed.count, 4, "trial \(trial): byte \(at)")
            XCTAssertTrue(failed.allSatisfy { !$0.name.isEmpty })
        }
    }

    /// A damaged block magic costs that block only (the block before it reads and passes its
    /// CRC-32 though no magic follows it); a damaged end-record magic costs nothing.
    func testDamagedMagicCostsOnlyItsBlock() throws {
        let inputs = try Self.inputs(8, seed: 5, mixedEvery: 4)
        let bytes = try Self.write(inputs, block: 4)
        let clean = try ArchiveReader(bytes, coders: Self.coders)
        XCTAssertEqual(clean.blocks.count, 3)
        func restored(_ damaged: [UInt8]) throws -> (Set<String>, RestoreTally) {
            let reader = try ArchiveReader(damaged, coders: Self.coders)
            let outcomes = reader.restoreAll(threads: 1)
            return (Set(outcomes.filter { (try? $0.file.get()) != nil }.map(\.name)), reader.tally(outcomes))
        }
        for b in 1..<clean.blocks.count {
            for i in [0, 3] {
                var damaged = bytes
                damaged[clean.blocks[b].byteRange.lowerBound + i] ^= 1
                XCTAssertEqual(try restored(damaged).0, Set(clean.entries.filter { $0.block != b }.map(\.name)), "block \(b) magic byte \(i)")
            }
        }
        for i in 0..<4 {
            var damaged = bytes
            damaged[clean.blocks.last!.byteRange.upperBound + i] ^= 1
            let (names, tally) = try restored(damaged)
            XCTAssertEqual(names, Set(inputs.map(\.name)), "end record magic byte \(i)")
            XCTAssertEqual(tally.restored, inputs.count)
            XCTAssertEqual(tally.lost, 0)
        }
    }

    /// Damage at the end costs no entry (the fuzz sweep's cases): a damaged count or magic byte of
    /// the end record names the end record damaged (the blocks leave no byte unread, so its count
    /// is theirs); junk after a whole end record is junk after the end, nothing cut or lost; junk
    /// in the end record's place, or after its first bytes, is junk after the last whole block,
    /// which is kept (the archive is cut where the junk starts). Every entry is restored, none
    /// counted lost or damaged, and no line speaks of a lost entry.
    func testDamagedEndRecordLosesNoEntry() throws {
        let inputs = try Self.inputs(12, seed: 5, mixedEvery: 4)
        let bytes = try Self.write(inputs, block: 4)
        let last = try ArchiveReader(bytes, coders: Self.coders).blocks.last!.byteRange.upperBound
        XCTAssertEqual(Array(bytes[last...]), ArchiveBlock.endMagic + [UInt8(inputs.count)])
        let junk: [[UInt8]] = [[0x17], [0x99, 0x03], [0x17, 0x99, 0x03, 0x42, 0x00]]
        var cases: [(String, [UInt8])] = []
        for mask: UInt8 in [0x01, 0x10, 0x80, 0xFF] {
            for i in 0..<5 {   // a magic byte that then reads "DDNB" would be a cut block's first bytes
                var damaged = bytes
                damaged[last + i] ^= mask
                cases.append(("end record byte \(i) ^ \(mask)", damaged))
            }
        }
        for j in junk {
            cases.append(("junk \(j) after the end record", bytes + j))
            for kept in 0..<5 { cases.append(("end record cut to \(kept) bytes, then junk \(j)", Array(bytes[0..<(last + kept)]) + j)) }
        }
        for (label, damaged) in cases {
            let reader = try ArchiveReader(damaged, coders: Self.coders)
            let outcomes = reader.restoreAll(threads: 1)
            let tally = reader.tally(outcomes)
            XCTAssertEqual(outcomes.filter { (try? $0.file.get()) != nil }.map(\.name), inputs.map(\.name), label)
            XCTAssertEqual([tally.restored, tally.damaged, tally.lost], [inputs.count, 0, 0], label)
            XCTAssertNotNil(reader.damagedEnd, label)
            XCTAssertEqual(reader.unreadable, [], label)
            // no line for a lost entry: unreadable bytes, a lost entry, a cut inside an entry
            let lost = outcomes.filter { o in
                switch o.file {
                case .failure(.unreadableBytes), .failure(.lostEntry), .failure(.truncatedArchive(_, .entry, _, _)): return true
                default: return false
                }
            }
            XCTAssertEqual(lost.map(\.name), [], label)
            if label.hasPrefix("end record byte") {
                XCTAssertEqual(reader.damagedEnd, ArchiveReader.DamagedEnd(bytes: last..<bytes.count, repairedCount: inputs.count), label)
                XCTAssertEqual(tally.entryCount, inputs.count, label)
            } else if label.hasPrefix("junk") {
                XCTAssertEqual(reader.damagedEnd, ArchiveReader.DamagedEnd(bytes: bytes.count..<damaged.count, repairedCount: nil, afterEndRecord: true), label)
                XCTAssertNil(reader.truncation, label)
                XCTAssertEqual(tally.entryCount, inputs.count, label)
            }
        }
    }

    /// A damaged shared message loses its block, each entry named in one clear line with one
    /// "corrupt archive: ": "entry NAME: its block's message does not decode to its end".
    func testDamagedMessageIsOneClearLine() throws {
        let bytes = try Self.write(try Self.inputs(8, seed: 3, mixedEvery: 100), block: 8)
        let block = try ArchiveReader(bytes, coders: Self.coders).blocks[0]
        XCTAssertGreaterThan(block.stream.count, 8)
        var lines = Set<String>()
        for back in 5..<13 {   // the message's last bytes, before the CRC-32
            var damaged = bytes
            damaged[block.byteRange.upperBound - back] ^= 0x5A
            let reader = try ArchiveReader(damaged, coders: Self.coders)
            for o in reader.restoreAll(threads: 1) where o.index >= 0 {
                guard case .failure(let e) = o.file else { XCTFail("byte \(back) from the end restored \(o.name)"); continue }
                let line = "\(e)"
                XCTAssertEqual(line.components(separatedBy: "corrupt archive: ").count, 2, line)
                lines.insert(line.replacingOccurrences(of: o.name, with: "NAME"))
            }
        }
        XCTAssertTrue(lines.contains("corrupt archive: entry NAME: its block's message does not decode to its end"), "\(lines)")
        XCTAssertEqual(ArchiveReader.messageFailure(ArchiveError.invalidField(field: "DDN entry", detail: "x.png is not of the model's shape")),
                       "its block's message: DDN entry x.png is not of the model's shape")
    }

    /// Every cut finds exactly the blocks wholly before it, the more the longer the bytes, and
    /// reports the cut; restoring (checked on every 7th cut and around each block's end) gives
    /// exactly their entries back.
    func testEveryCutRestoresEveryWholeBlock() throws {
        let inputs = try Self.inputs(9, seed: 12, mixedEvery: 4)
        let bytes = try Self.write(inputs, block: 3)
        let clean = try ArchiveReader(bytes, coders: Self.coders)
        let headerEnd = clean.blocks[0].byteRange.lowerBound
        let ends = Set(clean.blocks.flatMap { [$0.byteRange.upperBound - 1, $0.byteRange.upperBound, $0.byteRange.upperBound + 1] })
        var previous = 0
        for cut in headerEnd..<bytes.count {
            let reader = try ArchiveReader(Array(bytes[0..<cut]), coders: Self.coders)
            let whole = clean.entries.filter { clean.blocks[$0.block].byteRange.upperBound <= cut }.map(\.name)
            XCTAssertEqual(reader.entries.map(\.name), whole, "cut at \(cut)")
            XCTAssertGreaterThanOrEqual(reader.entries.count, previous, "cut at \(cut)")
            previous = reader.entries.count
            XCTAssertNotNil(reader.truncation, "cut at \(cut)")
            guard cut % 7 == 0 || ends.contains(cut) else { continue }
            let restored = reader.restoreAll(threads: 1).filter { (try? $0.file.get()) != nil }.map(\.name)
            XCTAssertEqual(restored, whole, "cut at \(cut)")
        }
    }

    /// A block's message is attributed to its entries in proportion to their net bits, the
    /// shares summing to the message's length.
    func testApportionSumsToTheTotal() {
        XCTAssertEqual(ArchiveWriter.apportion(10, by: [1, 1, 2]), [3, 2, 5])
        XCTAssertEqual(ArchiveWriter.apportion(7, by: [0, 0]), [4, 3])
        XCTAssertEqual(ArchiveWriter.apportion(5, by: [-3, 1]), [0, 5])
        XCTAssertEqual(ArchiveWriter.apportion(0, by: [2, 3]), [0, 0])
        XCTAssertEqual(ArchiveWriter.apportion(3, by: []), [])
        var rng = SplitMix64(seed: 7)
        for _ in 0..<100 {
            let weights = (0..<Int(rng.below(9) + 1)).map { _ in Double(rng.below(1000)) }
            let total = Int(rng.below(5000))
            let shares = ArchiveWriter.apportion(total, by: weights)
            XCTAssertEqual(shares.reduce(0, +), total)
            XCTAssertTrue(shares.allSatisfy { $0 >= 0 })
        }
    }
}
