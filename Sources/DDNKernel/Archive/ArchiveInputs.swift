import Foundation

/// Finding the PNG files an archive is made of.
extension Files {
    /// An input file: where it is and the entry name it gets.
    public struct Input: Sendable, Equatable {
        /// The file's path as given or found.
        public var path: String
        /// The entry name: the last path component, or the path below the folder given (`-r`).
        public var name: String
    }

    /// Expands `paths`: a folder gives the `.png` files directly inside it (any case of the
    /// extension, sorted by name), named by their file names; with `recursive`, also those of
    /// its subfolders, named by their path below the folder (`train/3/00042.png`); a file is
    /// taken as is, named by its last path component. An input whose name cannot be stored
    /// (`ArchiveEntry.validateName`) or repeats an earlier input's is left out, in `refused`.
    /// - Throws: `FileError` for a missing path or a folder that cannot be listed.
    public static func collectInputs(_ paths: [String], recursive: Bool = false) throws
        -> (inputs: [Input], refused: [(path: String, error: ArchiveError)]) {
        var inputs: [Input] = []
        let fm = FileManager.default
        /// The .png files of `dir` (sorted; with `recursive`, those of its subfolders too, not
        /// following symbolic links to folders), named by their path below `prefix`.
        func addFolder(_ dir: String, prefix: String) throws {
            let names: [String]
            do { names = try fm.contentsOfDirectory(atPath: dir) } catch { throw FileError("\(dir): cannot list folder") }
            for name in names.sorted() {
                let full = (dir as NSString).appendingPathComponent(name)
                var sub: ObjCBool = false
                guard fm.fileExists(atPath: full, isDirectory: &sub) else { continue }
                if sub.boolValue {
                    if recursive && !isSymbolicLink(full) { try addFolder(full, prefix: prefix + name + "/") }
                } else if name.lowercased().hasSuffix(".png") {
                    inputs.append(Input(path: full, name: prefix + name))
                }
            }
        }
        for path in paths {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDir) else { throw FileError("\(path): no such file or folder") }
            if isDir.boolValue {
                try addFolder(path, prefix: "")
            } else {
                inputs.append(Input(path: path, name: (path as NSString).lastPathComponent))
            }
        }
        var seen = Set<String>(), refused: [(path: String, error: ArchiveError)] = []
        let usable = inputs.filter { input in
            do { try ArchiveEntry.validateName(input.name) } catch { refused.append((input.path, .unsafeName(input.name))); return false }
            guard seen.insert(input.name).inserted else { refused.append((input.path, .duplicateName(input.name))); return false }
            return true
        }
        return (usable, refused)
    }
}
