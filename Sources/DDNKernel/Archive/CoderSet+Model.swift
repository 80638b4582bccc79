import Foundation

extension CoderSet {
    /// The standard coders plus the DDN coders over `model`: coder 5 (the residual network) tried
    /// first when the model has one, else coder 2 (the context coder); coder 2 is always there to
    /// read older archives made with the same model. The writer keeps the smallest payload.
    /// `effort` (1…9) is the encoder's effort for coder 5 (`DDNCoder.Search(networkEffort:)`) and
    /// coder 6 (`Classic2EntryCoder`).
    /// - Throws: when the model's residual statistics do not parse.
    public static func standard(model: DDNModel, effort: Int = DDNCoder.Search.defaultEffort) throws -> CoderSet {
        var set = CoderSet.standard(effort: effort)
        let identity = model.identity
        set.coders[CoderID.ddn] = try DDNEntryCoder(model: model, identity: identity)
        if model.hasResidualNetwork {
            set.coders[CoderID.ddnNetwork] = try DDNEntryCoder(model: model, residual: .network, identity: identity, effort: effort)
            set.candidates.insert(CoderID.ddnNetwork, at: 0)
        } else {
            set.candidates.insert(CoderID.ddn, at: 0)
        }
        return set
    }

    /// The standard coders plus a stand-in for the DDN coder that has no model: enough to parse
    /// and list any archive; decoding a DDN entry with it throws `ArchiveError.modelMismatch`.
    public static var withoutModel: CoderSet {
        var set = CoderSet.standard
        set.coders[CoderID.ddn] = MissingModelCoder(id: CoderID.ddn)
        set.coders[CoderID.ddnNetwork] = MissingModelCoder(id: CoderID.ddnNetwork)
        return set
    }

    /// SHA-256 of the model behind this set's DDN coders, if it has one.
    public var modelIdentity: [UInt8]? { preferredDDNCoder?.identity }

    /// The DDN coder the writer tries: with the residual network (5) if the model has one, else 2.
    public var preferredDDNCoder: DDNEntryCoder? {
        (coders[CoderID.ddnNetwork] as? DDNEntryCoder) ?? (coders[CoderID.ddn] as? DDNEntryCoder)
    }
}

/// Coder id 2 or 5 when no model is at hand: accepts nothing, decodes nothing.
struct MissingModelCoder: EntryCoder {
    let id: UInt8
    func accepts(_ image: PixelImage, isPalette: Bool, context: CodingContext) -> Bool { false }
    func encode(_ image: PixelImage, isPalette: Bool, context: CodingContext) throws -> [UInt8] {
        throw ArchiveError.modelMismatch(expected: hex(context.modelIdentity), given: "none")
    }
    func decode(_ payload: [UInt8], width: Int, height: Int, channels: Int, bitDepth: Int, isPalette: Bool,
                context: CodingContext) throws -> PixelImage {
        throw ArchiveError.modelMismatch(expected: hex(context.modelIdentity), given: "none")
    }
}
