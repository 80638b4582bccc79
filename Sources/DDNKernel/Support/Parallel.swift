import Foundation

/// Runs `body(0..<count)` on up to `threads` threads and returns the results in index order.
/// Work is handed out one index at a time; results never depend on the thread count.
/// When several indices throw, the error of the smallest index is rethrown (deterministic).
public func parallelMap<T: Sendable>(_ count: Int, threads: Int, _ body: @Sendable (Int) throws -> T) throws -> [T] {
    if count == 0 { return [] }
    let workers = max(1, min(threads, count))
    if workers == 1 { return try (0..<count).map(body) }
    let results = UnsafeMutableBufferPointer<Result<T, Error>?>.allocate(capacity: count)
    results.initialize(repeating: nil)
    defer { results.deinitialize(); results.deallocate() }
    let lock = NSLock()
    nonisolated(unsafe) var next = 0
    nonisolated(unsafe) let out = results
    DispatchQueue.concurrentPerform(iterations: workers) { _ in
        while true {
            lock.lock()
            let i = next
            next += 1
            lock.unlock()
            if i >= count { return }
            out[i] = Result { try body(i) }
        }
    }
    var values: [T] = []
    values.reserveCapacity(count)
    for r in results { values.append(try r!.get()) }
    return values
}
