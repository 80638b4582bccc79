import Foundation

/// How a version-2 archive survives damage (Spec/ARCHIVE.md §6): entries are found by stepping
/// over bytes that do not read as entries, and each entry is confirmed by its own CRC-32 over its
/// bytes, pixels and full name, so damage costs only the damaged entries.
extension ArchiveReader {
    /// Entries to read on before an offset is trusted as an entry start after damage.
    static let resyncDepth = 4

    /// Every entry from `start` to the end record (Spec/ARCHIVE.md §3.3). Where an entry does not
    /// read, or the entries after it do not, the next offset from which `resyncDepth` entries
    /// read (or entries read to the end record) starts the next entry; the bytes between are
    /// `unreadable`. A missing end record (a truncated archive) is an empty unreadable range at
    /// the end; junk after an end record that counts the entries found is `end` (no entry).
    ///
    /// `mayBeCut` (the bytes do not end with an end record): an entry or end record that the end
    /// of the bytes cuts short (`isCutShort`) counts as reading on, so every whole entry before a
    /// cut is kept at every cut; the first entry that cannot be read for want of bytes is the cut
    /// (`cut`: its offset, or the end of the bytes when the cut falls between entries).
    ///
    /// `mayBeCut` also lets a few bytes after the last whole entry from which nothing reads on
    /// (`junkFrom`: junk appended) end the entries as the end of the bytes would (the cut is
    /// where they start), and 2 to 6 last bytes that are not cut short but that one changed byte
    /// makes an end record counting the entries found are a damaged end record (nothing cut);
    /// `end` names either.
    static func findEntries(_ bytes: [UInt8], from start: Int, headerCRC: UInt32, maxPixels: Int, mayBeCut: Bool = false)
        -> (entries: [ArchiveEntry], unreadable: [Range<Int>], declaredCount: Int?, cut: Int?, end: DamagedEnd?) {
        var entries: [ArchiveEntry] = [], unreadable: [Range<Int>] = []
        var r = ByteReader(bytes, offset: start)
        let junk = mayBeCut ? junkFrom(bytes, start: start, maxPixels: maxPixels) : Int.max
        // After damage, an entry may be no larger than those read before it (at least 2^20
        // pixels): random bytes that happen to read as a run of entries would otherwise each
        // decode a huge image before their CRC-32 refuses them.
        var limit = maxPixels, largest = 0, damaged = false
        func fits(_ e: ArchiveEntry) -> Bool { !damaged || e.isStored || e.sameShape || e.width * e.height <= limit }
        while r.remaining > 0 {
            let at = r.offset
            if let count = endRecord(bytes, at: at) { return (entries, unreadable, count, nil, nil) }
            if let (count, end) = endRecordFollowedByJunk(bytes, at: at), count == entries.count {
                return (entries, unreadable, count, nil, DamagedEnd(bytes: end..<bytes.count, repairedCount: nil, afterEndRecord: true))
            }
            let entry = (try? ArchiveEntry.read(from: &r, headerCRC: headerCRC, maxPixels: limit)).flatMap { fits($0) ? $0 : nil }
            if let entry, r.remaining == 0 || endRecord(bytes, at: r.offset) != nil
                || readsOn(bytes, from: r.offset, maxPixels: limit, junkAfterEnd: true, cutShort: mayBeCut, junk: junk) != nil {
                entries.append(entry)
                if !damaged && !entry.sameShape { largest = max(largest, entry.width * entry.height) }
                continue
            }
            // The entry (or end record) the end of the bytes cuts short: the cut. (Looking for
            // entries after it would only find misreadings of its own bytes.)
            if entry == nil && mayBeCut && isCutShort(bytes, at: at, maxPixels: limit) {
                return (entries, unreadable + [bytes.count..<bytes.count], nil, at, nil)
            }
            // The last 2 to 6 bytes, not what a cut leaves (a cut entry's first bytes are often
            // one byte from an end record: a width equal to the count), one changed byte away
            // from an end record counting the entries found: a damaged end record.
            if entry == nil && mayBeCut && isDamagedEndRecord(Array(bytes[at...]), counting: entries.count) {
                return (entries, unreadable, entries.count, nil, DamagedEnd(bytes: at..<bytes.count, repairedCount: entries.count))
            }
            // Bytes after the last whole entry from which nothing reads on: junk after a cut.
            if entry == nil && at >= junk {
                return (entries, unreadable, nil, at, DamagedEnd(bytes: at..<bytes.count, repairedCount: nil))
            }
            if !damaged { damaged = true; limit = min(maxPixels, max(largest, 1 << 20)) }
            // Damage here or just after: the next offset from which entries read on. An entry
            // that reads but ends before that offset is kept (the damage follows it); one that
            // overlaps it was misread (a damaged kind byte or length) and is dropped.
            let near = entry.flatMap { nearStart(bytes, around: $0.byteRange.upperBound, after: at, maxPixels: limit, cutShort: mayBeCut) }
            let next = near ?? nextStart(bytes, after: at, maxPixels: limit, cutShort: mayBeCut)
            if let entry, next == bytes.count {
                entries.append(entry)   // nothing further reads on (a cut archive): go on entry by entry
                continue
            } else if let entry, entry.byteRange.upperBound <= next {
                entries.append(entry)
                if entry.byteRange.upperBound < next { unreadable.append(entry.byteRange.upperBound..<next) }
            } else {
                unreadable.append(at..<next)
            }
            r = ByteReader(bytes, offset: next)
        }
        unreadable.append(bytes.count..<bytes.count)
        return (entries, unreadable, nil, bytes.count, nil)
    }

