import ArgumentParser
import CLISupport
import DDNKernel
import Foundation

/// `ddnzip`: put PNG files into a ddnzip archive, or benchmark the codec (`ddnzip bench`).
@main
struct DDNZip: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ddnzip",
        abstract: "Compress PNG files losslessly into a ddnzip archive.",
        discussion: """
            ddnzip ARCHIVE.ddnz FILE|DIR...   (a folder adds the .png files directly inside it, sorted; -r: all below it)
            ddnzip bench DIR... [--json]      (compare with PNG, WebP and JPEG XL)
            Restore with ddnunzip. Entries are named by their paths as given (data/train/3/x0.png),             as zip and tar name them; --junk-paths names them by their file names.
            """,
        version: DDNVersion.line("ddnzip"),
        subcommands: [Zip.self, Bench.self],
        defaultSubcommand: Zip.self
    )

    /// Runs the command; every failure, usage errors included, is one line on standard error.
    static func main() { mainReportingOneLine(tool: "ddnzip") }
}

/// Exit statuses shared by the subcommands.
enum Exit {
    /// Prints `ddnzip: message` on standard error and returns the failure status.
    static func fail(_ message: String) -> ExitCode {
        FileHandle.standardError.write("ddnzip: \(message)\n".data(using: .utf8)!)
        return ExitCode(1)
    }
}

