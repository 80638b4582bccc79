import DDNKernel
import Foundation

/// `ddnzip bench --json`.
enum BenchJSON {
    /// The results as JSON (one object per folder).
    static func text(_ results: [BenchResult]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: (try? encoder.encode(results)) ?? Data(), as: UTF8.self)
    }
}
