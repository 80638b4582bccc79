import XCTest
@testable import DDNKernel

/// Damaged version-2 archives lose only the damaged entries (issue 9 item 3, Spec/ARCHIVE.md §6):
/// bytes flipped in payloads, names, kind bytes and lengths of a multi-entry archive, counting
/// the entries restored exactly under their own names.
final class ArchiveSalvageTests: XCTestCase {
    static let count = 120

    /// `count` small images: counted names, a break in the names every 40 entries (explicit
    /// names), two shapes, a stored file; the images themselves, by name.
    static func archive() throws -> (bytes: [UInt8], originals: [String: [UInt8]]) {
        var rng = SplitMix64(seed: 91)
        var inputs: [ArchiveInput] = []
        for i in 0..<count {
            let name = i < 40 ? String(format: "a/img-%03d.png", i) : i < 80 ? String(format: "b/%03d.png", i) : String(format: "c-%02d.png", i - 80)
            let side = i % 7 == 0 ? 9 : 8
            let png = PNGFixture.randomPNG(width: side, height: side, colorType: .gray, bitDepth: 8, rng: &rng)
            var bytes = try PNGWriter.encode(png)
            if i == 50 { bytes += [1, 2, 3] }  // stored verbatim
            inputs.append(ArchiveInput(name: name, bytes: bytes))
        }
        let (archive, reports) = try ArchiveWriter.version2.write(inputs)
        XCTAssertEqual(reports[50].coder, CoderID.stored)
        var originals: [String: [UInt8]] = [:]
        for input in inputs { originals[input.name] = input.bytes }
        return (archive, originals)
    }

    /// Entries restored whose bytes decode to the original pixels under their original name.
    func restored(_ bytes: [UInt8], _ originals: [String: [UInt8]]) -> (good: Int, named: [String]) {
        guard let reader = try? ArchiveReader(bytes) else { return (0, []) }
        var good = 0, damaged: [String] = []
        for o in reader.restoreAll(threads: 2) {
            guard let file = try? o.file.get() else { damaged.append(o.name); continue }
            guard let original = originals[o.name] else { XCTFail("restored under a name never archived: \(o.name)"); continue }
            if file == original { good += 1; continue }  // stored entry
            guard case .image(let a)? = try? PNGReader().read(file), case .image(let b)? = try? PNGReader().read(original) else {
                XCTFail("\(o.name) does not read"); continue
            }
            XCTAssertEqual(a.pixels, b.pixels, o.name)
            good += 1
        }
        return (good, damaged)
    }

    func testUndamagedArchiveRestoresEverything() throws {
        let (bytes, originals) = try Self.archive()
        XCTAssertEqual(restored(bytes, originals).good, Self.count)
        XCTAssertEqual(try ArchiveReader(bytes).declaredEntryCount, Self.count)
    }

    func testFlippedPayloadByteCostsOneEntry() throws {
        let (bytes, originals) = try Self.archive()
        let entries = try ArchiveReader(bytes).entries
        for i in stride(from: 0, to: Self.count, by: 7) {
            var damaged = bytes
            let e = entries[i]
            damaged[e.byteRange.upperBound - 4 - e.payload.count / 2] ^= 0x5A
            let (good, named) = restored(damaged, originals)
            XCTAssertEqual(good, Self.count - 1, "payload of entry \(i)")
            XCTAssertEqual(named, [e.name], "payload of entry \(i)")
        }
    }

    func testFlippedNameByteIsRepairedOrCostsFew() throws {
        let (bytes, originals) = try Self.archive()
        let entries = try ArchiveReader(bytes).entries
        let explicit = entries.indices.filter { if case .explicit = entries[$0].nameCoding { return true } else { return false } }
        XCTAssertGreaterThanOrEqual(explicit.count, 3)
        for i in explicit {
            let e = entries[i]
            guard case .explicit(_, let suffix) = e.nameCoding else { continue }
            for k in [0, suffix.count / 2, suffix.count - 1] {
                var damaged = bytes
                damaged[e.byteRange.lowerBound + 2 + k] ^= 0x21   // kind byte, one length varint byte (names < 128 bytes), then the name
                XCTAssertGreaterThanOrEqual(restored(damaged, originals).good, Self.count - 1, "name byte \(k) of entry \(i)")
            }
        }
    }

