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
            ddnzip [-j <n>] [-m <model>] [--max-pixels <n>] [-f] [-q] [-v] <archive> <inputs> ...
            ddnzip bench <folders> ... [--json] [--no-external] [--no-ddn] [-m <model>]
            """,
        discussion: """
            A folder adds the .png files directly inside it, sorted by name; entries are named by \
            their file names. Restore with ddnunzip. 'ddnzip bench --help' describes the benchmark.
            """)

    @Argument(help: "The archive to write, or - for standard output (a pipe).")
    var archive: String

    @Argument(help: "PNG files, or folders whose .png files are added (sorted by name).")
    var inputs: [String]

    @OptionGroup var options: CommonOptions

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
            if !options.f && ArchiveFiles.exists(archive) { throw FileError("\(archive) exists (use -f to overwrite)") }
        }
        var writer = ArchiveWriter()
        writer.threads = options.threads
        writer.reader = PNGReader(maxPixels: options.maxPixels)
        writer.coders = try CoderSet.standard(model: DDNModel.load(path: options.m))
        let bar = ProgressBar(total: found.count, label: "ddnzip", enabled: !options.q)
        writer.progress = { bar.update($0) }
        let inputs = try found.map { ArchiveInput(name: $0.name, bytes: try ArchiveFiles.read($0.path)) }
        let (bytes, reports) = try writer.write(inputs)
        bar.finish()
        if toStdout { try ArchiveFiles.writeAll(fd: 1, bytes) } else { try ArchiveFiles.writeAtomically(bytes, to: archive, overwrite: options.f) }
        if options.v && !options.q {
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
        if !options.q && !toStdout || options.v {
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
