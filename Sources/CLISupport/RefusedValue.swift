import ArgumentParser
import Foundation

/// An option's value refused with a message that names the option, what it needs and what was
/// given: `--minutes must be positive (got -1)`.
///
/// Numeric options are declared with `parsing: .unconditional`, so that `--minutes -1` reaches
/// `validate()` instead of being read as the short flags `-1` ("Missing value for …").
extension ValidationError {
    /// `option` must meet `requirement` (e.g. "at least 1"); `value` is what the user gave.
    public static func refused(_ option: String, _ requirement: String, got value: Int) -> ValidationError {
        ValidationError("\(option) must be \(requirement) (got \(value))")
    }

    /// The same for a real number, printed as the user would write it (`-1`, `0.5`).
    public static func refused(_ option: String, _ requirement: String, got value: Double) -> ValidationError {
        ValidationError("\(option) must be \(requirement) (got \(String(format: "%g", value)))")
    }
}