    /// A damaged kind byte or length misaligns the reader until it finds entries that read on.
    /// Measured on this 120-entry archive of tiny entries: most flips lose at most 6 entries; a
    /// misread entry that gives a wrong shape loses the same-shape entries after it up to the
    /// next explicit shape (up to ~50 here). Asserted: the reader never fails whole, and most
    /// entries come back.
    func testFlippedKindOrLengthCostsFew() throws {
        let (bytes, originals) = try Self.archive()
        let entries = try ArchiveReader(bytes).entries
        var worst = Self.count
        for i in stride(from: 1, to: Self.count, by: 9) {
            let e = entries[i]
            // the kind byte (coder, name, shape and length bits), then the payload length's varint
            let lengthAt = e.byteRange.upperBound - 4 - e.payload.count - 1
            for (at, mask) in [(e.byteRange.lowerBound, UInt8(0x40)), (e.byteRange.lowerBound, UInt8(0x08)), (lengthAt, UInt8(0x03))] {
                var damaged = bytes
                damaged[at] ^= mask
                let good = restored(damaged, originals).good
                worst = min(worst, good)
                XCTAssertGreaterThanOrEqual(good, Self.count / 2, "byte \(at) of entry \(i), mask \(mask)")
            }
        }
        print("kind/length flips: worst case \(worst) of \(Self.count) entries restored")
    }

    /// One damaged byte among the first entry's fields (kind, name length, width, height, type),
    /// whose name and shape every later entry repeats: the entry is read again by its CRC-32
    /// (`ArchiveEntryRepair.swift`), or at worst lost alone; the others are all restored.
    func testDamagedFieldsOfTheFirstEntryCostAtMostIt() throws {
        let count = 12
        var originals: [String: [UInt8]] = [:]
        let inputs: [ArchiveInput] = (0..<count).map { i in
            let samples = (0..<(20 * 20)).map { UInt16(($0 % 20) * 9 + ($0 / 20) * 3 + i * 5) }
            let png = PNGImage(pixels: PixelImage(width: 20, height: 20, channels: 1, bitDepth: 8, samples: samples), colorType: .gray)
            let input = ArchiveInput(name: String(format: "g-%02d.png", i), bytes: try! PNGWriter.encode(png))
            originals[input.name] = input.bytes
            return input
        }
        var writer = ArchiveWriter.version2
        writer.statisticsPolicy = .never
        let bytes = try writer.write(inputs).archive
        let first = try ArchiveReader(bytes).entries[0]
        XCTAssertEqual(first.coder, CoderID.classical)
        let s = first.byteRange.lowerBound, name = 2 + 8   // kind, name lengths, "g-00.png"
        for (at, mask) in [(s, UInt8(0x01)), (s, UInt8(0x10)), (s + 1, UInt8(0x01)), (s + 1, UInt8(0x20)),
                           (s + name, UInt8(0x01)), (s + name + 1, UInt8(0x02)), (s + name + 2, UInt8(0x40))] {
            var damaged = bytes
            damaged[at] ^= mask
            let (good, named) = restored(damaged, originals)
            XCTAssertGreaterThanOrEqual(good, count - 1, "byte \(at - s) of the first entry ^ \(mask): lost \(named)")
        }
    }

    func testTruncationIsNamed() throws {
        let (bytes, originals) = try Self.archive()
        let entries = try ArchiveReader(bytes).entries
        for cut in [entries[60].byteRange.lowerBound, entries[60].byteRange.lowerBound + 5, bytes.count - 1] {
            let reader = try ArchiveReader(Array(bytes[0..<cut]))
            XCTAssertTrue(reader.foundDamage, "cut at \(cut)")
            let outcomes = reader.restoreAll(threads: 1)
            XCTAssertTrue(outcomes.contains { (try? $0.file.get()) == nil }, "cut at \(cut)")
            // every entry whose bytes are all there (the 60 before the cut; all at a cut in the end record)
            XCTAssertEqual(restored(Array(bytes[0..<cut]), originals).good, cut == bytes.count - 1 ? Self.count : 60)
        }
    }

