import DDNKernel
import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension InterruptCleanup {
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []
    private static let installLock = NSLock()

    /// From now on SIGINT, SIGTERM and SIGHUP remove the registered temporary files and exit
    /// with status 128 + signal. Call once, early, from a command line's `run`.
    public static func install() {
        installLock.lock(); defer { installLock.unlock() }
        guard sources.isEmpty else { return }
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                removeRegistered()
                exit(128 + sig)
            }
            source.resume()
            sources.append(source)
        }
    }
}
