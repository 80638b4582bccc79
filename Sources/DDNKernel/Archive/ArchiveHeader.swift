import CPNG

/// The archive header, format version 1. Its field list below is the byte layout: it drives
/// reading, writing and sizing. Followed on disk by a CRC-32 of its bytes.
///
/// Source: Spec/ARCHIVE.md §2.
public struct ArchiveHeader: Equatable, Sendable {
    /// "DDNZ".
    public static let magic: [UInt8] = [0x44, 0x44, 0x4E, 0x5A]
    /// The format version this build writes and reads.
    public static let currentVersion: UInt8 = 1

    /// Format version (1).
    public var version: UInt8 = ArchiveHeader.currentVersion
    /// SHA-256 of the model file the entries need; 32 zero bytes when none (then not stored).
    public var modelIdentity: [UInt8] = [UInt8](repeating: 0, count: 32)
    /// Shared starting statistics for the coders (a "dictionary"), empty when none.
    public var statistics: [UInt8] = []
    /// Number of entries that follow.
    public var entryCount: Int = 0

    /// A version-1 header with no model, no statistics and no entries.
    public init() {}

    /// True when `modelIdentity` is not all zeros.
    public var hasModel: Bool { modelIdentity.contains { $0 != 0 } }
}

extension ArchiveHeader: FieldBundle {
    mutating func visitFields<V: FieldVisitor>(_ v: inout V) throws {
        var magic = Self.magic
        try v.fixed(&magic, count: 4, "magic")
        if v.isReading && magic != Self.magic { throw ArchiveError.notAnArchive }
        try v.u8(&version, "version")
        if v.isReading && version != Self.currentVersion { throw ArchiveError.unsupportedVersion(version) }
        // flags: bit 0 model identity follows, bit 1 statistics follow; other bits must be 0.
        var flags: UInt8 = (hasModel ? 1 : 0) | (statistics.isEmpty ? 0 : 2)
        try v.u8(&flags, "header flags")
        if v.isReading && flags & ~3 != 0 { throw ArchiveError.invalidField(field: "header flags", detail: "has unknown bits \(flags)") }
        if flags & 1 != 0 {
            try v.fixed(&modelIdentity, count: 32, "model identity")
            if v.isReading && !hasModel { throw ArchiveError.invalidField(field: "model identity", detail: "is all zeros") }
        }
        if flags & 2 != 0 {
            try v.bytes(&statistics, max: 0xFFFF_FFFF, "statistics")
            if v.isReading && statistics.isEmpty { throw ArchiveError.invalidField(field: "statistics", detail: "are empty") }
        }
        try v.count(&entryCount, minItemSize: ArchiveEntry.minimumSize, "entry count")
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

/// CRC-32 of the pixels as Spec/ARCHIVE.md §4 defines it: every sample as one byte when the bit
/// depth is ≤ 8, else as two bytes big-endian, in sample order.
public func pixelCRC32(_ image: PixelImage) -> UInt32 {
    var crc: UInt32 = 0
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
