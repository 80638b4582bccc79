import DDNKernel
import Foundation

/// ddntrain's closing comparison, in what `ddnzip` really writes: one archive of all held-out
/// images with the new model, one with the default (embedded) model when that model codes images
/// of this shape, and one with the classical coder alone (no model). Archive bytes, header and
/// entry records included, not the sum of per-image costs.
struct ArchiveComparison {
    /// The archive with the new model.
    var newModel: ArchiveMeasure
    /// The archive with the default model; nil when it codes another shape (`defaultShape`).
    var defaultModel: ArchiveMeasure?
    /// The shape of image the default model codes (nil when it could not be loaded).
    var defaultShape: String?
    /// The archive with the classical coder alone.
    var classical: ArchiveMeasure

    /// Writes the three archives of `inputs` (the held-out images as PNG files) and measures them.
    /// - Throws: what `ArchiveWriter.measure` throws.
    static func measure(_ inputs: [ArchiveInput], model: DDNModel, threads: Int) throws -> ArchiveComparison {
        let newModel = try ArchiveWriter.measure(inputs, coders: .standard(model: model), threads: threads)
        let embedded = try? DDNModel.embedded()
        var defaultModel: ArchiveMeasure?
        if let embedded, Self.shape(of: embedded) == Self.shape(of: model) {
            defaultModel = try ArchiveWriter.measure(inputs, coders: .standard(model: embedded), threads: threads)
        }
        let classical = try ArchiveWriter.measure(inputs, coders: .standard, threads: threads)
        return ArchiveComparison(newModel: newModel, defaultModel: defaultModel,
                                 defaultShape: embedded.map(Self.shape), classical: classical)
    }

    /// The held-out images as `ddnzip` would be given them: a folder's PNG files as they are
    /// (named as `ddnzip FOLDER` names them), else (idx data) each image as a plain PNG file.
    /// - Parameter path: `--test`; `held` its first images, as loaded for training.
    static func inputs(path: String, held: Dataset) throws -> [ArchiveInput] {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
            let files = try Files.collectInputs([path]).inputs.prefix(held.count)
            if files.count == held.count {
                return try files.map { ArchiveInput(name: $0.name, bytes: try Files.read($0.path)) }
            }
        }
        let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        return try (0..<held.count).map { i in
            try ArchiveInput(name: String(format: "%@/%05d.png", stem.isEmpty ? "held-out" : stem, i), image: held.image(i))
        }
    }

    /// The lines that say it: one per archive, then the gain in plain words.
    func lines() -> [String] {
        func row(_ label: String, _ m: ArchiveMeasure, _ note: String = "") -> String {
            let size = String(repeating: " ", count: max(0, 12 - grouped(m.bytes).count)) + grouped(m.bytes)
            return "  \(label.padding(toLength: 20, withPad: " ", startingAt: 0))\(size) bytes  \(String(format: "%.3f", m.bpsp)) bpsp\(note)"
        }
        let modelNote = { (m: ArchiveMeasure) in " (\(m.modelEntries) of \(m.entries) images coded by the model)" }
        var out = ["held-out \(newModel.entries) images, one archive each way, the bytes ddnzip writes:"]
        out.append(row("new model", newModel, modelNote(newModel)))
        if let defaultModel {
            out.append(row("default model", defaultModel, modelNote(defaultModel)))
        } else {
            out.append("  default model       not for these images" + (defaultShape.map { " (it codes \($0) images)" } ?? ""))
        }
        out.append(row("no model", classical, " (the classical coder alone)"))
        // The gain against the smaller alternative, as a share of that alternative.
        let (altName, alt) = defaultModel.map { $0.bytes < classical.bytes ? ("the default model's", $0) : ("no model's", classical) }
            ?? ("no model's", classical)
        let change = 100 * Double(alt.bytes - newModel.bytes) / Double(max(1, alt.bytes))
        let verdict: String
        if newModel.bytes < alt.bytes {
            verdict = String(format: "the new model's archive is %.1f%% smaller than %@ (the smaller alternative)", change, altName)
        } else if newModel.bytes > alt.bytes {
            verdict = String(format: "the new model's archive is %.1f%% larger than %@: ", -change, altName) +
                (altName.hasPrefix("the default") ? "the default model does better on these images" : "ddnzip without the model does better on these images")
        } else {
            verdict = "the new model's archive is the same size as \(altName)"
        }
        out.append(verdict)
        return out
    }

    /// 1234567 as "1,234,567".
    private func grouped(_ n: Int) -> String {
        var s = String(abs(n)), out = ""
        while s.count > 3 { out = "," + s.suffix(3) + out; s.removeLast(3) }
        return (n < 0 ? "-" : "") + s + out
    }

    /// "28×28 grey 8-bit": the shape of image a model codes.
    private static func shape(of model: DDNModel) -> String {
        let c = model.config
        return Dataset.describeShape(width: c.width, height: c.height, channels: c.channels, bitDepth: c.bitDepth)
    }
}
