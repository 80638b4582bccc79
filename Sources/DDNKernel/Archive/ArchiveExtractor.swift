import Foundation

/// Writes restored files into a folder (`ArchiveReader.restoreAll` decodes them): never outside
/// the folder, never over an existing file unless asked, nothing partial on failure.
public enum ArchiveExtractor {
    /// What `write` did: files written, targets left alone because they exist, and failures.
    public struct Outcome: Sendable, Equatable {
        /// Files written.
        public var written = 0
        /// Paths of the targets that existed (without `overwrite`) and were left as they were.
        public var existing: [String] = []
        /// One line per file that could not be written.
        public var failed: [String] = []
    }

    /// Writes `files[i]` as `dir/names[i]`, creating the subfolders a name holds. Names are
    /// checked again (`ArchiveEntry.validateName`), and a subfolder that exists as a symbolic link
    /// is refused, so nothing is written outside `dir`. Without `overwrite` an existing target
    /// (file, folder or link, also one that appears while writing) is left as it is and listed in
    /// `existing`; the others are still written. A file that cannot be written (a folder in its
    /// place with `overwrite`, a refused symbolic link) is reported in `failed` and the others are
    /// still written. Every file goes through a temporary file and a link or rename
    /// (`Files.writeAtomically`).
    /// - Returns: what was written, skipped and refused.
    /// - Throws: `ArchiveError.unsafeName` (before anything is written) or `FileError` when `dir`
    ///   cannot be created.
    public static func write(_ files: [[UInt8]], names: [String], into dir: String, overwrite: Bool) throws -> Outcome {
        for name in names { try ArchiveEntry.validateName(name) }
        let paths = names.map { (dir as NSString).appendingPathComponent($0) }
        try Files.makeFolder(dir)
        var outcome = Outcome()
        for (name, (path, bytes)) in zip(names, zip(paths, files)) {
            if !overwrite && Files.exists(path) {
                outcome.existing.append(path)
                continue
            }
            do {
                var folder = dir
                for component in name.split(separator: "/").dropLast() {
                    folder = (folder as NSString).appendingPathComponent(String(component))
                    if Files.isSymbolicLink(folder) { throw FileError("\(folder) is a symbolic link; not restoring through it") }
                    try Files.makeFolder(folder)
                }
                try Files.writeAtomically(bytes, to: path, overwrite: overwrite)
                outcome.written += 1
            } catch {
                // the link refused a file that appeared meanwhile: existing, not a failure
                if !overwrite && Files.exists(path) { outcome.existing.append(path) } else { outcome.failed.append("\(error)") }
            }
        }
        return outcome
    }
}
