extension DDNModel {
    /// The model a command line names with `-m FILE`, or the embedded default when `path` is nil.
    /// - Throws: a one-line error when the file cannot be read or is not a model file.
    public static func load(path: String?) throws -> DDNModel {
        guard let path else { return try embedded() }
        let bytes = try Files.read(path)
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