    /// How far before the end of the bytes `junkFrom` looks for junk, in bytes.
    static let junkWindow = 64

    /// In bytes that do not end with an end record: the offset after which, within the last
    /// `junkWindow` bytes, no start reads on (`readsOn`: neither whole entries to the end nor an
    /// entry cut short after a whole one); an entry that fails to read there is not cut short
    /// but followed by junk (a byte appended after a cut, a damaged end record), and the entries
    /// before it are whole. `Int.max` when the last offset reads on.
    static func junkFrom(_ bytes: [UInt8], start: Int, maxPixels: Int) -> Int {
        let first = max(start, bytes.count - junkWindow)
        guard first < bytes.count else { return .max }
        for q in stride(from: bytes.count - 1, through: first, by: -1)
        where readsOn(bytes, from: q, maxPixels: maxPixels, cutShort: true) != nil {
            return q + 1 < bytes.count ? q + 1 : .max
        }
        return first
    }

    /// Whether `tail` reads, with one byte changed (a damaged marker, magic or count byte), as an
    /// end record counting `count` entries: version 2's (2 to 6 bytes), or version 3's ("DDNE" and
    /// the count, 5 to 9 bytes; not from bytes starting "DDNB", a cut block's first bytes).
    static func isDamagedEndRecord(_ tail: [UInt8], counting count: Int, version: UInt8 = 2) -> Bool {
        let blocks = version == 3
        guard (blocks ? 5...9 : 2...6).contains(tail.count), !blocks || !tail.starts(with: ArchiveBlock.magic) else { return false }
        func counted(_ t: [UInt8]) -> Int? {
            guard blocks else { return endRecord(t, at: 0) }
            return ArchiveBlock.endRecord(t, at: 0).flatMap { $0.end == t.count ? $0.count : nil }
        }
        var t = tail
        for i in t.indices {
            let original = t[i]
            for v in 0...255 where UInt8(v) != original {
                t[i] = UInt8(v)
                if counted(t) == count { return true }
            }
            t[i] = original
        }
        return false
    }

    /// Whether an end record declaring `declared` entries can end a reading that found `entries`
    /// and `unreadable` bytes, against the reading of the same bytes as cut (`asCut`): each
    /// entry lost takes at least 6 bytes, of the unreadable ones or of the entries where the two
    /// readings part (misread entries may hold lost ones). An end record read by chance in a cut
    /// entry's bytes mostly declares far more entries than those few bytes can hold.
    static func canCount(_ declared: Int?, _ entries: [ArchiveEntry], unreadable: [Range<Int>], against asCut: [ArchiveEntry]) -> Bool {
        guard let declared else { return false }
        guard declared > entries.count else { return true }
        let parted = zip(entries, asCut).prefix { $0.byteRange == $1.byteRange }.count
        let spare = unreadable.reduce(0) { $0 + $1.count } + entries.dropFirst(parted).reduce(0) { $0 + $1.byteRange.count }
        return (declared - entries.count) * 6 <= spare
    }

