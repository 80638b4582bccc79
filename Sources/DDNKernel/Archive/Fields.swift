/// One declaration of a structure's fields drives reading, writing and sizing (libjxl's
/// `VisitFields` pattern), so reader and writer cannot drift apart.
///
/// A type lists its fields in byte order in `visitFields(_:)`; each visitor either writes the
/// current values, reads them (replacing them), or counts bytes. Counts are checked against the
/// bytes that remain before anything is allocated.
protocol FieldVisitor {
    /// True when the visitor replaces values with what it reads.
    var isReading: Bool { get }
    mutating func u8(_ v: inout UInt8, _ field: String) throws
    /// 4 bytes, big-endian.
    mutating func u32(_ v: inout UInt32, _ field: String) throws
    /// An unsigned LEB128 varint (Spec/ARCHIVE.md §1), value ≤ `max` (at most 2^32 − 1).
    mutating func varint(_ v: inout Int, max: Int, _ field: String) throws
    /// Exactly `count` bytes, no length prefix.
    mutating func fixed(_ v: inout [UInt8], count: Int, _ field: String) throws
    /// A varint byte count (≤ `max`), then the bytes. Reading checks the count against what remains.
    mutating func bytes(_ v: inout [UInt8], max: Int, _ field: String) throws
    /// A varint item count; when reading, refused if `count × minItemSize` exceeds what remains.
    mutating func count(_ n: inout Int, minItemSize: Int, _ field: String) throws
    /// Exactly `count` payload bytes; a skimming reader steps over them without copying.
    mutating func payload(_ v: inout [UInt8], count: Int, _ field: String) throws
}

/// A structure whose byte layout is its field list.
protocol FieldBundle {
    init()
    mutating func visitFields<V: FieldVisitor>(_ v: inout V) throws
}

struct WritingVisitor: FieldVisitor {
    var out = ByteWriter()
    var isReading: Bool { false }
    mutating func u8(_ v: inout UInt8, _ field: String) { out.u8(v) }
    mutating func u32(_ v: inout UInt32, _ field: String) { out.u32(v) }
    mutating func varint(_ v: inout Int, max: Int, _ field: String) {
        precondition(v >= 0 && v <= max && v <= 0xFFFF_FFFF, "\(field) out of range")
        out.varint(v)
    }
    mutating func fixed(_ v: inout [UInt8], count: Int, _ field: String) {
        precondition(v.count == count, "\(field) must have \(count) bytes")
        out.raw(v)
    }
    mutating func bytes(_ v: inout [UInt8], max: Int, _ field: String) {
        precondition(v.count <= max && v.count <= 0xFFFF_FFFF, "\(field) too long")
        out.varint(v.count); out.raw(v)
    }
    mutating func count(_ n: inout Int, minItemSize: Int, _ field: String) {
        precondition(n >= 0 && n <= 0xFFFF_FFFF, "\(field) out of range")
        out.varint(n)
    }
    mutating func payload(_ v: inout [UInt8], count: Int, _ field: String) { fixed(&v, count: count, field) }
}

struct ReadingVisitor: FieldVisitor {
    var input: ByteReader
    /// Step over payloads instead of copying them (finding entries in a damaged archive).
    var skimming = false
    var isReading: Bool { true }
    mutating func payload(_ v: inout [UInt8], count: Int, _ field: String) throws {
        if skimming { try input.need(count, field); input.offset += count } else { v = try input.raw(count, field) }
    }
    mutating func u8(_ v: inout UInt8, _ field: String) throws { v = try input.u8(field) }
    mutating func u32(_ v: inout UInt32, _ field: String) throws { v = try input.u32(field) }
    mutating func varint(_ v: inout Int, max: Int, _ field: String) throws {
        v = try input.varint(field)
        guard v <= max else { throw ArchiveError.invalidField(field: field, detail: "is \(v), more than \(max)") }
    }
    mutating func fixed(_ v: inout [UInt8], count: Int, _ field: String) throws { v = try input.raw(count, field) }
    mutating func bytes(_ v: inout [UInt8], max: Int, _ field: String) throws {
        let n = try input.varint(field + " length")
        guard n <= input.remaining else {
            throw ArchiveError.lengthExceedsData(field: field, claimed: n, remaining: input.remaining)
        }
        guard n <= max else { throw ArchiveError.invalidField(field: field, detail: "length \(n) exceeds \(max)") }
        v = try input.raw(n, field)
    }
    mutating func count(_ n: inout Int, minItemSize: Int, _ field: String) throws {
        n = try input.varint(field)
        guard n * minItemSize <= input.remaining else {
            throw ArchiveError.lengthExceedsData(field: field, claimed: n, remaining: input.remaining)
        }
    }
}

struct SizingVisitor: FieldVisitor {
    var size = 0
    var isReading: Bool { false }
    mutating func u8(_ v: inout UInt8, _ field: String) { size += 1 }
    mutating func u32(_ v: inout UInt32, _ field: String) { size += 4 }
    mutating func varint(_ v: inout Int, max: Int, _ field: String) { size += ByteWriter.varintSize(v) }
    mutating func fixed(_ v: inout [UInt8], count: Int, _ field: String) { size += count }
    mutating func bytes(_ v: inout [UInt8], max: Int, _ field: String) { size += ByteWriter.varintSize(v.count) + v.count }
    mutating func count(_ n: inout Int, minItemSize: Int, _ field: String) { size += ByteWriter.varintSize(n) }
    mutating func payload(_ v: inout [UInt8], count: Int, _ field: String) { size += count }
}

extension FieldBundle {
    /// The bundle's bytes.
    func serialized() -> [UInt8] {
        var copy = self
        var v = WritingVisitor()
        try! copy.visitFields(&v)  // writing never throws
        return v.out.bytes
    }
    /// Number of bytes `serialized()` gives.
    var serializedSize: Int {
        var copy = self
        var v = SizingVisitor()
        try! copy.visitFields(&v)
        return v.size
    }
    /// Reads a bundle at `reader`'s offset and advances it.
    static func read(from reader: inout ByteReader) throws -> Self {
        var value = Self()
        var v = ReadingVisitor(input: reader)
        try value.visitFields(&v)
        reader = v.input
        return value
    }
}
