/// Where a truncated archive ends, and how many entries a restore got back, in numbers that add
/// up (Spec/ARCHIVE.md §6).
extension ArchiveReader {
    /// Where a version-2 archive without its end record is cut.
    public struct Truncation: Sendable, Equatable {
        /// What the cut falls in.
        public enum Part: Sendable, Equatable {
            /// Between two entries, or after the last: nothing of what followed is there.
            case betweenEntries
            /// Inside an entry: its first bytes are there, and it is lost.
            case entry
            /// Inside the end record: every entry is there, the entry count is not.
            case endRecord
        }
        /// Offset of the entry or end record the cut leaves incomplete (`end` between entries).
        public let offset: Int
        /// The archive's length as read: where it is cut.
        public let end: Int
        /// What the cut falls in.
        public let part: Part

        /// What `bytes` cut at their end hold from `offset`.
        static func part(_ bytes: [UInt8], at offset: Int) -> Part {
            offset >= bytes.count ? .betweenEntries : bytes[offset] == ArchiveEntry.endMarker ? .endRecord : .entry
        }
    }

    /// Bytes after the last whole entry that are neither an entry nor an end record (Spec/ARCHIVE.md
    /// §6): a damaged end record, junk after a cut, or junk after a whole end record.
    public struct DamagedEnd: Sendable, Equatable {
        /// The bytes, to the end of the archive.
        public let bytes: Range<Int>
        /// The entry count they give as an end record with one byte changed, when that count is
        /// the number of entries found (the end record is damaged, nothing is cut); nil: junk.
        public let repairedCount: Int?
        /// The junk follows a whole end record (appended): nothing is cut, no entry lost.
        public var afterEndRecord = false

        /// The line that names the bytes: a damaged end record, junk after the end record, or junk
        /// after the last whole entry.
        public var error: ArchiveError {
            let (from, to) = (bytes.lowerBound, bytes.upperBound)
            if let count = repairedCount { return .damagedEndRecord(from, to, count: count) }
            return afterEndRecord ? .junkAfterEndRecord(from, to) : .junkAfterEntries(from, to)
        }
    }

    /// The name of the entry a cut leaves incomplete, when its first bytes hold its name coding
    /// and it gives a safe name after `previous` (the name of the entry before).
    func cutEntryName(after previous: [UInt8]) -> String? {
        guard let t = truncation, t.part == .entry else { return nil }
        var r = ByteReader(archiveBytes, offset: t.offset)
        guard let kind = try? r.u8("entry kind") else { return nil }
        var coding = ArchiveEntry.NameCoding.countedOn
        if kind & ArchiveEntry.Kind.countedOn == 0 {
            guard let lengths = try? r.varint("entry name lengths"), lengths & 1023 > 0, r.remaining >= lengths & 1023 else { return nil }
            coding = .explicit(shared: lengths >> 10, suffix: Array(archiveBytes[r.offset..<(r.offset + lengths & 1023)]))
        }
        guard let name = Self.name(coding, after: previous), let s = String(validating: name, as: UTF8.self),
              (try? ArchiveEntry.validateName(s)) != nil else { return nil }
        return s
    }

    /// The names of entries lost that their fields give without decoding, as a restore names
    /// them (`restoreAll`): version 3, the entries of the block a cut falls in when its entry
    /// fields are all there; version 2, the entry a cut falls in when its first bytes give its
    /// name (after the last entry found). Entries lost in unreadable bytes are named only by a
    /// restore (version 2: counted on between the entries restored around them).
    public var lostEntryNames: [String] {
        guard truncation != nil else { return [] }
        if header.version == 3 { return cutNames }
        return cutEntryName(after: Array((entries.last?.name ?? "").utf8)).map { [$0] } ?? []
    }

