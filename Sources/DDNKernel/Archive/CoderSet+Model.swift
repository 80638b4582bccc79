import Foundation

extension CoderSet {
    /// The standard coders plus the DDN coder over `model` (tried first; the writer keeps
    /// whichever payload is smallest).
    /// - Throws: when the model's residual statistics do not parse.
    public static func standard(model: DDNModel) throws -> CoderSet {
        var set = CoderSet.standard
        set.coders[CoderID.ddn] = try DDNEntryCoder(model: model)
        set.candidates.insert(CoderID.ddn, at: 0)
        return set
    }

    /// The standard coders plus a stand-in for the DDN coder that has no model: enough to parse
    /// and list any archive; decoding a DDN entry with it throws `ArchiveError.modelMismatch`.
    public static var withoutModel: CoderSet {
        var set = CoderSet.standard
        set.coders[CoderID.ddn] = MissingModelCoder()
        return set
    }

    /// SHA-256 of the model behind this set's DDN coder, if it has one.
    public var modelIdentity: [UInt8]? {
        (coders[CoderID.ddn] as? DDNEntryCoder)?.identity
    }
}

extension DDNModel {
    /// The model a command line names with `-m FILE`, or the embedded default when `path` is nil.
    /// - Throws: a one-line error when the file cannot be read or is not a model file.
    public static func load(path: String?) throws -> DDNModel {
        guard let path else { return try embedded() }
        let bytes = try ArchiveFiles.read(path)
        do { return try DDNModel(serialized: bytes) } catch {
            throw ArchiveError.input(name: path, problem: "not a usable model file (\(error))")
        }
    }
}

/// Coder id 2 when no model is at hand: accepts nothing, decodes nothing.
struct MissingModelCoder: EntryCoder {
    var id: UInt8 { CoderID.ddn }
    func accepts(_ image: PixelImage, isPalette: Bool, context: CodingContext) -> Bool { false }
    func encode(_ image: PixelImage, isPalette: Bool, context: CodingContext) throws -> [UInt8] {
        throw ArchiveError.modelMismatch(expected: hex(context.modelIdentity), given: "none")
    }
    func decode(_ payload: [UInt8], width: Int, height: Int, channels: Int, bitDepth: Int, isPalette: Bool,
                context: CodingContext) throws -> PixelImage {
        throw ArchiveError.modelMismatch(expected: hex(context.modelIdentity), given: "none")
    }
}
