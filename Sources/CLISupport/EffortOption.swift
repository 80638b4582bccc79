import ArgumentParser
import DDNKernel

/// `-e N`: the encoder's effort, shared by `ddnzip` and `ddnzip bench`. Only the size and the
/// encoding time depend on it; every effort decodes the same way and as fast.
public struct EffortOption: ParsableArguments {
    /// `-e N`, 1…9.
    @Option(name: .customShort("e", allowingJoined: true), parsing: .unconditional,
            help: ArgumentHelp("Encoder effort 1-9: 1-2 fastest, 3-6 the same search, 7-9 try 4, 8 or 16 more paths through the model and more colour transforms for the classical coder (smaller archives, slower encoding, the same decoding).", valueName: "n"))
    public var e: Int = DDNCoder.Search.defaultEffort

    public init() {}

    /// Refuses efforts outside 1…9.
    public func validate() throws {
        if !(1...9).contains(e) { throw ValidationError.refused("-e", "1 to 9", got: e) }
    }
}