    /// 40 small entries for cutting: counted names with two breaks (explicit names), shapes that
    /// change every few entries, a stored file.
    static func smallArchive() throws -> [UInt8] {
        var rng = SplitMix64(seed: 20)
        let inputs: [ArchiveInput] = try (0..<40).map { i in
            let name = i < 15 ? String(format: "s/img-%02d.png", i) : i < 30 ? String(format: "t/%02d.png", i) : String(format: "u-%d.png", i)
            let (w, h) = (i / 6) % 2 == 0 ? (5, 4) : (4, 6)
            let samples = (0..<(w * h)).map { _ in UInt16(rng.below(3) * 100) }
            var bytes = try PNGWriter.encode(PNGImage(pixels: PixelImage(width: w, height: h, channels: 1, bitDepth: 8, samples: samples), colorType: .gray))
            if i == 22 { bytes += [1, 2, 3] }   // stored verbatim
            return ArchiveInput(name: name, bytes: bytes)
        }
        return try ArchiveWriter.version2.write(inputs).archive
    }

    /// Issue 20 item 3: every cut of an archive restores every entry whose bytes are all there
    /// (so a longer cut never restores fewer), and nothing else; the tally adds up (no entry
    /// damaged, the entry the cut falls in lost and named, entries after it uncounted) and says
    /// where the cut falls.
    func testEveryCutRestoresEveryWholeEntry() throws {
        let bytes = try Self.smallArchive()
        let full = try ArchiveReader(bytes)
        let entries = full.entries
        XCTAssertEqual(entries.count, 40)
        XCTAssertNil(full.truncation)
        XCTAssertEqual(full.tally(full.restoreAll(threads: 1)), RestoreTally(restored: 40, damaged: 0, lost: 0, entryCount: 40))
        var files: [String: [UInt8]] = [:]
        for o in full.restoreAll(threads: 1) { files[o.name] = try o.file.get() }
        let headerEnd = entries[0].byteRange.lowerBound
        XCTAssertThrowsError(try ArchiveReader(Array(bytes[0..<(headerEnd - 1)])))
        var previous = 0
        for cut in headerEnd..<bytes.count {
            let reader = try ArchiveReader(Array(bytes[0..<cut]))
            let outcomes = reader.restoreAll(threads: 1)
            let whole = entries.prefix { $0.byteRange.upperBound <= cut }.count
            let restored = outcomes.compactMap { o in (try? o.file.get()).map { (o.name, $0) } }
            XCTAssertEqual(restored.map(\.0), entries.prefix(whole).map(\.name), "cut at \(cut)")
            for (name, file) in restored { XCTAssertEqual(file, files[name], "\(name), cut at \(cut)") }
            XCTAssertGreaterThanOrEqual(restored.count, previous, "cut at \(cut)")
            previous = restored.count
            // where the cut falls, and the report
            let lastEnd = whole == 0 ? headerEnd : entries[whole - 1].byteRange.upperBound
            let part: ArchiveReader.Truncation.Part = cut == lastEnd ? .betweenEntries : whole == 40 ? .endRecord : .entry
            XCTAssertEqual(reader.truncation, ArchiveReader.Truncation(offset: lastEnd == cut ? cut : lastEnd, end: cut, part: part), "cut at \(cut)")
            let tally = reader.tally(outcomes)
            XCTAssertEqual(tally, RestoreTally(restored: whole, damaged: 0, lost: part == .entry ? 1 : 0, entryCount: nil, truncation: reader.truncation),
                           "cut at \(cut)")
            XCTAssertEqual(outcomes.count, whole + 1, "cut at \(cut): one line for the cut")
            if part == .entry, cut >= entries[whole].byteRange.upperBound - 4 - entries[whole].payload.count {
                XCTAssertEqual(outcomes.last?.name, entries[whole].name, "the entry cut at \(cut) is named")
            }
        }
    }

