import Foundation

/// The size of one archive as `ddnzip` writes it (real bytes, header and entry records
/// included), for comparisons such as `ddntrain`'s closing one.
public struct ArchiveMeasure: Sendable, Equatable {
    /// Bytes of the whole archive.
    public var bytes: Int
    /// Entries in it.
    public var entries: Int
    /// Entries coded by a model's coder (2 or 5).
    public var modelEntries: Int
    /// Sub-pixels of all its images (the denominator of `bpsp`).
    public var subPixels: Int

    /// Bits per sub-pixel: 8 · `bytes` / `subPixels` (0 without sub-pixels).
    public var bpsp: Double { subPixels > 0 ? Double(bytes) * 8 / Double(subPixels) : 0 }
}

extension ArchiveWriter {
    /// Writes the archive of `inputs` as `ddnzip` does with `coders` (its other defaults:
    /// automatic shared statistics; the bytes do not depend on `threads`) and measures it. The
    /// archive itself is dropped.
    /// - Throws: what `write(_:)` throws (an unreadable input, an unsafe or repeated name).
    public static func measure(_ inputs: [ArchiveInput], coders: CoderSet, threads: Int) throws -> ArchiveMeasure {
        var writer = ArchiveWriter()
        writer.coders = coders
        writer.threads = max(1, threads)
        let (archive, reports) = try writer.write(inputs)
        return ArchiveMeasure(bytes: archive.count, entries: reports.count,
                              modelEntries: reports.filter { CoderID.needsModel($0.coder) }.count,
                              subPixels: reports.reduce(0) { $0 + $1.subPixels })
    }
}

extension ArchiveInput {
    /// `image` as a plain PNG file named `name`: grey, grey + alpha, RGB or RGBA by its channel
    /// count, at its bit depth, no ancillary chunks (what a folder of such images would hold).
    /// - Throws: `ImageError.cannotWrite` when PNG has no such format (e.g. RGB at 4 bits).
    public init(name: String, image: PixelImage) throws {
        let colorType: PNGColorType = [1: .gray, 2: .grayAlpha, 3: .rgb, 4: .rgba][image.channels] ?? .gray
        self.init(name: name, bytes: try PNGWriter.encode(PNGImage(pixels: image, colorType: colorType)))
    }
}