    /// The counts of `restoreAll(selection:)`'s outcomes: restored + over the limit + refused for
    /// their names + damaged + lost equals the entry count whenever it is known (the selection's
    /// size, or the count the end record declares when it is at least the entries found whole).
    ///
    /// - Damaged: entries found whose bytes fail (their CRC-32, their decoding, a field). With a
    ///   known count, entries read from damaged bytes beyond it are misreadings, not entries, and
    ///   are not counted.
    /// - Lost: with a known count, the rest. Otherwise those named as lost in unreadable bytes,
    ///   one for each other unreadable range (each held at least one entry) and one for the entry
    ///   a cut leaves incomplete; entries after a cut are not counted (`truncation`).
    public func tally(_ outcomes: [Outcome], selection: [Int]? = nil) -> RestoreTally {
        var t = RestoreTally()
        var lostAtLeast = 0
        for o in outcomes {
            switch o.file {
            case .success: t.restored += 1
            case .failure(let e) where o.index >= 0 && e.isPixelLimit: t.overLimit += 1
            case .failure(let e) where o.index >= 0 && e.isRefusedName: t.refused += 1
            case .failure where o.index >= 0: t.damaged += 1
            case .failure(.lostEntry): lostAtLeast += 1
            case .failure(.unreadableBytes(let from, let to)) where from < to: lostAtLeast += 1
            case .failure(.truncatedArchive(_, .entry, _, _)): lostAtLeast += 1
            case .failure: break   // an end record that miscounts: no entry
            }
        }
        t.truncation = truncation
        if let selection {
            t.entryCount = selection.count
        } else if let n = declaredEntryCount, truncation == nil, n >= t.whole {
            t.entryCount = n
            t.damaged = min(t.damaged, max(0, n - t.whole - lostAtLeast))
        }
        if let n = t.entryCount {
            t.damaged = min(t.damaged, n - t.whole)
            t.lost = n - t.whole - t.damaged
        } else {
            t.lost = lostAtLeast
        }
        return t
    }
}

/// How many of an archive's entries a restore got back (`ArchiveReader.tally`).
public struct RestoreTally: Sendable, Equatable {
    /// Entries restored: decoded and confirmed by their CRC-32 under their names.
    public var restored = 0
    /// Entries found whose bytes fail.
    public var damaged = 0
    /// Entries left out for the pixel limit (`--max-pixels`): whole, not damaged.
    public var overLimit = 0
    /// Entries refused for their names (`ArchiveError.isRefusedName`: unsafe, or an earlier
    /// entry's), which their CRC-32 confirms: whole, not damaged.
    public var refused = 0
    /// Entries not found (in unreadable bytes, cut short, or missing by the end record's count).
    public var lost = 0
    /// The entry count, when known: `restored + overLimit + refused + damaged + lost`.
    public var entryCount: Int?
    /// Where the archive is cut, when it is (the entries after the cut are not counted).
    public var truncation: ArchiveReader.Truncation?

    /// Entries found or counted: `restored + overLimit + refused + damaged + lost` (the entry
    /// count when known, else a lower bound).
    public var accounted: Int { whole + damaged + lost }

    /// Entries whose bytes are all there and pass: restored, over the limit or refused.
    var whole: Int { restored + overLimit + refused }
}

extension ArchiveError {
    /// True for an entry refused for its name — unsafe (absolute, a `..` component, …) or an
    /// earlier entry's — although its CRC-32 confirms it: the archive was made so (crafted), it
    /// is not damaged (Spec/ARCHIVE.md §6).
    public var isRefusedName: Bool {
        switch self {
        case .unsafeName, .duplicateName: return true
        default: return false
        }
    }

    /// One line naming an entry refused for its name and why (`isRefusedName`); nil for any
    /// other error.
    public var refusalLine: String? {
        switch self {
        case .unsafeName(let name):
            return "entry \(name.debugDescription) refused for its unsafe name (\(Self.unsafeness(of: name))); it is not damaged, and not restored"
        case .duplicateName(let name):
            return "entry \(name.debugDescription) refused: an earlier entry has the same name; it is not damaged, and not restored"
        default: return nil
        }
    }

    /// What makes `name` unsafe (`ArchiveEntry.validateName`), in a few words.
    static func unsafeness(of name: String) -> String {
        let utf8 = Array(name.utf8)
        let components = utf8.split(separator: 0x2F, omittingEmptySubsequences: false)
        if utf8.isEmpty { return "empty" }
        if utf8.first == 0x2F { return "absolute" }
        if components.contains(where: { $0.elementsEqual([0x2E, 0x2E]) }) { return "a .. component" }
        if utf8.contains(0x5C) { return "a backslash" }
        if utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) { return "a control character" }
        if components.contains(where: { $0.elementsEqual([0x2E]) }) { return "a . component" }
        if components.contains(where: \.isEmpty) { return "an empty component" }
        if utf8.count > ArchiveEntry.maxNameBytes { return "over \(ArchiveEntry.maxNameBytes) bytes" }
        if components.contains(where: { $0.count > 255 }) { return "a component over 255 bytes" }
        return "not a safe name"
    }
}
