import CDefaultModel

extension DDNModel {
    /// The default model, compiled into the binary from `Corpus/models/fashion-mnist.ddnm`
    /// (trained on the 60,000 Fashion-MNIST training images; see Corpus/models/README.md).
    /// Parsed once per process.
    /// - Throws: `ModelFileError` if the embedded bytes do not parse (a broken build).
    public static func embedded() throws -> DDNModel {
        try embeddedResult.get()
    }

    private static let embeddedResult: Result<DDNModel, any Error> = Result {
        let bytes = Array(UnsafeBufferPointer(start: ddn_default_model_bytes(), count: ddn_default_model_size()))
        return try DDNModel(serialized: bytes)
    }
}
