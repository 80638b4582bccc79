import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Finding the PNG files an archive is made of, and naming them as zip and tar do.
extension Files {
    /// An input file: where it is and the entry name it gets.
    public struct Input: Sendable, Equatable {
        /// The file's path as given or found.
        public var path: String
        /// The entry name: the path as given (`entryName(forPath:)`), or its last component
        /// when paths are junked.
        public var name: String
    }

    /// A folder given without `recursive` whose subfolders hold PNG files that were not added.
    public struct LeftOut: Sendable, Equatable {
        /// The folder, as given.
        public var folder: String
        /// The PNG files below its subfolders, at any depth (symbolic links to folders not followed).
        public var files: Int

        /// One line for the user: how many were left out and why.
        public var description: String {
            "\(folder): left out \(files) PNG file\(files == 1 ? "" : "s") in its subfolders (use -r to add subfolders)"
        }
    }

    /// What `collectInputs` found: the inputs to add, those refused for their names, and the
    /// folders whose subfolders' PNG files were left out.
    public struct CollectedInputs: Sendable {
        /// The files to add, in order: the paths given, a folder's files sorted by name.
        public var inputs: [Input]
        /// Inputs whose entry name cannot be stored, or repeats an earlier input's. A path that
        /// is not valid UTF-8 is shown with `\xNN` escapes (`shown(path:)`), its error an
        /// `ArchiveError.input` that names it.
        public var refused: [(path: String, error: ArchiveError)]
        /// Folders given without `recursive` that have PNG files in subfolders.
        public var leftOut: [LeftOut]

        /// One line per refused input, `path: why` (the error alone when it names the path).
        public var refusedLines: [String] {
            refused.map { r in
                if case .input = r.error { return r.error.description }
                return "\(r.path): \(r.error)"
            }
        }
    }

    /// Why a file whose path is not valid UTF-8 is not archived: entry names are UTF-8
    /// (Spec/ARCHIVE.md §3), and a name changed to fit would restore as another file.
    public static let notUTF8Problem =
        "its path is not valid UTF-8 (shown with \\xNN escapes), and entry names must be; rename it (convmv converts names between encodings)"

    /// The refusal of a file whose path (raw bytes) is not valid UTF-8: shown with `\xNN`
    /// escapes, with `notUTF8Problem`.
    public static func refusedAsNotUTF8(_ path: [UInt8]) -> (path: String, error: ArchiveError) {
        let shown = shown(path: path)
        return (shown, .input(name: shown, problem: notUTF8Problem))
    }

    /// A path's bytes for a user: valid UTF-8 as is, each byte of an invalid sequence as `\xNN`
    /// (`caf\xE9.png` for Latin-1's café.png).
    public static func shown(path: [UInt8]) -> String {
        var out = "", i = 0
        while i < path.count {
            // the longest valid UTF-8 sequence at i (1 to 4 bytes), else one escaped byte
            if let n = (1...4).first(where: { i + $0 <= path.count && String(validating: path[i..<(i + $0)], as: UTF8.self) != nil }) {
                out += String(decoding: path[i..<(i + n)], as: UTF8.self)
                i += n
            } else {
                out += String(format: "\\x%02X", path[i])
                i += 1
            }
        }
        return out
    }

