@testable import DDNKernel

/// Version-2 archives (every entry on its own, Spec/ARCHIVE.md §3–§3.3) for the tests of that
/// version's reader and salvage: still read, written when asked.
extension ArchiveWriter {
    /// A writer of version-2 archives.
    static var version2: ArchiveWriter {
        var w = ArchiveWriter()
        w.formatVersion = 2
        return w
    }
}

extension ArchiveHeader {
    /// A version-2 header with no model and no statistics.
    static var version2: ArchiveHeader {
        var h = ArchiveHeader()
        h.version = 2
        return h
    }
}
