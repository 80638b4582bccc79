/// Why an archive could not be written, read or restored. Every case prints as one line.
///
/// Source: Spec/ARCHIVE.md.
public enum ArchiveError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The data does not start with the archive magic.
    case notAnArchive
    /// The format version is not one this build reads.
    case unsupportedVersion(UInt8)
    /// The archive ends before a field that `field` names (offset in bytes).
    case truncated(field: String, offset: Int)
    /// A count or length claims more than the bytes that remain.
    case lengthExceedsData(field: String, claimed: Int, remaining: Int)
    /// A field holds a value the format forbids.
    case invalidField(field: String, detail: String)
    /// A header or entry CRC-32 does not match its bytes.
    case checksumMismatch(what: String)
    /// An entry name is unsafe (absolute, `..` or `.` or empty component, backslash, NUL, not UTF-8, empty).
    case unsafeName(String)
    /// Two entries have the same name.
    case duplicateName(String)
    /// The entry's coder id is unknown to this build.
    case unknownCoder(UInt8, entry: String)
    /// The entry's payload did not decode; `detail` says why.
    case corruptPayload(entry: String, detail: String)
    /// The entry does not match its CRC-32 (version 2: over its bytes, pixels and name;
    /// version 1: over its pixels).
    case pixelChecksumMismatch(entry: String)
    /// Bytes from the first offset to the second could not be read as entries (version 2).
    case unreadableBytes(Int, Int)
    /// An entry lost in unreadable bytes, named by counting on between the entries restored
    /// around it.
    case lostEntry(String)
    /// The archive ends at byte `at` before its end record (version 2), in `part`: inside the
    /// entry that starts at byte `from` (named `entry` when its bytes give the name), between
    /// entries, or inside the end record.
    case truncatedArchive(at: Int, part: ArchiveReader.Truncation.Part, from: Int, entry: String?)
    /// The bytes from the first offset to the second end the archive but are a damaged end record:
    /// the `count` entries found leave no byte unread (and version 2: one changed byte makes the
    /// bytes count them), so none is lost.
    case damagedEndRecord(Int, Int, count: Int)
    /// The bytes from the first offset to the second, after the last whole entry, are neither an
    /// entry nor an end record (version 2: junk after a cut; no entry lost in them).
    case junkAfterEntries(Int, Int)
    /// The bytes from the first offset to the second follow a whole end record (junk appended):
    /// they hold no entry, so none is lost in them.
    case junkAfterEndRecord(Int, Int)
    /// The archive needs a model this build was not given (SHA-256 in hex).
    case modelMismatch(expected: String, given: String)
    /// Bytes follow the last entry.
    case trailingData(Int)
    /// An input file could not be archived.
    case input(name: String, problem: String)
    /// The entry's width × height is over the reader's pixel limit (`--max-pixels`): it is left
    /// out, not damaged.
    case overPixelLimit(entry: String, width: Int, height: Int, limit: Int)

    /// True for an entry over the pixel limit: a choice of the reader, not damage.
    public var isPixelLimit: Bool {
        if case .overPixelLimit = self { return true }
        return false
    }

    /// The description without its leading "corrupt archive: ", to follow another line's
    /// "corrupt archive: entry NAME: " (one prefix a line); any other error as it prints.
    static func detail(_ error: Error) -> String {
        let line = "\(error)", prefix = "corrupt archive: "
        return line.hasPrefix(prefix) ? String(line.dropFirst(prefix.count)) : line
    }

    /// A name as printed: quoted with escapes when it holds control characters (a damaged name).
    public static func shown(_ name: String) -> String {
        name.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F } ? name.debugDescription : name
    }

    /// One line for a user.
    public var description: String {
        switch self {
        case .notAnArchive: return "not a ddnzip archive"
        case .unsupportedVersion(let v): return "archive format version \(v) is not supported (this build reads versions 1 to \(ArchiveHeader.currentVersion))"
        case .truncated(let field, let offset): return "archive is truncated (at byte \(offset), reading \(field))"
        case .lengthExceedsData(let field, let claimed, let remaining):
            return "corrupt archive: \(field) claims \(claimed) but only \(remaining) bytes remain"
        case .invalidField(let field, let detail): return "corrupt archive: \(field) \(detail)"
        case .checksumMismatch(let what): return "corrupt archive: CRC-32 mismatch in \(what)"
        case .unsafeName(let name): return "unsafe entry name \(name.debugDescription)"
        case .duplicateName(let name): return "two entries named \(name.debugDescription)"
        case .unknownCoder(let id, let entry): return "entry \(Self.shown(entry)) uses coder \(id), unknown to this version"
        case .corruptPayload(let entry, let detail): return "corrupt archive: entry \(Self.shown(entry)): \(detail)"
        case .pixelChecksumMismatch(let entry): return "corrupt archive: entry \(Self.shown(entry)) fails its CRC-32"
        case .unreadableBytes(let from, let to):
            if from == to { return "archive is truncated at byte \(from) (its end record is missing; entries after it are lost)" }
            return "corrupt archive: bytes \(from)–\(to) do not read as entries (at least one entry lost)"
        case .truncatedArchive(let at, let part, let from, let entry):
            switch part {
            case .entry:
                let which = entry.map { "entry \(Self.shown($0)) (from byte \(from))" } ?? "the entry from byte \(from)"
                return "archive is truncated at byte \(at), inside \(which): it is lost, and so are any entries after it (the end record that counts them is missing)"
            case .betweenEntries:
                return "archive is truncated at byte \(at), after a whole entry: its end record is missing, so any entries after it are lost uncounted"
            case .endRecord:
                return "archive is truncated at byte \(at), inside its end record: no entry is lost"
            }
        case .damagedEndRecord(let from, let to, let count):
            return "corrupt archive: the end record (bytes \(from)–\(to)) is damaged; the \(count) entries found leave no byte unread: no entry is lost"
        case .junkAfterEntries(let from, let to):
            return "corrupt archive: bytes \(from)–\(to) after the last whole entry are neither an entry nor an end record (junk)"
        case .junkAfterEndRecord(let from, let to):
            return "corrupt archive: bytes \(from)–\(to) follow the end record (junk appended; no entry is lost in them)"
        case .lostEntry(let name): return "corrupt archive: entry \(Self.shown(name)) is lost in damaged bytes (named by the entries around it)"
        case .modelMismatch(let expected, let given):
            // 16 hex digits tell models apart; all 64 when those agree (a damaged header)
            let n = expected.prefix(16) == given.prefix(16) ? 64 : 16
            return "archive needs model \(expected.prefix(n))…, given \(given.prefix(n))… (pick the model with -m)"
        case .trailingData(let n): return "corrupt archive: \(n) bytes after the last entry"
        case .input(let name, let problem): return "\(name): \(problem)"
        case .overPixelLimit(let entry, let w, let h, let limit):
            return "\(Self.shown(entry)): \(w)×\(h) = \(w * h) pixels, over the pixel limit of \(limit) (raise it with --max-pixels \(w * h))"
        }
    }
}