    /// True when the bytes end with what reads as an end record (after `start`, where the entries
    /// begin): then the archive is read as whole (`findEntries`' `mayBeCut` off).
    static func endsWithEndRecord(_ bytes: [UInt8], from start: Int) -> Bool {
        (2...6).contains { n in bytes.count - n >= start && endRecord(bytes, at: bytes.count - n) != nil }
    }

    /// True when the bytes from `offset` begin an entry or the end record that the end of the
    /// bytes cuts short: reading it runs out of bytes. (A prefix of an entry fails only for want
    /// of bytes: each field is checked once it is whole.)
    static func isCutShort(_ bytes: [UInt8], at offset: Int, maxPixels: Int) -> Bool {
        guard offset < bytes.count else { return false }
        var r = ByteReader(bytes, offset: offset)
        do {
            if bytes[offset] == ArchiveEntry.endMarker {
                r.offset += 1
                _ = try r.varint("entry count")
            } else {
                _ = try ArchiveEntry.read(from: &r, headerCRC: 0, maxPixels: maxPixels, skimming: true)
            }
            return false
        } catch let e as ArchiveError {
            switch e {
            case .truncated, .lengthExceedsData: return true
            default: return false
            }
        } catch {
            return false
        }
    }

    /// `ranges` (in order) with adjacent non-empty ones joined: bytes that read as no entry,
    /// found in two steps, are one damaged place.
    static func joined(_ ranges: [Range<Int>]) -> [Range<Int>] {
        var out: [Range<Int>] = []
        for r in ranges {
            if let last = out.last, !last.isEmpty, !r.isEmpty, last.upperBound == r.lowerBound {
                out[out.count - 1] = last.lowerBound..<r.upperBound
            } else {
                out.append(r)
            }
        }
        return out
    }

    /// An end record at `offset` whose entry count matches the entries before it, followed by
    /// bytes that are not entries (junk appended): its count and where the junk starts.
    private static func endRecordFollowedByJunk(_ bytes: [UInt8], at offset: Int) -> (Int, Int)? {
        guard bytes[offset] == ArchiveEntry.endMarker else { return nil }
        var r = ByteReader(bytes, offset: offset + 1)
        guard let count = try? r.varint("entry count"), r.remaining > 0,
              (try? ArchiveEntry.read(from: &r, headerCRC: 0, maxPixels: .max, skimming: true)) == nil else { return nil }
        return (count, offset + 1 + ByteWriter.varintSize(count))
    }

    /// The entry count of the end record at `offset`, if one is there and ends the archive.
    private static func endRecord(_ bytes: [UInt8], at offset: Int) -> Int? {
        guard bytes[offset] == ArchiveEntry.endMarker else { return nil }
        var r = ByteReader(bytes, offset: offset + 1)
        guard let count = try? r.varint("entry count"), r.remaining == 0 else { return nil }
        return count
    }

    /// The offset after `at` where entries read on (`readsOn`) whose first entry ends soonest:
    /// a misread start inside damaged bytes can read on too when its length happens to land on a
    /// true entry, but it then spans that entry and more, so the start that swallows least wins.
    /// The end of the archive when none reads on.
    private static func nextStart(_ bytes: [UInt8], after at: Int, maxPixels: Int, cutShort: Bool) -> Int {
        var best = bytes.count, bestEnd = Int.max
        var p = at + 1
        while p < bytes.count && p < bestEnd {
            if let (end, complete) = readsOn(bytes, from: p, maxPixels: maxPixels, cutShort: cutShort) {
                if complete { return p }   // entries read exactly to the end record: the last entries
                if end < bestEnd { (best, bestEnd) = (p, end) }
            }
            p += 1
        }
        return best
    }

    /// An entry that reads but whose successor does not (bytes inserted into or deleted from its
    /// payload): the start nearest its end, within `nearWindow` bytes either side, from which
    /// entries read on — before the wider search, which could take a start inside its payload.
    private static func nearStart(_ bytes: [UInt8], around end: Int, after at: Int, maxPixels: Int, cutShort: Bool) -> Int? {
        for distance in 1...nearWindow {
            for p in [end + distance, end - distance] where p > at && p < bytes.count {
                if readsOn(bytes, from: p, maxPixels: maxPixels, cutShort: cutShort) != nil { return p }
            }
        }
        return nil
    }

    /// How far from a read entry's end `nearStart` looks, in bytes.
    static let nearWindow = 16

