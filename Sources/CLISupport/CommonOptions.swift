import ArgumentParser
import Foundation

/// The options `ddnzip` and `ddnunzip` share, declared once: threads, model file, size limit,
/// overwrite, quiet and verbose.
public struct CommonOptions: ParsableArguments {
    /// `-j N`: threads coding or decoding entries; nil for all cores.
    @Option(name: .customShort("j", allowingJoined: true), parsing: .unconditional,
            help: ArgumentHelp("Threads (default: all cores). The archive and the restored files are the same for every value.", valueName: "n"))
    public var j: Int?

    /// `-m MODEL`: the model file; nil for the embedded model.
    @Option(name: .customShort("m", allowingJoined: true), help: ArgumentHelp("Model file (default: the embedded one).", valueName: "model"))
    public var m: String?

    /// `--max-pixels N`: larger images are refused.
    @Option(name: .customLong("max-pixels"), parsing: .unconditional, help: ArgumentHelp("Refuse images larger than this many pixels.", valueName: "n"))
    public var maxPixels: Int = 1 << 26

    /// `-f`: overwrite existing files.
    @Flag(name: .short, help: "Overwrite existing files.")
    public var f = false

    /// `-q`: print nothing but errors.
    @Flag(name: .short, help: "Quiet: print nothing but errors.")
    public var q = false

    /// `-v`: one line per entry.
    @Flag(name: .short, help: "Verbose: one line per entry.")
    public var v = false

    /// The defaults: all cores, the embedded model.
    public init() {}

    /// Refuses thread counts and size limits below 1.
    public func validate() throws {
        if let j, j < 1 { throw ValidationError.refused("-j", "at least 1", got: j) }
        if maxPixels < 1 { throw ValidationError.refused("--max-pixels", "at least 1", got: maxPixels) }
    }

    /// The thread count to use: `-j`, or every core.
    public var threads: Int { j ?? ProcessInfo.processInfo.activeProcessorCount }
}