    /// One byte after the last whole entry (each value 0…255), also after a cut end record, or
    /// one damaged end-record byte: every entry is restored, and junk is not counted as a lost
    /// entry; a damaged end record is named as such, nothing cut or lost; so is junk after the
    /// whole end record.
    func testJunkAfterTheLastEntryLosesNoEntry() throws {
        let bytes = try Self.smallArchive()
        let full = try ArchiveReader(bytes)
        let last = full.entries[39].byteRange.upperBound
        XCTAssertEqual(bytes.count - last, 2, "end record: marker and a one-byte count")
        var failures: [String] = []
        for kept in last..<bytes.count {
            for b in 0...255 {
                let damaged = Array(bytes[0..<kept]) + [UInt8(b)]
                guard let reader = try? ArchiveReader(damaged) else { failures.append("\(kept) + \(b): refused"); continue }
                let outcomes = reader.restoreAll(threads: 1)
                let restored = outcomes.filter { (try? $0.file.get()) != nil }.map(\.name)
                let tally = reader.tally(outcomes)
                if restored != full.entries.map(\.name) || tally.damaged != 0 || tally.lost > 1 {
                    failures.append("\(kept) + \(b): \(restored.count) restored, \(tally.damaged) damaged, \(tally.lost) lost")
                }
            }
        }
        XCTAssertEqual(failures, [], "\(failures.count) of \(256 * (bytes.count - last))")
        // junk after the whole end record: named as such, nothing cut, no entry lost
        for junk: [UInt8] in [[0x00], [0x07], [0x17, 0x99, 0x03]] {
            let reader = try ArchiveReader(bytes + junk)
            XCTAssertEqual(reader.tally(reader.restoreAll(threads: 1)), RestoreTally(restored: 40, damaged: 0, lost: 0, entryCount: 40), "junk \(junk)")
            XCTAssertEqual(reader.unreadable, [], "junk \(junk)")
            XCTAssertEqual(reader.damagedEnd?.error, .junkAfterEndRecord(bytes.count, bytes.count + junk.count), "junk \(junk)")
        }
        // a damaged end record: every entry, none lost, nothing cut, the end record named (not
        // when its bytes could be what a cut leaves: 06 28 starts an entry, 07 d7 an end record)
        for (i, mask) in [(0, UInt8(0xFF)), (0, 0x80), (1, 0x40), (1, 0x01)] {
            var damaged = bytes
            damaged[last + i] ^= mask
            let reader = try ArchiveReader(damaged)
            let outcomes = reader.restoreAll(threads: 1)
            XCTAssertEqual(reader.tally(outcomes), RestoreTally(restored: 40, damaged: 0, lost: 0, entryCount: 40), "end record byte \(i) ^ \(mask)")
            XCTAssertNil(reader.truncation, "end record byte \(i) ^ \(mask)")
            XCTAssertTrue(reader.foundDamage)
            XCTAssertEqual(outcomes.filter { $0.index < 0 }.map(\.file), [.failure(.damagedEndRecord(last, bytes.count, count: 40))],
                           "end record byte \(i) ^ \(mask)")
        }
    }

    /// With the end record there, the tally adds up to the entry count: a flipped payload byte
    /// is one damaged entry; a byte inserted into a payload loses entries, counted as lost.
    func testTallyAddsUpToTheEntryCount() throws {
        let bytes = try Self.smallArchive()
        let entries = try ArchiveReader(bytes).entries
        for i in stride(from: 0, to: 40, by: 5) where !entries[i].isStored {
            let e = entries[i]
            var flipped = bytes
            flipped[e.byteRange.upperBound - 4 - e.payload.count / 2 - 1] ^= 0x5A
            let reader = try ArchiveReader(flipped)
            XCTAssertEqual(reader.tally(reader.restoreAll(threads: 1)), RestoreTally(restored: 39, damaged: 1, lost: 0, entryCount: 40), "entry \(i)")
            var inserted = bytes
            inserted.insert(0xEE, at: e.byteRange.upperBound - 4 - e.payload.count / 2)
            let r2 = try ArchiveReader(inserted)
            let outcomes = r2.restoreAll(threads: 1)
            let tally = r2.tally(outcomes)
            XCTAssertEqual(tally.entryCount, 40, "byte inserted into entry \(i)")
            XCTAssertEqual(tally.accounted, 40, "byte inserted into entry \(i)")
            XCTAssertEqual(tally.restored, outcomes.filter { (try? $0.file.get()) != nil }.count)
            XCTAssertLessThan(tally.restored, 40)
        }
    }

