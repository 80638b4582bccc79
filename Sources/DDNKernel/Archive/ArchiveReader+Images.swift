import Foundation

/// Gives the model for an archive whose header names `identity` (the first bytes of its SHA-256,
/// Spec/ARCHIVE.md §2): `{ try DDNModel.load(path: m, needing: $0) }`.
public typealias ModelSource = (_ identity: [UInt8]) throws -> DDNModel

/// Opening an archive with the model it names, and decoding entries to images without writing
/// PNG files (what `ddnunzip` and the C ABI of `DDNZipC` share).
extension ArchiveReader {
    /// Reads archive `bytes`; when the archive names a model and `model` is given, loads it, checks
    /// it is the one the archive names and reads the archive again with it (listing needs none).
    /// - Parameter model: gives the model for the identity the header names (its first bytes:
    ///   `DDNModel.load(path:needing:)`); called only when needed.
    /// - Throws: `ArchiveError` (not an archive, a damaged header, `.modelMismatch`) or what
    ///   `model` throws.
    public static func opening(_ bytes: [UInt8], maxPixels: Int = 1 << 26, model: ModelSource?) throws -> ArchiveReader {
        let reader = try ArchiveReader(bytes, coders: .withoutModel, maxPixels: maxPixels)
        guard reader.header.hasModel, let model else { return reader }
        let loaded = try model(reader.header.modelIdentity)
        try reader.checkModel(loaded.identity)
        return try ArchiveReader(bytes, coders: .standard(model: loaded), maxPixels: maxPixels)
    }

    /// The image of each entry of `indices`, checked by its CRC-32 under the name the chain of
    /// names gives it. Entries of one lockstep coder and shape are decoded together
    /// (`batches(of:size:)`: coder 5 runs up to 16 images as one matrix product per pixel step),
    /// the groups on up to `threads` threads; a stored entry gives the PNG image it holds.
    /// - Precondition: every index is in `entries.indices`.
    /// - Returns: per index, in order, the image or why it cannot be given (`ArchiveError`: a
    ///   damaged entry, or a stored file whose PNG the archive could not re-create).
    /// - Complexity: the entries' decoding; nothing is encoded.
    public func images(_ indices: [Int], threads: Int) -> [Result<PNGImage, ArchiveError>] {
        precondition(indices.allSatisfy { entries.indices.contains($0) }, "entry index out of range")
        let groups = batches(of: indices, size: batchSize(threads: threads))
        let decoded = (try? parallelMap(groups.count, threads: threads) { g -> [Result<PNGImage, ArchiveError>] in
            let group = groups[g]
            return decodePixels(batch: group).enumerated().map { k, r in
                r.mapError { $0 as? ArchiveError ?? .corruptPayload(entry: entries[group[k]].name, detail: "\($0)") }
            }
        }) ?? []
        var byIndex: [Int: Result<PNGImage, ArchiveError>] = [:]
        for (group, results) in zip(groups, decoded) { for (i, r) in zip(group, results) { byIndex[i] = r } }
        return indices.map { byIndex[$0]! }
    }

    /// The image a stored entry holds (its bytes already checked by their CRC-32), when it is a
    /// PNG that the archive could re-create; a file kept byte for byte for another reason is refused.
    func storedImage(_ index: Int) -> Result<PNGImage, ArchiveError> {
        let name = entries[index].name
        do {
            switch try PNGReader(maxPixels: maxPixels).read(entries[index].payload) {
            case .image(let image): return .success(image)
            case .verbatim(let reason, _):
                return .failure(.input(name: name, problem: "stored byte for byte (\(reason)); restore it with ddnunzip"))
            }
        } catch {
            return .failure(.input(name: name, problem: "stored file is not a readable PNG (\(error))"))
        }
    }
}
