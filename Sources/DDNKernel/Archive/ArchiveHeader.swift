import CPNG

/// The archive header. Its field list below is the byte layout: it drives reading, writing and
/// sizing. Version 2 ends with a CRC-32 of the header's bytes and is followed by the entries up to
/// the end of the archive; version 1 (read only) ends with an entry count.
///
/// Source: Spec/ARCHIVE.md §2 (version 2), §8 (version 1).
public struct ArchiveHeader: Equatable, Sendable {
    /// "DDNZ".
    public static let magic: [UInt8] = [0x44, 0x44, 0x4E, 0x5A]
    /// The format version this build writes.
    public static let currentVersion: UInt8 = 3
    /// Bytes of the model's SHA-256 a version-2 header stores (a 32-bit prefix: it tells models
    /// apart for a clear message; each entry's CRC-32 over its decoded pixels still catches a
    /// wrong model).
    public static let identityBytes = 4

    /// The model identity the header of `bytes` names, read where format 2 and 3 keep it
    /// (Spec/ARCHIVE.md §2), even when the header does not parse: what header repair needs the
    /// model for. Empty when the bytes are too short to hold it.
    public static func namedModel(_ bytes: [UInt8]) -> [UInt8] {
        bytes.count >= 10 + identityBytes ? Array(bytes[10..<(10 + identityBytes)]) : []
    }

    /// Format version (2; 1 for an archive of the previous version).
    public var version: UInt8 = ArchiveHeader.currentVersion
    /// The leading bytes of the SHA-256 of the model file the entries need (8 bytes in version 2,
    /// 32 in version 1); empty when the entries need no model.
    public var modelIdentity: [UInt8] = []
    /// Shared starting statistics for the coders (a "dictionary"), empty when none.
    public var statistics: [UInt8] = []
    /// Version 1 only: the number of entries that follow.
    public var entryCount: Int = 0
    /// Version 2: tells this archive's entries from another's (every entry's CRC-32 covers it):
    /// the writer's CRC-32 of all entry names and payloads.
    public var archiveID: UInt32 = 0

    /// A version-2 header with no model and no statistics.
    public init() {}

    /// True when the entries need a model.
    public var hasModel: Bool { !modelIdentity.isEmpty }

    /// True when `identity` (a model's full SHA-256) is the model this header names.
    public func names(model identity: [UInt8]) -> Bool {
        hasModel && identity.starts(with: modelIdentity)
    }
}

extension ArchiveHeader: FieldBundle {
    mutating func visitFields<V: FieldVisitor>(_ v: inout V) throws {
        var magic = Self.magic
        try v.fixed(&magic, count: 4, "magic")
        if v.isReading && magic != Self.magic { throw ArchiveError.notAnArchive }
        try v.u8(&version, "version")
        if v.isReading && !(1...3).contains(version) { throw ArchiveError.unsupportedVersion(version) }
        // flags: bit 0 model identity follows, bit 1 statistics follow; other bits must be 0.
        var flags: UInt8 = (hasModel ? 1 : 0) | (statistics.isEmpty ? 0 : 2)
        try v.u8(&flags, "header flags")
        if v.isReading && flags & ~3 != 0 { throw ArchiveError.invalidField(field: "header flags", detail: "has unknown bits \(flags)") }
        if version >= 2 { try v.u32(&archiveID, "archive id") }
        if flags & 1 != 0 {
            try v.fixed(&modelIdentity, count: version == 1 ? 32 : Self.identityBytes, "model identity")
            if v.isReading && !modelIdentity.contains(where: { $0 != 0 }) {
                throw ArchiveError.invalidField(field: "model identity", detail: "is all zeros")
            }
        }
        if flags & 2 != 0 {
            try v.bytes(&statistics, max: 0xFFFF_FFFF, "statistics")
            if v.isReading && statistics.isEmpty { throw ArchiveError.invalidField(field: "statistics", detail: "are empty") }
        }
        if version == 1 { try v.count(&entryCount, minItemSize: 8, "entry count") }
    }
}

/// CRC-32 (zlib) of `bytes`.
func crc32(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
    cpng_crc32(0, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count)
}

/// CRC-32 (zlib) of `bytes`.
func crc32(_ bytes: [UInt8]) -> UInt32 {
    bytes.withUnsafeBytes { crc32($0) }
}

/// The CRC-32 `crc` of some bytes continued over `bytes` (zlib's running CRC).
func crc32(continuing crc: UInt32, _ bytes: [UInt8]) -> UInt32 {
    bytes.withUnsafeBufferPointer { cpng_crc32(crc, $0.baseAddress, $0.count) }
}

/// CRC-32 of the pixels as Spec/ARCHIVE.md §3.2 defines their bytes: every sample as one byte when
/// the bit depth is ≤ 8, else as two bytes big-endian, in sample order; continuing the running
/// CRC `crc` (0: the pixels alone).
public func pixelCRC32(_ image: PixelImage, continuing crc: UInt32 = 0) -> UInt32 {
    var crc = crc
    var buffer = [UInt8]()
    buffer.reserveCapacity(min(image.samples.count * 2, 1 << 16))
    let wide = image.bitDepth > 8
    var i = 0
    while i < image.samples.count {
        buffer.removeAll(keepingCapacity: true)
        let end = min(image.samples.count, i + 32768)
        for s in image.samples[i..<end] {
            if wide { buffer.append(UInt8(s >> 8)) }
            buffer.append(UInt8(truncatingIfNeeded: s))
        }
        crc = buffer.withUnsafeBufferPointer { cpng_crc32(crc, $0.baseAddress, $0.count) }
        i = end
    }
    return crc
}
