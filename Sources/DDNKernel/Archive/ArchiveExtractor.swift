import Foundation

/// Writes restored files into a folder (`ArchiveReader.restoreAll` decodes them): never outside
/// the folder, never over an existing file unless asked, nothing left on failure.
public enum ArchiveExtractor {
    /// Writes `files[i]` as `dir/names[i]`, creating the subfolders a name holds. Names are
    /// checked again (`ArchiveEntry.validateName`), and a subfolder that exists as a symbolic link
    /// is refused, so nothing is written outside `dir`. Existing files are refused up front unless
    /// `overwrite`. A file that cannot be written (a folder in its place, a refused symbolic link)
    /// is reported and the others are still written.
    /// - Returns: the number of files written, and one line per file that was not.
    /// - Throws: `FileError` (an existing file without `overwrite`, `dir` not creatable) or
    ///   `ArchiveError.unsafeName`, before anything is written.
    public static func write(_ files: [[UInt8]], names: [String], into dir: String, overwrite: Bool) throws -> (written: Int, failed: [String]) {
        for name in names { try ArchiveEntry.validateName(name) }
        let paths = names.map { (dir as NSString).appendingPathComponent($0) }
        if !overwrite, let existing = paths.first(where: { Files.exists($0) }) {
            throw FileError("\(existing) exists (use -f to overwrite)")
        }
        try Files.makeFolder(dir)
        var written = 0, failed: [String] = []
        for (name, (path, bytes)) in zip(names, zip(paths, files)) {
            do {
                var folder = dir
                for component in name.split(separator: "/").dropLast() {
                    folder = (folder as NSString).appendingPathComponent(String(component))
                    if Files.isSymbolicLink(folder) { throw FileError("\(folder) is a symbolic link; not restoring through it") }
                    try Files.makeFolder(folder)
                }
                try Files.writeAtomically(bytes, to: path, overwrite: overwrite)
                written += 1
            } catch {
                failed.append("\(error)")
            }
        }
        return (written, failed)
    }
}
