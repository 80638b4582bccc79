import CDefaultModel
import Synchronization

/// A model file compiled into the binary (Corpus/models/README.md): the default model, which
/// `ddnzip` codes with when no `-m` is given, or an earlier default, kept so that the archives made
/// with it still decode without `-m`.
public struct EmbeddedModel: Sendable {
    /// The file's name in `Corpus/models/` without `.ddnm` ("fashion-mnist", "fashion-mnist-v2").
    public let name: String
    /// SHA-256 of the file: the model's identity in archives (Spec/ARCHIVE.md §2).
    public let identity: [UInt8]
    /// Its place in `all`: 0 for the default.
    let index: Int

    /// True for the default model.
    public var isDefault: Bool { index == 0 }

    /// How a message names it: "the embedded default model", or "the embedded earlier default
    /// model fashion-mnist-v2".
    public var described: String { isDefault ? "the embedded default model" : "the embedded earlier default model \(name)" }

    /// Every embedded model: the default first, then the earlier defaults, newest first.
    public static let all: [EmbeddedModel] = (0..<ddn_embedded_model_count()).map { i in
        let (bytes, name) = file(i)
        return EmbeddedModel(name: name, identity: DDNModel.sha256(bytes), index: i)
    }

    /// The embedded model an archive naming `identity` needs (the header's first bytes of a
    /// SHA-256, Spec/ARCHIVE.md §2): the one whose identity begins with it, else the one whose
    /// identity differs from it in a single byte (a damaged header byte, which header repair
    /// fixes), else nil.
    public static func matching(_ identity: [UInt8]) -> EmbeddedModel? {
        guard !identity.isEmpty else { return nil }
        return all.first { $0.identity.starts(with: identity) }
            ?? all.first { m in zip(m.identity, identity).filter { $0 != $1 }.count == 1 }
    }

    /// The model, parsed once per process.
    /// - Throws: `ModelFileError` if the embedded bytes do not parse (a broken build).
    public func model() throws -> DDNModel {
        try Self.parsed.withLock { cache in
            if let done = cache[index] { return done }
            let result = Result { try DDNModel(serialized: Self.file(index).bytes) }
            cache[index] = result
            return result
        }.get()
    }

    private static let parsed = Mutex<[Int: Result<DDNModel, any Error>]>([:])

    private static func file(_ index: Int) -> (bytes: [UInt8], name: String) {
        var size = 0
        var name: UnsafePointer<CChar>?
        let start = ddn_embedded_model(index, &size, &name)
        return (Array(UnsafeBufferPointer(start: start, count: size)), String(cString: name!))
    }
}

extension DDNModel {
    /// The default model, compiled into the binary from `Corpus/models/fashion-mnist.ddnm`
    /// (trained on the 60,000 Fashion-MNIST training images; see Corpus/models/README.md).
    /// Parsed once per process.
    /// - Throws: `ModelFileError` if the embedded bytes do not parse (a broken build).
    public static func embedded() throws -> DDNModel {
        try EmbeddedModel.all[0].model()
    }
}
