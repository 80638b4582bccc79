extension DDNModel {
    /// The model a command line names with `-m FILE`; when `path` is nil, the embedded model an
    /// archive naming `needing` needs (`EmbeddedModel.matching`: an earlier default for an
    /// archive made with it), else the embedded default.
    /// - Parameter needing: the model identity an archive's header names (its first bytes), or
    ///   nil when coding new entries.
    /// - Throws: a one-line error when the file cannot be read or is not a model file.
    public static func load(path: String?, needing: [UInt8]? = nil) throws -> DDNModel {
        guard let path else { return try (needing.flatMap(EmbeddedModel.matching) ?? EmbeddedModel.all[0]).model() }
        let bytes: [UInt8]
        do { bytes = try Files.read(path) } catch { throw FileError("model file \(error)") }
        let model: DDNModel
        do { model = try DDNModel(serialized: bytes) } catch {
            throw FileError("\(path): not a usable model file (\(error))")
        }
        // A checkpoint's bytes (and so its identity) change with every save: archives made with
        // it could not be read with the model file the run ends with.
        if model.trainingState != nil {
            throw FileError("\(path) is a training checkpoint; use the model file ddntrain wrote (its --out)")
        }
        return model
    }
}

extension DDNModel {
    /// The line a user reads when an archive names another model than the one given
    /// (`ArchiveError.modelMismatch(expected:given:)`): which model the archive needs — an
    /// embedded model, named as such, or the first bytes of its SHA-256 — and which was given:
    /// the model file `path`, or the embedded default when `path` is nil (no `-m`).
    /// - Parameters:
    ///   - needed: the archive's model identity in hex (`expected`).
    ///   - given: the given model's identity in hex, as many digits as `needed` (`given`), or
    ///     "none".
    ///   - option: how the user names a model file (`-m MODEL`; Python: `model=PATH`).
    ///   - withoutOption: how the user asks for the embedded default (`without -m`; Python:
    ///     `with model=None`).
    public static func mismatchLine(needed: String, given: String, path: String?,
                                    option: String = "-m MODEL", withoutOption: String = "without -m") -> String {
        func embedded(_ h: String) -> EmbeddedModel? { h.isEmpty ? nil : EmbeddedModel.all.first { hex($0.identity).hasPrefix(h) } }
        // 8 hex digits tell models apart; all of them when those agree (a damaged header)
        let digits = needed.prefix(8) == given.prefix(8) ? needed.count : 8
        let neededText = embedded(needed).map { "\($0.described) (SHA-256 \(needed.prefix(digits))…)" }
            ?? "the model whose SHA-256 begins \(needed.prefix(digits))"
        let givenText: String
        if given == "none" {
            givenText = "no model"
        } else if let path {
            givenText = "\(path) (SHA-256 \(given.prefix(digits))…\(embedded(given).map { ", \($0.described)" } ?? ""))"
        } else {
            givenText = "\(embedded(given)?.described ?? "the embedded default model") (SHA-256 \(given.prefix(digits))…), used \(withoutOption)"
        }
        let hint = embedded(needed) != nil && path != nil ? "use it \(withoutOption)" : "give the model file the archive was made with (\(option))"
        return "archive needs \(neededText), not \(givenText): \(hint)"
    }
}