    /// When `resyncDepth` entries read from `offset` (or fewer, then the end record or the end of
    /// the bytes): the offset after the first of them (`offset` itself at the end record), and
    /// whether they end at the end record. `junkAfterEnd`: an end record followed by bytes that
    /// are not entries also ends the run (for an entry already read; never when looking for a
    /// start, where it could be anywhere). `cutShort` (an archive without its end record): an
    /// entry or end record cut short by the end of the bytes ends the run too (for an entry
    /// already read, or after one whole entry from a start).
    /// `junk` (`junkFrom`): an entry that fails to read at or after it, after a whole one, ends
    /// the run as one cut short would.
    private static func readsOn(_ bytes: [UInt8], from offset: Int, maxPixels: Int, junkAfterEnd: Bool = false,
                                cutShort: Bool = false, junk: Int = .max) -> (Int, complete: Bool)? {
        var r = ByteReader(bytes, offset: offset)
        var firstEnd: Int?
        for _ in 0..<resyncDepth {
            let atEnd = r.remaining > 0 && endRecord(bytes, at: r.offset) != nil
            if r.remaining == 0 || atEnd
                || junkAfterEnd && endRecordFollowedByJunk(bytes, at: r.offset) != nil { return (firstEnd ?? r.offset, atEnd) }
            let p = r.offset
            guard (try? ArchiveEntry.read(from: &r, headerCRC: 0, maxPixels: maxPixels, skimming: true)) != nil else {
                if cutShort && (junkAfterEnd || firstEnd != nil) && (p >= junk || isCutShort(bytes, at: p, maxPixels: maxPixels)) { return (firstEnd ?? p, false) }
                return nil
            }
            if firstEnd == nil { firstEnd = r.offset }
        }
        return firstEnd.map { ($0, false) }
    }

    /// Gives each entry its name and shape from the entries before it. A name that is not safe,
    /// or that the previous one cannot give, is kept (empty) for now: the entry's CRC-32 repairs
    /// or refuses it (`restoreAll`). An entry that repeats a shape with none before it takes
    /// `fallbackShape` (the model's), to be confirmed by its CRC-32; without one it is a problem,
    /// and the next name counts on from the last one given (the likeliest name of the lost entry).
    static func resolveChain(_ entries: inout [ArchiveEntry], fallbackShape: EntryPredecessor.Shape? = nil) -> [Int: ArchiveError] {
        var problems: [Int: ArchiveError] = [:]
        var previous = EntryPredecessor()
        for i in entries.indices {
            if entries[i].sameShape && previous.shape == nil { previous.shape = fallbackShape }
            do {
                // An unsafe name is kept for now: the entry's CRC may repair it (restoreAll).
                let bytes = try entries[i].resolve(after: previous)
                previous.advance(past: entries[i])
                previous.name = bytes
            } catch {
                problems[i] = error as? ArchiveError ?? .invalidField(field: "entry", detail: "\(error)")
                previous.name = ArchiveEntry.countedOn(previous.name) ?? previous.name
                if entries[i].name.isEmpty { entries[i].name = "(entry \(i + 1), bytes \(entries[i].byteRange.lowerBound)–\(entries[i].byteRange.upperBound))" }
            }
        }
        return problems
    }

    /// The name `coding` gives after `previous`, if any.
    static func name(_ coding: ArchiveEntry.NameCoding, after previous: [UInt8]) -> [UInt8]? {
        switch coding {
        case .countedOn: return ArchiveEntry.countedOn(previous)
        case .explicit(let shared, let suffix): return shared <= previous.count ? Array(previous[0..<shared]) + suffix : nil
        }
    }

    /// The first of `candidates` under which entry `index` (decoded to `running`) matches its
    /// CRC-32; failing that, the first candidate with one byte changed (a damaged name byte),
    /// when it has one.
    func confirmName(_ index: Int, running: UInt32, candidates: [[UInt8]]) -> (name: [UInt8], repaired: Bool)? {
        if let hit = candidates.first(where: { check(index, running: running, name: $0) }) { return (hit, false) }
        guard header.version == 2, case .explicit = entries[index].nameCoding, let damaged = candidates.first else { return nil }
        var name = damaged
        for i in name.indices {
            let original = name[i]
            for b in 0...255 where UInt8(b) != original {
                name[i] = UInt8(b)
                if check(index, running: running, name: name) { return (name, true) }
            }
            name[i] = original
        }
        return nil
    }

