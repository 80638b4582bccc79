import ArgumentParser
import Foundation

/// What the three command lines share: every failure, usage errors included, is one line on
/// standard error (`tool: message`) and a non-zero exit status; help and version print in full.
extension ParsableCommand {
    /// Parses the arguments and runs the command; never returns.
    public static func mainReportingOneLine(tool: String) -> Never {
        // `tool --help` of a command with a default subcommand shows that subcommand's help:
        // the options of the common use, not a list of subcommands.
        let arguments = CommandLine.arguments.dropFirst()
        if let common = configuration.defaultSubcommand, arguments.count == 1, ["-h", "--help", "help"].contains(arguments.first!) {
            print(helpMessage(for: common))
            Foundation.exit(0)
        }
        do {
            var command = try parseAsRoot()
            try command.run()
            Foundation.exit(0)
        } catch {
            Foundation.exit(reportOneLine(error, tool: tool))
        }
    }

    /// Prints `error` for a user: help and version text in full, anything else as one line.
    /// - Returns: the exit status.
    public static func reportOneLine(_ error: Error, tool: String) -> Int32 {
        if let code = error as? ExitCode { return code.rawValue }
        let status = exitCode(for: error)
        let text = fullMessage(for: error)
        if status == .success {
            print(text)
            return 0
        }
        let lines = text.split(separator: "\n")
        var line = lines.first.map(String.init) ?? "\(error)"
        if line.hasPrefix("Error: ") {
            line = String(line.dropFirst(7))
            // Usage errors come with a usage text: point to the help. Other errors (a bad input
            // file) are complete as they are.
            if lines.count > 1 { line += " (see \(tool) --help)" }
        }
        FileHandle.standardError.write("\(tool): \(line)\n".data(using: .utf8)!)
        return status.rawValue
    }
}
