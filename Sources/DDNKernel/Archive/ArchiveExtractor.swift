import Foundation

/// Restores an archive's files to a folder: decode everything first (in parallel), then write;
/// never outside the folder, never over an existing file unless asked, nothing left on failure.
public enum ArchiveExtractor {
    /// The restored file bytes of every entry, in archive order.
    /// - Throws: the first (in archive order) entry's `ArchiveError`.
    public static func restoreAll(_ reader: ArchiveReader, threads: Int,
                                  progress: (@Sendable (Int) -> Void)? = nil) throws -> [[UInt8]] {
        let lock = NSLock()
        nonisolated(unsafe) var done = 0
        let batches = reader.batches()
        let results = try parallelMap(batches.count, threads: threads) { i in
            let files = reader.restore(batch: batches[i])
            if let progress {
                lock.lock(); done += files.count; let n = done; lock.unlock()
                progress(n)
            }
            return files
        }
        var files = [Result<[UInt8], Error>?](repeating: nil, count: reader.entries.count)
        for (batch, result) in zip(batches, results) { for (i, r) in zip(batch, result) { files[i] = r } }
        return try files.map { try $0!.get() }
    }

    /// Writes `files[i]` as `dir/names[i]`. Names were validated by the reader (one safe path
    /// component each). Existing files are refused up front unless `overwrite`. On failure, files
    /// this call created are removed.
    /// - Returns: the number of files written.
    public static func write(_ files: [[UInt8]], names: [String], into dir: String, overwrite: Bool) throws -> Int {
        for name in names { try ArchiveEntry.validateName(name) }
        let paths = names.map { (dir as NSString).appendingPathComponent($0) }
        if !overwrite, let existing = paths.first(where: { ArchiveFiles.exists($0) }) {
            throw FileError("\(existing) exists (use -f to overwrite)")
        }
        try ArchiveFiles.makeFolder(dir)
        var created: [String] = []
        do {
            for (path, bytes) in zip(paths, files) {
                let existed = ArchiveFiles.exists(path)
                try ArchiveFiles.writeAtomically(bytes, to: path, overwrite: overwrite)
                if !existed { created.append(path) }
            }
        } catch {
            for path in created { unlink(path) }
            throw error
        }
        return files.count
    }
}

/// `ddnunzip -l` output.
public enum ArchiveListing {
    /// One line per entry (bytes, coder, size, name) and a total line.
    public static func table(_ reader: ArchiveReader) -> String {
        var lines = ["   payload  coder       size  type  name"]
        for e in reader.entries {
            let coder = e.isStored ? "stored" : CoderID.name(e.coder)
            let size = e.isStored ? "-" : "\(e.width)x\(e.height)"
            let type = e.isStored ? "-" : "\(e.colorType)/\(e.bitDepth)\(e.interlaced ? "i" : "")"
            lines.append(pad(String(e.payload.count), 10) + "  " + pad(coder, 7, left: true) + pad(size, 11) + "  " +
                         pad(type, 4, left: true) + "  " + e.name)
        }
        lines.append("\(reader.entries.count) entries, \(reader.entries.reduce(0) { $0 + $1.payload.count }) payload bytes")
        return lines.joined(separator: "\n")
    }

    private static func pad(_ s: String, _ n: Int, left: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, n - s.count))
        return left ? s + fill : fill + s
    }
}
