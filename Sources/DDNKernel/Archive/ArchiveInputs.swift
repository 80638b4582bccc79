import Foundation

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
        /// Inputs whose entry name cannot be stored, or repeats an earlier input's.
        public var refused: [(path: String, error: ArchiveError)]
        /// Folders given without `recursive` that have PNG files in subfolders.
        public var leftOut: [LeftOut]
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
    /// earlier input's is left out, in `refused`; without `recursive`, a folder whose subfolders
    /// hold PNG files is reported in `leftOut`.
    /// - Throws: `FileError` for a missing path or a folder that cannot be listed.
    public static func collectInputs(_ paths: [String], recursive: Bool = false, junkPaths: Bool = false) throws -> CollectedInputs {
        var inputs: [Input] = [], leftOut: [LeftOut] = []
        let fm = FileManager.default
        func name(_ path: String) -> String {
            junkPaths ? (path as NSString).lastPathComponent : entryName(forPath: path)
        }
        /// The .png files of `dir`, sorted (with `recursive`, those of its subfolders too); without
        /// `recursive`, the count of the PNG files below its subfolders.
        func addFolder(_ dir: String, recursive: Bool, add: Bool) throws -> Int {
            let names: [String]
            do { names = try fm.contentsOfDirectory(atPath: dir) } catch { throw FileError("\(dir): cannot list folder") }
            var below = 0
            for entry in names.sorted() {
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
        var seen = Set<String>(), refused: [(path: String, error: ArchiveError)] = []
        let usable = inputs.filter { input in
            do { try ArchiveEntry.validateName(input.name) } catch { refused.append((input.path, .unsafeName(input.name))); return false }
            guard seen.insert(input.name).inserted else { refused.append((input.path, .duplicateName(input.name))); return false }
            return true
        }
        return CollectedInputs(inputs: usable, refused: refused, leftOut: leftOut)
    }
}