    /// A byte inserted into a payload loses the entries up to where the entries read on again;
    /// those lost inside the unreadable bytes are named by counting on between the restored
    /// entries around them, so every archived name is accounted for once.
    func testEntriesLostInUnreadableBytesAreNamed() throws {
        let (bytes, originals) = try Self.archive()
        let e = try ArchiveReader(bytes).entries[20]
        var damaged = bytes
        damaged.insert(0, at: e.byteRange.upperBound - 4 - e.payload.count / 2)
        let outcomes = try ArchiveReader(damaged).restoreAll(threads: 1)
        let named = outcomes.filter { o in
            if case .failure(.unreadableBytes) = o.file { return false }
            return true
        }.map(\.name)
        XCTAssertTrue(outcomes.contains { o in
            if case .failure(.lostEntry) = o.file { return true }
            return false
        }, "\(outcomes.map(\.name))")
        XCTAssertEqual(named.count, Self.count)
        XCTAssertEqual(Set(named), Set(originals.keys))
    }

    /// Issue 9's acceptance on a collection like Fashion-MNIST: 1,000 entries of one shape with
    /// counted names. A flipped payload byte loses exactly its entry; a flipped byte in a name,
    /// a kind byte or a payload length costs at most 10 entries (measured: at most 6).
    func testThousandEntriesLoseOnlyTheDamaged() throws {
        var rng = SplitMix64(seed: 93)
        var inputs: [ArchiveInput] = [], originals: [String: [UInt8]] = [:]
        for i in 0..<1000 {
            let samples = (0..<64).map { _ in UInt16(rng.below(4) * 60) }
            let png = PNGImage(pixels: PixelImage(width: 8, height: 8, channels: 1, bitDepth: 8, samples: samples), colorType: .gray)
            inputs.append(ArchiveInput(name: String(format: "test-%05d.png", i), bytes: try PNGWriter.encode(png)))
            originals[inputs[i].name] = inputs[i].bytes
        }
        let bytes = try ArchiveWriter.version2.write(inputs).archive
        let entries = try ArchiveReader(bytes).entries
        var worst = 1000
        for trial in 0..<24 {
            let e = entries[rng.below(1000)]
            var damaged = bytes
            let payloadAt = e.byteRange.upperBound - 4 - e.payload.count
            switch trial % 4 {
            case 0: damaged[payloadAt + e.payload.count / 2] ^= 0x5A
            case 1: damaged[e.byteRange.lowerBound] ^= [0x40, 0x80, 0x08, 0x10, 0x01][rng.below(5)]   // kind
            case 2: damaged[payloadAt - 1] ^= UInt8(1 << rng.below(8))                                  // payload length
            default: damaged[entries[0].byteRange.lowerBound + 2 + rng.below(14)] ^= UInt8(1 << rng.below(8))  // the explicit name
            }
            let (good, named) = restored(damaged, originals)
            if trial % 4 == 0 { XCTAssertEqual(good, 999, "payload of \(e.name)"); XCTAssertEqual(named, [e.name]) }
            XCTAssertGreaterThanOrEqual(good, 990, "trial \(trial), entry \(e.name)")
            worst = min(worst, good)
        }
        print("1,000 entries, one byte flipped: worst case \(worst) restored")
    }

    /// Entries spliced in from another archive of the same model and flags fail their check: the
    /// header's archive id, which every entry's CRC covers, differs.
    func testEntriesOfAnotherArchiveAreRefused() throws {
        let (a, originals) = try Self.archive()
        var rng = SplitMix64(seed: 95)
        let other = try ArchiveWriter.version2.write((0..<Self.count).map { i in
            let png = PNGFixture.randomPNG(width: 8, height: 8, colorType: .gray, bitDepth: 8, rng: &rng)
            return ArchiveInput(name: String(format: "a/img-%03d.png", i), bytes: try! PNGWriter.encode(png))
        }).archive
        let cut = try ArchiveReader(a).entries[60].byteRange.lowerBound
        let spliced = Array(a[0..<cut]) + Array(other[min(cut, other.count - 1)...])
        // every entry restored has this archive's pixels under its name (checked inside `restored`)
        let (good, _) = restored(spliced, originals)
        XCTAssertGreaterThanOrEqual(good, 56)
        XCTAssertLessThanOrEqual(good, 60)
    }

