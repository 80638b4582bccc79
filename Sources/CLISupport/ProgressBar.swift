import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A one-line progress bar on standard error, shown only when it is a terminal.
public final class ProgressBar: @unchecked Sendable {
    private let total: Int
    private let label: String
    private let enabled: Bool
    private let lock = NSLock()
    private var lastDrawn = -1

    /// - Parameters: total: the number of steps; enabled: false hides it (e.g. `-q`).
    public init(total: Int, label: String, enabled: Bool) {
        self.total = total
        self.label = label
        self.enabled = enabled && isatty(2) == 1 && total > 0
    }

    /// Shows `done` of `total` steps (thread-safe; redraws at most 100 times).
    public func update(_ done: Int) {
        guard enabled else { return }
        lock.lock(); defer { lock.unlock() }
        let percent = done * 100 / total
        // Threads report in any order: draw only forward progress.
        guard percent > lastDrawn else { return }
        lastDrawn = percent
        let width = 30, filled = done * width / total
        let bar = String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled)
        let line = "\r\(label) [\(bar)] \(done)/\(total)"
        FileHandle.standardError.write(line.data(using: .utf8)!)
    }

    /// Erases the bar.
    public func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(("\r" + String(repeating: " ", count: 60 + label.count) + "\r").data(using: .utf8)!)
    }
}
