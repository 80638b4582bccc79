/// Entry coders 2 and 5: `DDNCoder`, an image as its path through a DDN plus a residual coded
/// with the reconstruction as context: by the classical context coder (id 2, Spec/CODEC.md §6) or
/// by the model's residual network (id 5, Spec/CODEC.md §7). Payload: the range coder's bytes.
///
/// Only images of the model's shape are accepted, and only when the archive names this model
/// (its SHA-256 in the header); a reader given another model refuses the archive before decoding.
public struct DDNEntryCoder: EntryCoder {
    /// The DDN coder over the model.
    public let coder: DDNCoder
    /// SHA-256 of the model file.
    public let identity: [UInt8]

    /// - Parameter effort: the encoder's effort with the residual network, 1…9
    ///   (`DDNCoder.Search(networkEffort:)`); decoding does not depend on it.
    /// - Throws: when the model's residual statistics do not parse.
    /// - Precondition: `.network` only for a model with a residual network.
    public init(model: DDNModel, residual: DDNCoder.ResidualStage = .contextCoder, identity: [UInt8]? = nil,
                effort: Int = DDNCoder.Search.defaultEffort) throws {
        var coder = try DDNCoder(model: model, residual: residual)
        if residual == .network { coder.search = DDNCoder.Search(networkEffort: effort) }
        self.coder = coder
        self.identity = identity ?? model.identity
    }

    public var id: UInt8 { coder.residualStage == .network ? CoderID.ddnNetwork : CoderID.ddn }

    public func accepts(_ image: PixelImage, isPalette: Bool, context: CodingContext) -> Bool {
        context.modelIdentity == identity && coder.fits(image, isPalette: isPalette)
    }

    public func encode(_ image: PixelImage, isPalette: Bool, context: CodingContext) throws -> [UInt8] {
        var e = RangeEncoder()
        coder.encode(image, scratch: coder.model.makeScratch(), into: &e)
        return e.finish()
    }

    /// - Throws: `ArchiveError.modelMismatch` when the archive names another model; what the
    ///   residual stage throws on a corrupt payload.
    public func decode(_ payload: [UInt8], width: Int, height: Int, channels: Int, bitDepth: Int, isPalette: Bool,
                       context: CodingContext) throws -> PixelImage {
        try check(width: width, height: height, channels: channels, bitDepth: bitDepth, isPalette: isPalette, context: context)
        var d = RangeDecoder(payload)
        return try coder.decode(from: &d, scratch: coder.model.makeScratch())
    }

    /// The archive names this model and the entry has its shape.
    /// - Throws: `ArchiveError.modelMismatch` or `.invalidField`.
    func check(width: Int, height: Int, channels: Int, bitDepth: Int, isPalette: Bool, context: CodingContext) throws {
        guard context.modelIdentity == identity else {
            throw ArchiveError.modelMismatch(expected: hex(context.modelIdentity), given: hex(identity))
        }
        let c = coder.model.config
        guard width == c.width, height == c.height, channels == c.channels, bitDepth == c.bitDepth, !isPalette else {
            throw ArchiveError.invalidField(field: "DDN entry", detail: "is \(width)×\(height)×\(channels) at \(bitDepth) bits; the model codes \(c.width)×\(c.height)×\(c.channels) at \(c.bitDepth)")
        }
    }

    /// Coder 5 decodes in lockstep (`DDNCoder.decode(payloads:scratch:)`); coder 2 one at a time.
    public var decodesInLockstep: Bool { coder.residualStage == .network }

    public func decodeBatch(_ payloads: [[UInt8]], width: Int, height: Int, channels: Int, bitDepth: Int, isPalette: Bool,
                            context: CodingContext) -> [Result<PixelImage, Error>] {
        guard decodesInLockstep, payloads.count > 1 else {
            return payloads.map { p in
                Result { try decode(p, width: width, height: height, channels: channels, bitDepth: bitDepth, isPalette: isPalette, context: context) }
            }
        }
        do { try check(width: width, height: height, channels: channels, bitDepth: bitDepth, isPalette: isPalette, context: context) }
        catch { return payloads.map { _ in .failure(error) } }
        return coder.decode(payloads: payloads, scratch: coder.model.makeScratch()).map { .success($0) }
    }

}

extension DDNEntryCoder {
    /// The reconstruction `x̂` after at most `levels` levels of an entry's path, without the
    /// residual: a preview from the path alone (`ddnunzip --levels N`). Depth 0 is the start image.
    /// - Returns: an image of the model's shape (8-bit samples) and the depth decoded.
    public func preview(_ payload: [UInt8], levels: Int) -> (image: PixelImage, depth: Int) {
        var d = RangeDecoder(payload)
        let scratch = coder.model.makeScratch()
        let (xhat, depth, _) = coder.decodePath(from: &d, levels: levels, scratch: scratch)
        let c = coder.model.config
        let samples = coder.model.samples(from: xhat)
        return (PixelImage(width: c.width, height: c.height, channels: c.channels, bitDepth: c.bitDepth, samples: samples), depth)
    }

    /// The model's cost of coding `image` by part (path, halting, residual bits and depth), as the
    /// encoder would choose it: what `ddnzip -v` prints.
    public func cost(of image: PixelImage) -> DDNCoder.Cost {
        var e = RangeEncoder()
        return coder.encode(image, scratch: coder.model.makeScratch(), into: &e)
    }
}

extension DDNEntryCoder {
    /// The shared message of a version-3 block's coder-5 entries (Spec/ARCHIVE.md §3.4): every
    /// image in one rANS message, the paths coded by bits-back (`DDNCoder.encodeBlock`,
    /// Spec/CODEC.md §9). `decodeBlockStreams` returns the images in this order.
    /// - Precondition: coder 5 (a model with a residual network), every image accepted.
    /// `weight`: the posterior weight c in eighths (1…255).
    public func encodeBlockStream(_ images: [PixelImage], weight: UInt8) -> (bytes: [UInt8], cost: DDNCoder.BlockCost) {
        var weighted = coder
        weighted.posteriorWeight = Float(weight) / 8
        return weighted.encodeBlock(images, scratch: coder.model.makeScratch())
    }

    /// Decodes the shared messages of several blocks in lockstep (`DDNCoder.decodeBlocks`): for
    /// each, `count` images of the model's shape with the posterior weight `weight` (eighths).
    /// - Returns: per message, its images or why it does not decode (`DDNCoderError.corruptBlock`
    ///   for a message that does not decode to its end; `ArchiveError.modelMismatch` when the
    ///   archive names another model).
    public func decodeBlockStreams(_ messages: [(bytes: [UInt8], count: Int, weight: UInt8)], context: CodingContext) -> [Result<[PixelImage], Error>] {
        let c = coder.model.config
        do {
            try check(width: c.width, height: c.height, channels: c.channels, bitDepth: c.bitDepth, isPalette: false, context: context)
            guard coder.residualStage == .network else {
                throw ArchiveError.invalidField(field: "block message", detail: "needs a model with a residual network")
            }
        } catch { return messages.map { _ in .failure(error) } }
        return coder.decodeBlocks(messages.map(\.bytes), counts: messages.map(\.count), weights: messages.map { Float($0.weight) / 8 },
                                  scratch: coder.model.makeScratch())
    }
}
