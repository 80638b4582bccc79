import ArgumentParser
import CLISupport
import DDNKernel
import Foundation

/// `ddnunzip`: restore, list or test the files of a ddnzip archive.
@main
struct DDNUnzip: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ddnunzip",
        abstract: "Restore the PNG files of a ddnzip archive, pixel-exact.",
        version: DDNVersion.line("ddnunzip"))

    /// Runs the command; every failure, usage errors included, is one line on standard error.
    static func main() { mainReportingOneLine(tool: "ddnunzip") }

    @Argument(help: "The archive, or - for standard input.")
    var archive: String

    @Option(name: .customShort("d", allowingJoined: true), help: ArgumentHelp("Folder to restore into (created if missing).", valueName: "dir"))
    var d: String = "."

    @Flag(name: .short, help: "List the entries, restore nothing.")
    var l = false

    @Flag(name: .short, help: "Test: decode every entry and check its CRC-32, write nothing.")
    var t = false

    @Flag(name: .short, help: "Overwrite existing files.")
    var f = false

    @Option(name: .customShort("j", allowingJoined: true), parsing: .unconditional, help: ArgumentHelp("Threads used to decode entries (default: all cores).", valueName: "n"))
    var j: Int?

    @Option(name: .customShort("m", allowingJoined: true), help: ArgumentHelp("Model file (default: the embedded one).", valueName: "model"))
    var m: String?

    @Option(name: .customLong("max-pixels"), parsing: .unconditional, help: "Refuse entries larger than this many pixels.")
    var maxPixels: Int = 1 << 26

    @Option(name: .customLong("levels"), parsing: .unconditional, help: ArgumentHelp("Write, for each DDN entry NAME.png, the model's reconstruction after at most N levels as NAME.levelsN.png instead of the image (a preview from the path alone, no residual).", valueName: "N"))
    var levels: Int?

    @Flag(name: .short, help: "Quiet: print nothing but errors.")
    var q = false

    @Flag(name: .short, help: "Verbose: one line per entry.")
    var v = false

    func validate() throws {
        if let j, j < 1 { throw ValidationError.refused("-j", "at least 1", got: j) }
        if maxPixels < 1 { throw ValidationError.refused("--max-pixels", "at least 1", got: maxPixels) }
        if let levels, levels < 0 { throw ValidationError.refused("--levels", "at least 0", got: levels) }
        if levels != nil && (t || l) { throw ValidationError("--levels writes previews; it cannot be combined with -t or -l") }
    }

    func run() throws {
        do { try unzip() } catch {
            FileHandle.standardError.write("ddnunzip: \(error)\n".data(using: .utf8)!)
            throw ExitCode(1)
        }
    }

    private func unzip() throws {
        InterruptCleanup.install()
        if archive == "-" && ArchiveFiles.isTerminal(0) { throw FileError("refusing to read an archive from a terminal") }
        let bytes = try ArchiveFiles.read(archive)
        // The model is loaded only for an archive that names one (listing needs none).
        var reader = try ArchiveReader(bytes, coders: .withoutModel, maxPixels: maxPixels)
        if reader.header.hasModel && (!l || t) {
            let model = try DDNModel.load(path: m)
            try reader.checkModel(model.identity)
            reader = try ArchiveReader(bytes, coders: .standard(model: model), maxPixels: maxPixels)
        }
        if l {
            print(ArchiveListing.table(reader))
            if !t { return }
        }
        let threads = j ?? ProcessInfo.processInfo.activeProcessorCount
        if let levels {
            let previews = try ArchiveExtractor.previews(reader, levels: levels, threads: threads)
            let names = previews.map { ArchiveExtractor.previewName($0.name, levels: levels) }
            let written = try ArchiveExtractor.write(previews.map(\.png), names: names, into: d, overwrite: f)
            if v && !q { for (p, n) in zip(previews, names) { log("  \(n): reconstruction after \(p.depth) level\(p.depth == 1 ? "" : "s")") } }
            if !q {
                log("ddnunzip: wrote \(written) DDN preview\(written == 1 ? "" : "s") into \(d)" +
                    (written < reader.entries.count ? " (\(reader.entries.count - written) entries have no DDN path)" : ""))
            }
            return
        }
        let bar = ProgressBar(total: reader.entries.count, label: "ddnunzip", enabled: !q)
        let files = try ArchiveExtractor.restoreAll(reader, threads: threads, progress: { bar.update($0) })
        bar.finish()
        if t {
            if v && !q { for (name, n) in zip(reader.entries.map(\.name), files.map(\.count)) { log("  \(name): OK (\(n) bytes)") } }
            if !q { log("ddnunzip: \(files.count) entries OK") }
            return
        }
        let written = try ArchiveExtractor.write(files, names: reader.entries.map(\.name), into: d, overwrite: f)
        if v && !q { for (name, n) in zip(reader.entries.map(\.name), files.map(\.count)) { log("  \(name): \(n) bytes") } }
        if !q { log("ddnunzip: restored \(written) file\(written == 1 ? "" : "s") into \(d)") }
    }

    private func log(_ line: String) {
        FileHandle.standardError.write((line + "\n").data(using: .utf8)!)
    }
}
