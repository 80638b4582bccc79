import Foundation

/// The training estimate's trend for the progress line: its value now against its value about a
/// minute ago (or since the run began, when that is shorter).
struct Trend {
    private var samples: [(time: Double, value: Double)] = []
    /// The span the trend covers, in seconds.
    static let window = 60.0

    /// Records `value` at `time` (seconds); at most one sample a second is kept.
    mutating func add(time: Double, value: Double) {
        guard value.isFinite else { return }
        if let last = samples.last, time - last.time < 1 { return }
        samples.append((time, value))
        // Keep the newest sample at least `window` old, and everything after it.
        while samples.count > 1 && time - samples[1].time >= Self.window { samples.removeFirst() }
    }

    /// "(−0.012 in the last minute)", "(+0.003 in the last 20 s)", or "" before 5 s of samples.
    func phrase(now value: Double, at time: Double) -> String {
        guard let first = samples.first, time - first.time >= 5 else { return "" }
        let change = value - first.value
        let span = time - first.time >= Self.window - 1 ? "the last minute" : "the last \(Int(time - first.time)) s"
        let sign = change < 0 ? "−" : "+"
        return String(format: " (%@%.3f in %@)", sign, abs(change), span)
    }
}

extension DDNTrain {
    /// The progress line, in plain words: "step 1200: 3.214 bits per sub-pixel (−0.012 in the last
    /// minute), 4:10 left".
    func progressLine(step: Int, bpsp: Double, trend: String, elapsed: Double, budget: Double?) -> String {
        String(format: "step %d: %.3f bits per sub-pixel", step, bpsp) + trend + ", " + left(elapsed: elapsed, budget: budget, step: step) + " left"
    }

    /// "4:10" for 250 seconds.
    func fmtTime(_ s: Double) -> String {
        let t = max(0, Int(s))
        return String(format: "%d:%02d", t / 60, t % 60)
    }

    /// What is left of the budget: `4:10`, `120 steps`, or `4:10 or 120 steps`.
    func left(elapsed: Double, budget: Double?, step: Int) -> String {
        var parts: [String] = []
        if let budget { parts.append(fmtTime(budget - elapsed)) }
        if let steps { parts.append("\(max(0, steps - step)) steps") }
        return parts.joined(separator: " or ")
    }

    /// The next command, for the model just written: how to use it and how to restore with it.
    func nextCommand(model: String) -> String {
        let m = Self.shellQuoted(model)
        return "next: ddnzip -m \(m) ARCHIVE.ddnz YOUR_PNGS/  (restore: ddnunzip -m \(m) ARCHIVE.ddnz)"
    }

    /// `path` as one shell word: as it is when it is made of safe characters, else in single quotes.
    static func shellQuoted(_ path: String) -> String {
        let safe = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./+=:,@%")
        if !path.isEmpty && path.unicodeScalars.allSatisfy(safe.contains) { return path }
        return "'" + path.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
