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
            ddnzip ARCHIVE.ddnz FILE|DIR...   (a folder adds the .png files directly inside it, sorted)
            ddnzip bench DIR... [--json]      (compare with PNG, WebP and JPEG XL)
            Restore with ddnunzip. Entries are named by their file names.
            Options of the first form (-j, -f, -q, -v, -m, --max-pixels): ddnzip help zip
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
        commandName: "zip", abstract: "Put PNG files into an archive (the default command).")

    @Argument(help: "The archive to write, or - for standard output (a pipe).")
    var archive: String

    @Argument(help: "PNG files, or folders whose .png files are added (sorted by name).")
    var inputs: [String]

    @Option(name: .customShort("j", allowingJoined: true), parsing: .unconditional, help: ArgumentHelp("Threads used to code entries (default: all cores). The archive is the same for every value.", valueName: "n"))
    var j: Int?

    @Option(name: .customShort("m", allowingJoined: true), help: ArgumentHelp("Model file (default: the embedded one).", valueName: "model"))
    var m: String?

    @Option(name: .customLong("max-pixels"), parsing: .unconditional, help: "Refuse PNGs larger than this many pixels.")
    var maxPixels: Int = 1 << 26

    @Flag(name: .short, help: "Overwrite an existing archive.")
    var f = false

    @Flag(name: .short, help: "Quiet: print nothing but errors.")
    var q = false

    @Flag(name: .short, help: "Verbose: one line per entry.")
    var v = false

    func validate() throws {
        if let j, j < 1 { throw ValidationError.refused("-j", "at least 1", got: j) }
        if maxPixels < 1 { throw ValidationError.refused("--max-pixels", "at least 1", got: maxPixels) }
    }

    func run() throws {
        do { try zip() } catch let code as ExitCode { throw code } catch {
            throw Exit.fail("\(error)")
        }
    }

    private func zip() throws {
        InterruptCleanup.install()
        let toStdout = archive == "-"
        if toStdout && ArchiveFiles.isTerminal(1) { throw FileError("refusing to write an archive to a terminal") }
        let found = try ArchiveFiles.collectInputs(inputs)
        if found.isEmpty { throw FileError("no PNG files to add") }
        if !toStdout {
            for input in found where ArchiveFiles.sameFile(input.path, archive) {
                throw FileError("\(archive) is also an input")
            }
            if !f && ArchiveFiles.exists(archive) { throw FileError("\(archive) exists (use -f to overwrite)") }
        }
        var writer = ArchiveWriter()
        writer.threads = j ?? ProcessInfo.processInfo.activeProcessorCount
        writer.reader = PNGReader(maxPixels: maxPixels)
        writer.coders = try CoderSet.standard(model: DDNModel.load(path: m))
        let bar = ProgressBar(total: found.count, label: "ddnzip", enabled: !q)
        writer.progress = { bar.update($0) }
        let inputs = try found.map { ArchiveInput(name: $0.name, bytes: try ArchiveFiles.read($0.path)) }
        let (bytes, reports) = try writer.write(inputs)
        bar.finish()
        if toStdout { try ArchiveFiles.writeAll(fd: 1, bytes) } else { try ArchiveFiles.writeAtomically(bytes, to: archive, overwrite: f) }
        if v && !q {
            // DDN entries: the model's bits by part, recomputed (only with -v).
            var sum = DDNCoder.Cost(), ddnEntries = 0, ddnSubPixels = 0
            for (r, input) in Swift.zip(reports, inputs) {
                var how = r.storedReason.map { "stored (\($0))" } ?? "coder \(r.coder)"
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
        if !q && !toStdout || v {
            let total = reports.reduce(0) { $0 + $1.inputBytes }
            log("ddnzip: \(reports.count) file\(reports.count == 1 ? "" : "s"), \(total) -> \(bytes.count) bytes" +
                (total > 0 ? String(format: " (%.1f%%)", 100.0 * Double(bytes.count) / Double(total)) : ""))
        }
    }

    private func log(_ line: String) {
        // Messages go to standard error so an archive on standard output stays clean.
        FileHandle.standardError.write((line + "\n").data(using: .utf8)!)
    }
}