    /// An entry that repeats the shape of the entry before may have taken a wrong shape from a
    /// misread entry: when it fails its CRC-32 under the shape the chain gave, it is decoded again
    /// with the shape of the last confirmed entry (one entry at a time; only after damage).
    private func retryWithShape(_ i: Int, _ result: Result<(UInt32, [UInt8], Decoded), Error>,
                                _ shape: (width: Int, height: Int, colorType: UInt8, bitDepth: UInt8)?)
        -> Result<(UInt32, [UInt8], Decoded), Error>? {
        let e = entries[i]
        // (an entry whose shape no entry before could give, width 0, is a problem until then)
        guard header.version == 2, e.sameShape, let shape, shape != (e.width, e.height, e.colorType, e.bitDepth),
              problems[i] == nil || e.width == 0 else { return nil }
        if case .success(let (running, _, _)) = result, check(i, running: running, name: Array(e.name.utf8)) { return nil }
        var copy = e
        (copy.width, copy.height, copy.colorType, copy.bitDepth) = shape
        guard copy.width * copy.height <= maxPixels, let d = try? decode([copy])[0].get(),
              let file = try? PNGWriter.encode(d.image!) else { return nil }
        return .success((d.running, file, d))
    }

    /// The name of entry `index`, which follows the unreadable bytes `range`, when the entry
    /// before it (whose name it counts on or shares a prefix with) was lost there: its name is
    /// most likely still among those bytes, so every run of printable bytes in them (the first
    /// 1,024) is tried as the previous name. Only CRCs over names; only after damage.
    func nameFromLostBytes(_ index: Int, running: UInt32, range: Range<Int>) -> [UInt8]? {
        guard let k = unreadable.firstIndex(of: range) else { return nil }
        let bytes = unreadableBytes[k]
        for start in bytes.indices where bytes[start] > 0x20 && bytes[start] < 0x7F {
            var end = start + 1
            while end < bytes.count && bytes[end] >= 0x20 && bytes[end] < 0x7F {
                if let n = Self.name(entries[index].nameCoding, after: Array(bytes[start...end])), check(index, running: running, name: n) { return n }
                end += 1
            }
        }
        return nil
    }

    /// The name of entry `index` (decoded to `running`) after `base` and up to `lost / 6` lost
    /// entries (the smallest entry is 6 bytes) whose names counted on from it, if one matches its
    /// CRC-32.
    private func countingOn(from base: [UInt8], to index: Int, running: UInt32, lost: Int) -> [UInt8]? {
        var guess = base
        for _ in 0..<min(lost / 6 + 1, 1 << 20) {
            if let n = Self.name(entries[index].nameCoding, after: guess), check(index, running: running, name: n) { return n }
            guard let next = ArchiveEntry.countedOn(guess) else { return nil }
            guess = next
        }
        return nil
    }

    /// The names of entries lost in unreadable bytes, where the restored entries around them
    /// have names counted on from one to the other (`img-0016.png` … `img-0020.png`: 0017–0019
    /// were there), less those already among `outcomes`; and the unreadable ranges they explain.
    private func lostBetween(_ outcomes: [Outcome]) -> (names: [String], ranges: Set<Range<Int>>) {
        let restored = outcomes.filter { $0.index >= 0 && (try? $0.file.get()) != nil }
        let reported = Set(outcomes.map(\.name))
        var names: [String] = [], ranges = Set<Range<Int>>()
        for (a, b) in zip(restored, restored.dropFirst()) {
            let from = entries[a.index].byteRange.upperBound, to = entries[b.index].byteRange.lowerBound
            let between = unreadable.filter { !$0.isEmpty && $0.lowerBound >= from && $0.upperBound <= to }
            guard !between.isEmpty else { continue }
            var guess = Array(a.name.utf8), counted: [String] = []
            let target = Array(b.name.utf8)
            while counted.count <= b.index - a.index + (to - from) / 6, let next = ArchiveEntry.countedOn(guess), next != target {
                counted.append(String(decoding: next, as: UTF8.self))
                guess = next
            }
            guard ArchiveEntry.countedOn(guess) == target else { continue }
            let lost = counted.filter { !reported.contains($0) }
            if lost.isEmpty { continue }
            names += lost
            ranges.formUnion(between)
        }
        return (names, ranges)
    }