    /// The command-line arguments that are not valid UTF-8, keyed by the string Swift makes of
    /// them (`CommandLine.arguments`, each invalid sequence replaced by U+FFFD), each with its
    /// bytes. Such a string names no file: the arguments' bytes tell why.
    public static func nonUTF8Arguments() -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        for k in 1..<Int(CommandLine.argc) {
            guard let arg = CommandLine.unsafeArgv[k] else { continue }
            let bytes = Array(UnsafeBufferPointer(start: UnsafeRawPointer(arg).assumingMemoryBound(to: UInt8.self), count: strlen(arg)))
            if String(validating: bytes, as: UTF8.self) == nil { out[String(decoding: bytes, as: UTF8.self)] = bytes }
        }
        return out
    }

    /// The names in folder `dir`, without `.` and `..`: those that are valid UTF-8, and the
    /// bytes of those that are not (which `FileManager` would drop or change).
    static func folderNames(_ dir: [UInt8]) throws -> (names: [String], notUTF8: [[UInt8]]) {
        guard let d = opendir(dir.map { CChar(bitPattern: $0) } + [0]) else { throw FileError("\(shown(path: dir)): cannot list folder") }
        defer { closedir(d) }
        var names: [String] = [], notUTF8: [[UInt8]] = []
        while let e = readdir(d) {
            let bytes = withUnsafeBytes(of: e.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
            if bytes == [0x2E] || bytes == [0x2E, 0x2E] { continue }
            if let name = String(validating: bytes, as: UTF8.self) { names.append(name) } else { notUTF8.append(bytes) }
        }
        return (names, notUTF8)
    }

    /// The `.png` files at or below `path` (a file, or a folder walked to any depth), by their
    /// bytes, sorted; symbolic links to folders are not followed, as in `collectInputs`.
    static func pngFiles(below path: [UInt8]) -> [[UInt8]] {
        var st = stat()
        guard stat(path.map { CChar(bitPattern: $0) } + [0], &st) == 0 else { return [] }
        if (st.st_mode & S_IFMT) != S_IFDIR {
            let base = path.split(separator: 0x2F).last.map(Array.init) ?? path
            return String(decoding: base, as: UTF8.self).lowercased().hasSuffix(".png") ? [path] : []
        }
        var lst = stat()
        guard lstat(path.map { CChar(bitPattern: $0) } + [0], &lst) == 0, (lst.st_mode & S_IFMT) != S_IFLNK,
              let listed = try? folderNames(path) else { return [] }
        var out: [[UInt8]] = []
        for entry in (listed.names.map { Array($0.utf8) } + listed.notUTF8).sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            let full = path + [0x2F] + entry
            out += pngFiles(below: full)
        }
        return out
    }

    /// The entry name of `path` as zip and tar give it: the path as given, relative, without a
    /// leading `/`, `./` or `..`. Components `.` and empty ones are dropped, `x/..` cancels, and a
    /// `..` with nothing before it to cancel is dropped (`../b/./c.png` → `b/c.png`, `/tmp/a.png`
    /// → `tmp/a.png`). The result is empty for `.`, `..` and `/`. Spec/ARCHIVE.md §3 (Names).
    public static func entryName(forPath path: String) -> String {
        var components: [Substring] = []
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch component {
            case ".": continue
            case "..": _ = components.popLast()
            default: components.append(component)
            }
        }
        return components.joined(separator: "/")
    }

    /// Expands `paths` into the files to archive. A file is taken as is; a folder gives the
    /// `.png` files directly inside it (any case of the extension, sorted by name) and, with
    /// `recursive`, those of its subfolders too (symbolic links to folders are not followed).
    /// Every file is named by its path as given or found (`entryName(forPath:)`: `cd data &&
    /// ddnzip -r a.ddnz train` names `train/3/x0.png`), or with `junkPaths` by its file name
    /// alone. An input whose name cannot be stored (`ArchiveEntry.validateName`) or repeats an
    /// earlier input's is left out, in `refused`, and so is a file found whose path is not valid
    /// UTF-8 (`refusedAsNotUTF8`: named, never dropped or renamed); without `recursive`, a folder
    /// whose subfolders hold PNG files is reported in `leftOut`.
    /// - Throws: `FileError` for a missing path or a folder that cannot be listed.
    public static func collectInputs(_ paths: [String], recursive: Bool = false, junkPaths: Bool = false) throws -> CollectedInputs {
        var inputs: [Input] = [], leftOut: [LeftOut] = []
        var refused: [(path: String, error: ArchiveError)] = []
        let fm = FileManager.default
        func name(_ path: String) -> String {
            junkPaths ? (path as NSString).lastPathComponent : entryName(forPath: path)
        }
        /// The .png files of `dir`, sorted (with `recursive`, those of its subfolders too); without
        /// `recursive`, the count of the PNG files below its subfolders.
        func addFolder(_ dir: String, recursive: Bool, add: Bool) throws -> Int {
            let listed = try folderNames(Array(dir.utf8))
            var below = 0
            // names that are not UTF-8: their PNG files are refused by name (or counted, below a
            // subfolder left out)
            for bytes in listed.notUTF8.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
                let full = Array(dir.utf8) + (dir.hasSuffix("/") ? [] : [0x2F]) + bytes
                var st = stat()
                let isFolder = stat(full.map { CChar(bitPattern: $0) } + [0], &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
                let found = pngFiles(below: full)
                if add && (!isFolder || recursive) { refused += found.map(refusedAsNotUTF8) } else { below += found.count }
            }
            for entry in listed.names.sorted() {
                let full = (dir as NSString).appendingPathComponent(entry)
                var sub: ObjCBool = false
                guard fm.fileExists(atPath: full, isDirectory: &sub) else { continue }
                if sub.boolValue {
                    guard !isSymbolicLink(full) else { continue }
                    below += try addFolder(full, recursive: recursive, add: add && recursive)
                } else if entry.lowercased().hasSuffix(".png") {
                    if add { inputs.append(Input(path: full, name: name(full))) } else { below += 1 }
                }
            }
            return below
        }
        for path in paths {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDir) else { throw FileError("\(path): no such file or folder") }
            if isDir.boolValue {
                let below = try addFolder(path, recursive: recursive, add: true)
                if below > 0 { leftOut.append(LeftOut(folder: path, files: below)) }
            } else {
                inputs.append(Input(path: path, name: name(path)))
            }
        }
        var seen = Set<String>()
        let usable = inputs.filter { input in
            do { try ArchiveEntry.validateName(input.name) } catch { refused.append((input.path, .unsafeName(input.name))); return false }
            guard seen.insert(input.name).inserted else { refused.append((input.path, .duplicateName(input.name))); return false }
            return true
        }
        return CollectedInputs(inputs: usable, refused: refused, leftOut: leftOut)
    }
}