    /// A byte inserted into a large payload costs that entry only: the next start is looked for
    /// near the entry's end before inside its payload, where random bytes can read as entries
    /// (with their own huge shapes, which after damage are refused unread). (A deleted byte still
    /// loses the entries after it that repeat its shape: the entry overlaps the next and is dropped.)
    func testByteInsertedInALargePayloadCostsOneEntry() throws {
        var rng = SplitMix64(seed: 97)
        var inputs: [ArchiveInput] = []
        var originals: [String: [UInt8]] = [:]
        for i in 0..<4 {
            let png = PNGFixture.randomPNG(width: 96, height: 64, colorType: .rgb, bitDepth: 8, rng: &rng)
            inputs.append(ArchiveInput(name: "photo-\(i).png", bytes: try PNGWriter.encode(png)))
            originals[inputs[i].name] = inputs[i].bytes
        }
        let a = try ArchiveWriter.version2.write(inputs).archive
        let first = try ArchiveReader(a).entries[0].byteRange
        for offset in stride(from: first.lowerBound + 40, to: first.upperBound - 8, by: (first.count - 48) / 6) {
            var inserted = a
            inserted.insert(0xEE, at: offset)
            XCTAssertEqual(restored(inserted, originals).good, 3, "offset \(offset)")
        }
    }

    /// One damaged header byte (any of magic, version, flags, archive id, statistics) would fail
    /// every entry: `repairHeader` finds it by the entries' CRC-32 and gives back the original
    /// bytes; an intact archive needs no repair.
    func testDamagedHeaderByteIsRepaired() throws {
        // smooth grey images (coder 1, shared statistics) and an RGB one (coder 6: it checks the statistics)
        var inputs: [ArchiveInput] = (0..<12).map { i in
            let samples = (0..<(16 * 16)).map { UInt16(($0 % 16) * 8 + ($0 / 16) * 4 + i) }
            let png = PNGImage(pixels: PixelImage(width: 16, height: 16, channels: 1, bitDepth: 8, samples: samples), colorType: .gray)
            return ArchiveInput(name: String(format: "g-%02d.png", i), bytes: try! PNGWriter.encode(png))
        }
        let rgb = (0..<(12 * 10 * 3)).map { UInt16(($0 * 7) % 200) }
        inputs.append(ArchiveInput(name: "rgb.png", bytes: try PNGWriter.encode(PNGImage(
            pixels: PixelImage(width: 12, height: 10, channels: 3, bitDepth: 8, samples: rgb), colorType: .rgb))))
        var writer = ArchiveWriter.version2
        writer.statisticsPolicy = .always
        let bytes = try writer.write(inputs).archive
        let reader = try ArchiveReader(bytes)
        XCTAssertFalse(reader.header.statistics.isEmpty, "the fixture needs shared statistics")
        XCTAssertNil(ArchiveReader.repairHeader(bytes, coders: .standard))
        let headerEnd = reader.entries[0].byteRange.lowerBound
        let statistics = (headerEnd - reader.header.statistics.count)..<headerEnd
        var offsets = Array(0..<min(headerEnd, 12)) + Array(statistics).filter { $0 % 97 == 0 }
        offsets.append(statistics.upperBound - 1)
        for offset in offsets {
            for flip: UInt8 in [0x01, 0x80, 0x5A] {
                var damaged = bytes
                damaged[offset] ^= flip
                let repair = ArchiveReader.repairHeader(damaged, coders: .standard)
                XCTAssertEqual(repair?.offset, offset, "byte \(offset) ^ \(flip)")
                XCTAssertTrue(repair?.bytes == bytes, "byte \(offset) ^ \(flip)")
            }
        }
    }
}
