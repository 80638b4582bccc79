import Foundation

/// Writes restored files into a folder (`ArchiveReader.restoreAll` decodes them): never outside
/// the folder, never over an existing file unless asked, nothing left on failure.
public enum ArchiveExtractor {
    /// Writes `files[i]` as `dir/names[i]`, creating the subfolders a name holds. Names are
    /// checked again (`ArchiveEntry.validateName`), and a subfolder that exists as a symbolic link
    /// is refused, so nothing is written outside `dir`. Existing files are refused up front unless
    /// `overwrite`. On failure, files this call created are removed.
    /// - Returns: the number of files written.
    public static func write(_ files: [[UInt8]], names: [String], into dir: String, overwrite: Bool) throws -> Int {
        for name in names { try ArchiveEntry.validateName(name) }
        let paths = names.map { (dir as NSString).appendingPathComponent($0) }
        if !overwrite, let existing = paths.first(where: { Files.exists($0) }) {
            throw FileError("\(existing) exists (use -f to overwrite)")
        }
        try Files.makeFolder(dir)
        for name in Set(names.map { ($0 as NSString).deletingLastPathComponent }) where !name.isEmpty {
            var path = dir
            for component in name.split(separator: "/") {
                path = (path as NSString).appendingPathComponent(String(component))
                if Files.isSymbolicLink(path) { throw FileError("\(path) is a symbolic link; not restoring through it") }
                try Files.makeFolder(path)
            }
        }
        var created: [String] = []
        do {
            for (path, bytes) in zip(paths, files) {
                let existed = Files.exists(path)
                try Files.writeAtomically(bytes, to: path, overwrite: overwrite)
                if !existed { created.append(path) }
            }
        } catch {
            for path in created { unlink(path) }
            throw error
        }
        return files.count
    }
}
