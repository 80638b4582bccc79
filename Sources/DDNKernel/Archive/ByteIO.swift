/// Big-endian byte output for the archive format.
struct ByteWriter {
    var bytes: [UInt8] = []
    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { bytes.append(UInt8(v >> 8)); bytes.append(UInt8(v & 0xFF)) }
    mutating func u32(_ v: UInt32) {
        bytes.append(UInt8(v >> 24)); bytes.append(UInt8((v >> 16) & 0xFF))
        bytes.append(UInt8((v >> 8) & 0xFF)); bytes.append(UInt8(v & 0xFF))
    }
    /// Unsigned LEB128: 7 bits per byte, least significant first, high bit = more bytes follow.
    mutating func varint(_ v: Int) {
        var x = UInt64(v)
        while x >= 0x80 { bytes.append(UInt8(x & 0x7F) | 0x80); x >>= 7 }
        bytes.append(UInt8(x))
    }
    static func varintSize(_ v: Int) -> Int {
        var n = 1, x = UInt64(v)
        while x >= 0x80 { n += 1; x >>= 7 }
        return n
    }
    mutating func raw<C: Collection>(_ v: C) where C.Element == UInt8 { bytes.append(contentsOf: v) }
}

/// Big-endian, bounds-checked byte input: every read checks the bytes that remain first, so a
/// corrupt length can never cause a large allocation or a read past the end.
struct ByteReader {
    let bytes: [UInt8]
    var offset: Int

    init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    var remaining: Int { bytes.count - offset }

    mutating func need(_ n: Int, _ field: String) throws {
        guard n <= remaining else {
            if n > 64 { throw ArchiveError.lengthExceedsData(field: field, claimed: n, remaining: remaining) }
            throw ArchiveError.truncated(field: field, offset: offset)
        }
    }
    mutating func u8(_ field: String) throws -> UInt8 {
        try need(1, field); defer { offset += 1 }
        return bytes[offset]
    }
    mutating func u16(_ field: String) throws -> UInt16 {
        try need(2, field); defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }
    mutating func u32(_ field: String) throws -> UInt32 {
        try need(4, field); defer { offset += 4 }
        return UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }
    /// Unsigned LEB128 of at most 5 bytes, value ≤ 2^32 − 1, minimal form (no trailing 0x80 0x00).
    mutating func varint(_ field: String) throws -> Int {
        var value = 0, shift = 0
        while true {
            let b = try u8(field)
            value |= Int(b & 0x7F) << shift
            if b & 0x80 == 0 {
                if b == 0 && shift > 0 { throw ArchiveError.invalidField(field: field, detail: "is not a minimal varint") }
                break
            }
            shift += 7
            if shift >= 35 { throw ArchiveError.invalidField(field: field, detail: "varint is longer than 5 bytes") }
        }
        guard value <= 0xFFFF_FFFF else { throw ArchiveError.invalidField(field: field, detail: "exceeds 2^32 − 1") }
        return value
    }
    mutating func raw(_ n: Int, _ field: String) throws -> [UInt8] {
        try need(n, field); defer { offset += n }
        return Array(bytes[offset..<(offset + n)])
    }
}