/// `ddnzip ARCHIVE FILE|DIR…`: the default subcommand.
struct Zip: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zip",
        abstract: "Compress PNG files losslessly into a ddnzip archive (the default command: 'zip' may be left out).",
        usage: """
            ddnzip [-r] [-u] [--junk-paths] [--block <n>] [-e <n>] [-j <n>] [-m <model>] [--max-pixels <n>] [-f] [-q] [-v] <archive> <inputs> ...
            ddnzip bench <folders> ... [-e <n>] [--json] [--no-external] [--no-ddn] [-m <model>]
            """,
        discussion: """
            A folder adds the .png files directly inside it, sorted by name (with -r, those of its \
            subfolders too; without -r, one line says how many PNG files its subfolders hold). \
            Entries are named as zip and tar name them: by the path given on the command line or \
            found below it, relative, without a leading /, ./ or .. ('cd data && ddnzip -r \
            ../b.ddnz train' names train/3/x0.png); --junk-paths names them by their file names. \
            Files that are not readable PNGs, or whose names are unsafe, not valid UTF-8 (entry \
            names are UTF-8; such a path is shown with \\xNN escapes) or repeat an earlier \
            input's, are skipped, one line each; the exit status is then 2 (0: all added, \
            1: nothing written). Restore with ddnunzip. 'ddnzip bench --help' describes the benchmark.
            """)

    @Argument(help: "The archive to write, or - for standard output (a pipe).")
    var archive: String

    @Argument(help: "PNG files, or folders whose .png files are added (sorted by name).")
    var inputs: [String]

    @Flag(name: .short, help: "Recurse into subfolders; entries keep their paths (data/train/3/00042.png for the folder data).")
    var r = false

    /// zip's `-j` ("junk paths"); ddnzip's `-j` is the thread count.
    @Flag(name: .customLong("junk-paths"), help: "Name entries by their file names alone, without their folders (zip's -j; here -j is the thread count). Files of the same name are then skipped after the first.")
    var junkPaths = false

    @Flag(name: .short, help: "Update: add the inputs to an existing archive (an entry of the same name is replaced); the archive is rewritten through a temporary file.")
    var u = false

    /// Entries per solid block (archive format 3, Spec/ARCHIVE.md §3.4).
    @Option(name: .customLong("block"), parsing: .unconditional,
            help: ArgumentHelp("Entries per solid block, 1-4096 (default: \(ArchiveWriter.defaultBlockSize); -u keeps the archive's): a block's entries share one length, one CRC-32 and one coded stream, and damage costs the block it hits. 1 keeps every entry independent (archive format 2); blocks of 2-8 cost more than 1 (each block codes its first name in full).", valueName: "n"))
    var block: Int?

    @OptionGroup var options: CommonOptions

    @OptionGroup var effort: EffortOption

    /// Refuses block sizes outside 1…4096.
    func validate() throws {
        if let block, !(1...4096).contains(block) { throw ValidationError.refused("--block", "1 to 4096", got: block) }
    }

    /// Exit status when the archive was written but some inputs were skipped (Spec: README).
    static let skippedInputsStatus: Int32 = 2

    func run() throws {
        do { try zip() } catch let code as ExitCode { throw code } catch {
            throw Exit.fail("\(error)")
        }
    }

    private func zip() throws {
        InterruptCleanup.install()
        let toStdout = archive == "-"
        if toStdout && Files.isTerminal(1) { throw FileError("refusing to write an archive to a terminal") }
        if u && toStdout { throw FileError("-u adds to an archive file; it cannot update standard output") }
        // A path that is not valid UTF-8 reaches us changed (U+FFFD for each bad sequence), so it
        // names no file: it is named as given, with why (entry names are UTF-8).
        let notUTF8 = Files.nonUTF8Arguments()
        let badlyEncoded = inputs.compactMap { notUTF8[$0] }.map { Files.refusedAsNotUTF8($0).error.description }
        // A path that does not exist is skipped like an unreadable file.
        let missing = inputs.filter { notUTF8[$0] == nil && !Files.exists($0) }
        // An input whose entry name cannot be stored, or repeats an earlier input's, is skipped too.
        let collected = try Files.collectInputs(inputs.filter { notUTF8[$0] == nil && !missing.contains($0) }, recursive: r, junkPaths: junkPaths)
        let found = collected.inputs
        let refused = badlyEncoded + collected.refusedLines
        if found.isEmpty {
            let why = missing.map { "\($0): no such file or folder" } + refused + collected.leftOut.map(\.description)
            throw FileError(why.first.map { $0 + "; nothing written" } ?? "no PNG files to add")
        }
        // Not an error: the folder was taken as asked; the user learns what -r would add.
        if !options.q { for folder in collected.leftOut { log("ddnzip: \(folder.description)") } }
        if !toStdout {
            // `ddnzip adir x/` with adir an existing folder: -f cannot replace a folder by a file.
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: archive, isDirectory: &isFolder), isFolder.boolValue {
                throw FileError("\(archive) is a folder; the first argument is the archive file to write (ddnzip ARCHIVE.ddnz FILE|DIR…)")
            }
            for input in found where Files.sameFile(input.path, archive) {
                throw FileError("\(archive) is also an input")
            }
            if !options.f && !u && Files.exists(archive) { throw FileError("\(archive) exists (use -f to overwrite, -u to add to it)") }
        }
        var writer = ArchiveWriter()
        writer.threads = options.threads
        writer.reader = PNGReader(maxPixels: options.maxPixels)
        let model = try DDNModel.load(path: options.m)
        writer.coders = try CoderSet.standard(model: model, effort: effort.e)
        // -u: the entries already in the archive that no input replaces, restored to be coded
        // again, in blocks of the archive's size (and so its format) unless --block is given
        let existing = u && !toStdout && Files.exists(archive) ? try existingEntries() : nil
        let kept = existing?.inputs.filter { e in !found.contains { $0.name == e.name } } ?? []
        writer.blockSize = block ?? existing?.blockSize ?? ArchiveWriter.defaultBlockSize
        let bar = ProgressBar(total: found.count, label: "ddnzip", enabled: !options.q)
        writer.progress = { bar.update($0) }
        writer.skipUnreadable = true
        var unreadable: [String: String] = [:]   // path -> the error, for files that could not be read at all
        let inputs = found.map { input in
            do { return ArchiveInput(name: input.name, bytes: try Files.read(input.path)) } catch {
                unreadable[input.path] = "\(error)"
                return ArchiveInput(name: input.name, bytes: [])
            }
        }
        let (bytes, everything) = try writer.write(kept + inputs)
        let all = Array(everything.suffix(inputs.count))
        bar.finish()
        var skippedLines = missing.map { "\($0): no such file or folder" } + refused   // "path: why" per input left out
        for (input, report) in Swift.zip(found, all) {
            guard let why = report.skipped else { continue }
            skippedLines.append(unreadable[input.path] ?? "\(input.path): \(why)")   // a read error names its path
        }
        let skipped = skippedLines.count
        if skipped == all.count + missing.count + refused.count {
            throw FileError(skippedLines[0] + (skipped > 1 ? " (and \(skipped - 1) more inputs unreadable)" : "") + "; nothing written")
        }
        for line in skippedLines { log("ddnzip: skipped \(line)") }
        let reports = all.filter { $0.skipped == nil }
        let added = Swift.zip(inputs, all).filter { $0.1.skipped == nil }.map(\.0)
        if toStdout { try Files.writeAll(fd: 1, bytes) } else { try Files.writeAtomically(bytes, to: archive, overwrite: options.f || u) }
        if options.v && !options.q {
            // DDN entries: the model's bits by part, recomputed (only with -v).
            var sum = DDNCoder.Cost(), ddnEntries = 0, ddnSubPixels = 0
            for (r, input) in Swift.zip(reports, added) {
                var how = r.storedReason.map { "stored (\($0))" } ?? CoderID.name(r.coder)
                if let ddn = writer.coders.coders[r.coder] as? DDNEntryCoder, case .image(let png)? = try? writer.reader.read(input.bytes) {
                    let c = ddn.cost(of: png.pixels)
                    how += String(format: " (DDN depth %d: path %.1f + halting %.1f + residual %.1f bits)", c.depth, c.path, c.halting, c.residual)
                    sum.path += c.path; sum.halting += c.halting; sum.residual += c.residual
                    ddnEntries += 1; ddnSubPixels += r.subPixels
                }
                let bpsp = r.subPixels > 0 ? String(format: "%.3f bpsp", Double(r.payloadBytes * 8) / Double(r.subPixels)) : ""
                log("  \(r.name): \(r.inputBytes) -> \(r.payloadBytes) bytes, \(how) \(bpsp)")
            }
            if ddnEntries > 0 {
                let n = Double(ddnSubPixels)
                log(String(format: "ddnzip: %d DDN entries, bits per sub-pixel: path %.4f + halting %.4f + residual %.4f = %.4f",
                           ddnEntries, sum.path / n, sum.halting / n, sum.residual / n, sum.total / n))
            }
        }
        if !options.q && !toStdout || options.v {
            let total = reports.reduce(0) { $0 + $1.inputBytes }
            log("ddnzip: \(reports.count) file\(reports.count == 1 ? "" : "s")" + (kept.isEmpty ? "" : " added to \(kept.count) kept") + ", \(total) -> \(bytes.count) bytes" +
                (total > 0 && kept.isEmpty ? String(format: " (%.1f%%)", 100.0 * Double(bytes.count) / Double(total)) : "") +
                (skipped > 0 ? "; \(skipped) skipped" : ""))
        }
        if skipped > 0 { throw ExitCode(Self.skippedInputsStatus) }
    }

    /// The files of the archive being updated, in archive order, and the block size it was
    /// written with (`ArchiveReader.blockSize(orAtLeast:)`).
    /// - Throws: when the archive is damaged (nothing is changed then) or needs another model.
    private func existingEntries() throws -> (inputs: [ArchiveInput], blockSize: Int) {
        let bytes = try Files.read(archive)
        let reader: ArchiveReader
        do {
            // read with the model the archive names (an earlier default's archive is re-coded with today's)
            reader = try ArchiveReader.opening(bytes, maxPixels: options.maxPixels, model: { try DDNModel.load(path: options.m, needing: $0) })
        } catch ArchiveError.modelMismatch(let expected, let given) {
            throw FileError("\(archive): " + DDNModel.mismatchLine(needed: expected, given: given, path: options.m) + "; not updated")
        } catch { throw FileError("\(archive): \(error); not updated") }
        let inputs = try reader.restoreAll(threads: options.threads).map { outcome in
            do { return ArchiveInput(name: outcome.name, bytes: try outcome.file.get()) } catch {
                if (error as? ArchiveError)?.isPixelLimit == true { throw FileError("\(archive): \(error); not updated") }
                throw FileError("\(archive): \(error); not updated (ddnunzip restores the intact entries)")
            }
        }
        return (inputs, reader.blockSize(orAtLeast: ArchiveWriter.defaultBlockSize))
    }

    private func log(_ line: String) {
        // Messages go to standard error so an archive on standard output stays clean.
        FileHandle.standardError.write((line + "\n").data(using: .utf8)!)
    }
}
