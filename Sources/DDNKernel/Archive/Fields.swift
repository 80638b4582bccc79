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
    mutating func u16(_ v: inout UInt16, _ field: String) throws
    mutating func u32(_ v: inout UInt32, _ field: String) throws
    /// Exactly `count` bytes, no length prefix.
    mutating func fixed(_ v: inout [UInt8], count: Int, _ field: String) throws
    /// A u16 byte count, then the bytes; at most `max` bytes.
    mutating func bytes16(_ v: inout [UInt8], max: Int, _ field: String) throws
    /// A u32 byte count, then the bytes.
    mutating func bytes32(_ v: inout [UInt8], _ field: String) throws
    /// A u32 item count; when reading, refused if `count × minItemSize` exceeds what remains.
    mutating func count32(_ n: inout Int, minItemSize: Int, _ field: String) throws
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
    mutating func u16(_ v: inout UInt16, _ field: String) { out.u16(v) }
    mutating func u32(_ v: inout UInt32, _ field: String) { out.u32(v) }
    mutating func fixed(_ v: inout [UInt8], count: Int, _ field: String) {
        precondition(v.count == count, "\(field) must have \(count) bytes")
        out.raw(v)
    }
    mutating func bytes16(_ v: inout [UInt8], max: Int, _ field: String) {
        precondition(v.count <= max && v.count <= 0xFFFF, "\(field) too long")
        out.u16(UInt16(v.count)); out.raw(v)
    }
    mutating func bytes32(_ v: inout [UInt8], _ field: String) {
        precondition(v.count <= 0xFFFF_FFFF, "\(field) too long")
        out.u32(UInt32(v.count)); out.raw(v)
    }
    mutating func count32(_ n: inout Int, minItemSize: Int, _ field: String) {
        precondition(n >= 0 && n <= 0xFFFF_FFFF, "\(field) out of range")
        out.u32(UInt32(n))
    }
}

struct ReadingVisitor: FieldVisitor {
    var input: ByteReader
    var isReading: Bool { true }
    mutating func u8(_ v: inout UInt8, _ field: String) throws { v = try input.u8(field) }
    mutating func u16(_ v: inout UInt16, _ field: String) throws { v = try input.u16(field) }
    mutating func u32(_ v: inout UInt32, _ field: String) throws { v = try input.u32(field) }
    mutating func fixed(_ v: inout [UInt8], count: Int, _ field: String) throws { v = try input.raw(count, field) }
    mutating func bytes16(_ v: inout [UInt8], max: Int, _ field: String) throws {
        let n = Int(try input.u16(field + " length"))
        guard n <= max else { throw ArchiveError.invalidField(field: field, detail: "length \(n) exceeds \(max)") }
        v = try input.raw(n, field)
    }
    mutating func bytes32(_ v: inout [UInt8], _ field: String) throws {
        let n = Int(try input.u32(field + " length"))
        guard n <= input.remaining else {
            throw ArchiveError.lengthExceedsData(field: field, claimed: n, remaining: input.remaining)
        }
        v = try input.raw(n, field)
    }
    mutating func count32(_ n: inout Int, minItemSize: Int, _ field: String) throws {
        n = Int(try input.u32(field))
        guard n * minItemSize <= input.remaining else {
            throw ArchiveError.lengthExceedsData(field: field, claimed: n, remaining: input.remaining)
        }
    }
}

struct SizingVisitor: FieldVisitor {
    var size = 0
    var isReading: Bool { false }
    mutating func u8(_ v: inout UInt8, _ field: String) { size += 1 }
    mutating func u16(_ v: inout UInt16, _ field: String) { size += 2 }
    mutating func u32(_ v: inout UInt32, _ field: String) { size += 4 }
    mutating func fixed(_ v: inout [UInt8], count: Int, _ field: String) { size += count }
    mutating func bytes16(_ v: inout [UInt8], max: Int, _ field: String) { size += 2 + v.count }
    mutating func bytes32(_ v: inout [UInt8], _ field: String) { size += 4 + v.count }
    mutating func count32(_ n: inout Int, minItemSize: Int, _ field: String) { size += 4 }
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
