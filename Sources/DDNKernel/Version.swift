/// The version of the ddnzip tools and the file formats this build writes, for `--version`.
public enum DDNVersion {
    /// The tools' release version (semantic versioning).
    public static let tool = "0.3.0"

    /// `NAME 0.3.0 (archive format 1, model file 2)`: the line `--version` prints for tool `name`.
    public static func line(_ name: String) -> String {
        "\(name) \(tool) (archive format \(ArchiveHeader.currentVersion), model file \(DDNModel.fileVersion))"
    }
}
