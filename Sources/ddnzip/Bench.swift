import ArgumentParser
import CLISupport
import DDNKernel
import Foundation

/// `ddnzip bench DIR…`: sizes and speeds against PNG, WebP lossless and JPEG XL.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Compare ddnzip with PNG (libpng at its best), cwebp -lossless -exact and cjxl -d 0 on folders of PNGs.")

    @Argument(help: "Folders of PNG files.")
    var folders: [String]

    @Flag(help: "Print JSON instead of a table: every method's bytes and bpsp, the model's SHA-256, cwebp's and cjxl's versions; the same keys whatever is installed (null where nothing was measured).")
    var json = false

    @Option(name: .customShort("j", allowingJoined: true), parsing: .unconditional, help: ArgumentHelp("Threads for the one-archive run (default: all cores).", valueName: "n"))
    var j: Int?

    @Flag(name: .customLong("no-statistics"), help: "Do not learn shared statistics for the one-archive run.")
    var noStatistics = false

    @Flag(name: .customLong("no-external"), help: "Skip cwebp and cjxl.")
    var noExternal = false

    @Option(name: .customShort("m", allowingJoined: true), help: ArgumentHelp("Model file (default: the embedded one).", valueName: "model"))
    var m: String?

    @Flag(name: .customLong("no-ddn"), help: "Measure the classical coder only.")
    var noDDN = false

    @OptionGroup var effort: EffortOption

    func validate() throws {
        if let j, j < 1 { throw ValidationError.refused("-j", "at least 1", got: j) }
    }

    func run() throws {
        do {
            let model = noDDN ? nil : try DDNModel.load(path: m)
            var results: [BenchReport] = []
            for folder in folders {
                var options = BenchOptions()
                options.threads = j ?? ProcessInfo.processInfo.activeProcessorCount
                if !noStatistics { options.learnStatistics = ClassicalEntryCoder.learn }
                options.coders = try model.map { try .standard(model: $0, effort: effort.e) } ?? .standard(effort: effort.e)
                var report = BenchReport(result: try Benchmark.run(folder: folder, options: options))
                // the other codecs on the same files, after ours (as the timings always were)
                if !noExternal { report.external = ExternalTools.measure(report.result.paths, threads: options.threads) }
                results.append(report)
            }
            let identity = model.map { $0.identity.map { String(format: "%02x", $0) }.joined() }
            print(json ? try BenchJSON.text(results, modelSHA256: identity) : BenchTable.text(results))
        } catch {
            throw Exit.fail("\(error)")
        }
    }
}