    /// Before any name is confirmed (the first entries lost, and with them the name the others
    /// count on from): each run of printable bytes in the unreadable ranges before entry `index`,
    /// nearest first (from its first, second or third byte: a kind or length byte may be
    /// printable), is tried as the lost name to count on from. Only CRCs over names.
    func nameCountedOnFromLostBytes(_ index: Int, running: UInt32) -> [UInt8]? {
        func printable(_ b: UInt8) -> Bool { b > 0x20 && b < 0x7F }
        let entryStart = entries[index].byteRange.lowerBound
        for (k, range) in unreadable.enumerated().reversed() where range.upperBound <= entryStart {
            let bytes = unreadableBytes[k]
            var start = 0
            while start < bytes.count {
                guard printable(bytes[start]) else { start += 1; continue }
                var end = start
                while end < bytes.count && printable(bytes[end]) { end += 1 }
                for s in start..<min(start + 3, end) {
                    if let n = countingOn(from: Array(bytes[s..<end]), to: index, running: running, lost: entryStart - range.lowerBound - s) { return n }
                }
                start = end
            }
        }
        return nil
    }

    /// What became of one entry when restoring.
    public struct Outcome: Sendable {
        /// Index in `entries`.
        public var index: Int
        /// The entry's name (confirmed by its CRC-32 when `file` succeeded; else the likeliest).
        public var name: String
        /// The restored file, or why the entry is lost.
        public var file: Result<[UInt8], ArchiveError>
        /// The entry is restored, but its name's bytes were damaged and repaired by its CRC-32.
        public var nameRepaired = false
        /// The entry is restored, but one byte among its fields was damaged and repaired by its
        /// CRC-32 (`repairedFields`).
        public var fieldsRepaired = false
    }

    /// Whether entry `index`'s decoding passes its CRC-32 under `name`.
    private func passes(_ index: Int, _ result: Result<(UInt32, [UInt8], Decoded), Error>, name: [UInt8]?) -> Bool {
        guard case .success(let (running, _, _)) = result, let name else { return false }
        return check(index, running: running, name: name)
    }

