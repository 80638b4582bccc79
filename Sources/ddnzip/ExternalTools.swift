import DDNKernel
import Foundation

/// What `ddnzip bench` measured of the other codecs on one folder's files: `cwebp -lossless
/// -exact` and `cjxl -d 0` (and `djxl` for decoding speed), each when installed. Sizes in bytes.
struct ExternalResult {
    /// Total bytes of cwebp / cjxl outputs (nil: tool not installed, or not run).
    var webpBytes: Int?, jxlBytes: Int?
    /// The first line of `cwebp -version` / `cjxl --version` of the tools run (nil: not run).
    var webpVersion: String?, jxlVersion: String?
    /// Files the external tool failed on (their sizes are left out of its total).
    var webpFailures = 0, jxlFailures = 0
    /// `cjxl -d 0` and `djxl`, one process per image, `threads` at a time: images/s (wall clock).
    var jxlEncodeImagesPerSecond: Double?, jxlDecodeImagesPerSecond: Double?
}

/// One folder's line of `ddnzip bench`: our own coding, measured by the kernel, and the other
/// codecs, run here.
struct BenchReport {
    /// ddnzip's archives and coders, PNG at its best (`Benchmark.run`).
    var result: BenchResult
    /// cwebp and cjxl on the same files (all nil with `--no-external`).
    var external = ExternalResult()
}

/// Runs the other codecs' command-line tools on the files the kernel measured.
enum ExternalTools {
    /// Runs cwebp, cjxl and djxl (those installed, found on PATH) on `paths`, `threads`
    /// processes at a time, writing into a temporary folder that is removed afterwards.
    static func measure(_ paths: [String], threads: Int) -> ExternalResult {
        var result = ExternalResult()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ddnzip-bench-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        if let webp = findTool("cwebp") {
            result.webpVersion = toolVersion(webp, "-version")
            let run = runTool(paths, threads: threads, outputs: dir.appendingPathComponent("webp").path, ext: "webp") {
                [webp, "-quiet", "-lossless", "-exact", $0, "-o", $1]
            }
            result.webpBytes = run.sizes.compactMap { $0 }.reduce(0, +)
            result.webpFailures = run.sizes.filter { $0 == nil }.count
        }
        if let jxl = findTool("cjxl") {
            result.jxlVersion = toolVersion(jxl, "--version")
            let run = runTool(paths, threads: threads, outputs: dir.appendingPathComponent("jxl").path, ext: "jxl") {
                [jxl, $0, $1, "-d", "0", "--quiet"]
            }
            result.jxlBytes = run.sizes.compactMap { $0 }.reduce(0, +)
            result.jxlFailures = run.sizes.filter { $0 == nil }.count
            result.jxlEncodeImagesPerSecond = Double(paths.count) / max(run.seconds, 1e-9)
            let coded = zip(run.outputs, run.sizes).compactMap { $1 == nil ? nil : $0 }
            if let djxl = findTool("djxl"), !coded.isEmpty {
                let back = runTool(coded, threads: threads, outputs: dir.appendingPathComponent("djxl").path, ext: "png") {
                    [djxl, $0, $1, "--quiet"]
                }
                result.jxlDecodeImagesPerSecond = Double(coded.count) / max(back.seconds, 1e-9)
            }
        }
        return result
    }

    /// The executable `name` in a folder of PATH, or nil.
    private static func findTool(_ name: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    /// The first line a tool prints for `argument` (its version), or nil if it prints nothing.
    private static func toolVersion(_ path: String, _ argument: String) -> String? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = [argument]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return nil }
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        let line = text.split(separator: "\n").first.map { $0.trimmingCharacters(in: .whitespaces) }
        return line?.isEmpty == false ? line : nil
    }

    /// Runs a tool on each file, `threads` processes at a time, writing into the folder `outputs`
    /// (kept until the caller removes it). - Returns: each output's size (nil = the tool failed),
    /// the output paths, and the wall-clock seconds of the whole run.
    private static func runTool(_ paths: [String], threads: Int, outputs: String, ext: String,
                                _ command: @escaping @Sendable (String, String) -> [String]) -> (sizes: [Int?], outputs: [String], seconds: Double) {
        try? FileManager.default.createDirectory(atPath: outputs, withIntermediateDirectories: true)
        let names = paths.indices.map { "\(outputs)/\($0).\(ext)" }
        let start = Date()
        let sizes: [Int?] = (try? parallelMap(paths.count, threads: threads) { i -> Int? in
            let args = command(paths[i], names[i])
            let p = Process()
            p.executableURL = URL(fileURLWithPath: args[0])
            p.arguments = Array(args.dropFirst())
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            do { try p.run() } catch { return nil }
            p.waitUntilExit()
            guard p.terminationStatus == 0, let attrs = try? FileManager.default.attributesOfItem(atPath: names[i]),
                  let size = attrs[.size] as? NSNumber else { return nil }
            return size.intValue
        }) ?? []
        return (sizes, names, Date().timeIntervalSince(start))
    }
}
