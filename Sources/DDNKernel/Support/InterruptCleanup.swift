import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Temporary files being written (`Files.writeAtomically`), listed so that an interrupt
/// can remove them and Ctrl-C never leaves a partial file behind (complete files already renamed
/// into place stay). The kernel only keeps the list; a command line installs the signal handler
/// that calls `removeRegistered()` (CLISupport's `InterruptCleanup.install()`).
public enum InterruptCleanup {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var paths = Set<String>()

    static func register(_ path: String) { lock.lock(); paths.insert(path); lock.unlock() }
    static func unregister(_ path: String) { lock.lock(); paths.remove(path); lock.unlock() }

    /// Removes every registered temporary file; called by a signal handler before it exits.
    /// The lock stays held, so that no new file is registered (or renamed into place) after.
    public static func removeRegistered() {
        lock.lock()
        for path in paths { unlink(path) }
    }
}