    /// Restores entries `selection` (default: all) in parallel; then, in archive order, confirms
    /// each name by the entry's CRC-32, trying after a damaged entry the names that counting on
    /// from the last confirmed name gives, and one-byte repairs of a damaged explicit name.
    /// - Returns: one outcome per selected entry, in archive order; plus one failure per
    ///   `unreadable` range (index −1) when no selection is given.
    public func restoreAll(selection: [Int]? = nil, threads: Int, progress: (@Sendable (Int) -> Void)? = nil) -> [Outcome] {
        let batches = batches(of: selection, size: batchSize(threads: threads))
        let lock = NSLock()
        nonisolated(unsafe) var done = 0
        let results = (try? parallelMap(batches.count, threads: threads) { i -> [Result<(UInt32, [UInt8], Decoded), Error>] in
            let decoded = zip(batches[i], decode(batch: batches[i])).map { index, d in
                Result { let d = try d.get(); return (d.running, try file(index, d), d) }
            }
            if let progress {
                lock.lock(); done += decoded.count; let n = done; lock.unlock()
                progress(n)
            }
            return decoded
        }) ?? []
        var decoded = [Result<(UInt32, [UInt8], Decoded), Error>?](repeating: nil, count: entries.count)
        for (batch, result) in zip(batches, results) { for (i, r) in zip(batch, result) { decoded[i] = r } }

        var outcomes: [Outcome] = []
        var previous: [UInt8] = []                   // the likeliest name of the entry before
        var confirmed: (name: [UInt8], index: Int)?  // the last confirmed name
        var confirmedShape: (width: Int, height: Int, colorType: UInt8, bitDepth: UInt8)?
        var seen = Set<[UInt8]>()
        for i in entries.indices {
            let parsed = Array(entries[i].name.utf8)
            let chained = header.version != 2 ? parsed : Self.name(entries[i].nameCoding, after: previous)
            guard var result = decoded[i] else { previous = problems[i] == nil ? parsed : chained ?? previous; continue }
            if let retry = retryWithShape(i, result, confirmedShape) { result = retry }
            var outcome = Outcome(index: i, name: chained.map { String(decoding: $0, as: UTF8.self) } ?? entries[i].name,
                                  file: .failure(.pixelChecksumMismatch(entry: entries[i].name)))
            // A damaged kind, shape or type byte in an entry whose shape or name the next one
            // repeats: both fail (damage to the payload alone fails only this one)
            var repairedName: [UInt8]?
            if header.version == 2, i + 1 < entries.count, entries[i + 1].sameShape || entries[i + 1].nameCoding == .countedOn,
               !passes(i, result, name: chained),
               let next = decoded[i + 1], !passes(i + 1, next, name: Self.name(entries[i + 1].nameCoding, after: chained ?? previous)),
               let fix = repairedFields(i, after: previous, shape: confirmedShape) {
                result = .success((fix.decoded.running, fix.file, fix.decoded))
                repairedName = fix.name
                outcome.fieldsRepaired = true
            }
            switch result {
            case .failure(let error):
                outcome.file = .failure(error as? ArchiveError ?? .corruptPayload(entry: entries[i].name, detail: "\(error)"))
            case .success(let (running, file, _)):
                let first = repairedName.map { ($0, false) } ?? confirmName(i, running: running, candidates: chained.map { [$0] } ?? [])
                var found = first?.0
                outcome.nameRepaired = first?.1 ?? false
                if found == nil, let range = unreadable.first(where: { $0.upperBound == entries[i].byteRange.lowerBound }),
                   confirmed.map({ $0.index < i - 1 || entries[$0.index].byteRange.upperBound < range.lowerBound }) ?? true {
                    found = nameFromLostBytes(i, running: running, range: range)
                }
                if found == nil, let c = confirmed, c.index < i - 1 || !unreadable.isEmpty {
                    // entries lost between (as many as the bytes between could hold): the names
                    // that counting on from the last confirmed one gives
                    found = countingOn(from: c.name, to: i, running: running, lost: entries[i].byteRange.lowerBound - entries[c.index].byteRange.upperBound)
                }
                if found == nil, confirmed == nil {
                    found = nameCountedOnFromLostBytes(i, running: running)
                }
                if let name = found {
                    let s = String(decoding: name, as: UTF8.self)
                    if String(validating: name, as: UTF8.self) == nil || (try? ArchiveEntry.validateName(s)) == nil {
                        outcome.file = .failure(.unsafeName(s))
                    } else if seen.insert(name).inserted {
                        outcome.name = s
                        outcome.file = .success(file)
                        confirmed = (name, i)
                        previous = name
                        if case .success(let (_, _, d)) = result, let image = d.image {
                            confirmedShape = (image.pixels.width, image.pixels.height, image.colorType.rawValue, UInt8(image.pixels.bitDepth))
                        }
                        outcomes.append(outcome)
                        continue
                    } else {
                        outcome.file = .failure(.duplicateName(s))
                    }
                } else {
                    outcome.file = .failure(.pixelChecksumMismatch(entry: outcome.name))
                }
            }
            previous = chained ?? ArchiveEntry.countedOn(previous) ?? previous
            outcomes.append(outcome)
        }
        guard selection == nil else { return outcomes }
        if let n = declaredEntryCount, n != entries.count, unreadable.isEmpty {
            outcomes.append(Outcome(index: -1, name: "end record", file: .failure(.invalidField(
                field: "end record", detail: "declares \(n) entries but \(entries.count) were found"))))
        }
        if let end = damagedEnd { outcomes.append(Outcome(index: -1, name: "end record", file: .failure(end.error))) }
        if header.version == 3 {
            outcomes += blockLosses(cutNames: cutNames)
        } else {
            let (lost, named) = lostBetween(outcomes)
            outcomes += lost.map { Outcome(index: -1, name: $0, file: .failure(.lostEntry($0))) }
            if let t = truncation {
                let name = cutEntryName(after: previous)
                outcomes.append(Outcome(index: -1, name: name ?? "end of archive", file: .failure(
                    .truncatedArchive(at: t.end, part: t.part, from: t.offset, entry: name))))
            }
            for range in unreadable where !named.contains(range) && !(range.isEmpty && truncation != nil) {
                outcomes.append(Outcome(index: -1, name: "bytes \(range.lowerBound)–\(range.upperBound)",
                                        file: .failure(.unreadableBytes(range.lowerBound, range.upperBound))))
            }
        }
        return outcomes
    }
}
