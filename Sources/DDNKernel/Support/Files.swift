import CPNG
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A file-system problem, as one line.
public struct FileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The message.
    public var description: String
    /// A problem described by `description`.
    public init(_ description: String) { self.description = description }
}

/// File-system helpers shared by the tools: no-clobber atomic writes (temporary file in the same
/// folder, then link or rename), reading files and standard input, folders. Input discovery for
/// archives: `Files.collectInputs` (Archive/ArchiveInputs.swift).
public enum Files {
    /// Reads a whole file (or standard input for `-`).
    public static func read(_ path: String) throws -> [UInt8] {
        if path == "-" { return readAll(fd: 0) }
        // Only regular files: a FIFO or device would block or never end (use - for pipes).
        var st = stat()
        guard stat(path, &st) == 0 else { throw FileError("\(path): \(String(cString: strerror(errno)))") }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw FileError("\(path): is a folder") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw FileError("\(path): not a regular file (a pipe or device; only an archive is read from standard input, as -)") }
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw FileError("\(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        return readAll(fd: fd)
    }

    /// Reads a file descriptor to its end.
    public static func readAll(fd: Int32) -> [UInt8] {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            out += buffer[0..<n]
        }
        return out
    }

    /// Writes all of `bytes` to a file descriptor.
    public static func writeAll(fd: Int32, _ bytes: [UInt8]) throws {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, bytes.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw FileError("write failed: \(String(cString: strerror(errno)))") }
            done += n
        }
    }

    /// True when something (file, folder, link) exists at `path`.
    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    /// True when `a` and `b` name the same existing file (same device and inode).
    public static func sameFile(_ a: String, _ b: String) -> Bool {
        var sa = stat(), sb = stat()
        guard stat(a, &sa) == 0, stat(b, &sb) == 0 else { return false }
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
    }

    /// Writes `bytes` to `path` atomically: a temporary file in the same folder, flushed, then
    /// linked into place (refusing an existing file unless `overwrite`) or renamed over it.
    /// Nothing is left behind on failure.
    /// - Throws: `FileError`.
    public static func writeAtomically(_ bytes: [UInt8], to path: String, overwrite: Bool) throws {
        let dir = (path as NSString).deletingLastPathComponent
        let base = (path as NSString).lastPathComponent
        var template = Array(((dir.isEmpty ? "." : dir) + "/." + base + ".XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw FileError("\(path): cannot create a file there (\(String(cString: strerror(errno))))") }
        let temp = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        InterruptCleanup.register(temp)
        var ok = false
        defer {
            if !ok { unlink(temp) }
            InterruptCleanup.unregister(temp)
        }
        do { try writeAll(fd: fd, bytes) } catch {
            close(fd)
            throw FileError("\(path): \(error)")
        }
        fchmod(fd, 0o644 & ~currentUmask())
        guard close(fd) == 0 else { throw FileError("\(path): write failed") }
        if overwrite {
            guard rename(temp, path) == 0 else { throw FileError("\(path): cannot write (\(String(cString: strerror(errno))))") }
        } else {
            guard link(temp, path) == 0 else {
                if errno == EEXIST { throw FileError("\(path) exists (use -f to overwrite)") }
                throw FileError("\(path): cannot write (\(String(cString: strerror(errno))))")
            }
            unlink(temp)
        }
        ok = true
    }

    private static func currentUmask() -> mode_t {
        let m = umask(0o022)
        umask(m)
        return m
    }

    /// True when `path` exists and is a symbolic link.
    public static func isSymbolicLink(_ path: String) -> Bool {
        var s = stat()
        return lstat(path, &s) == 0 && (s.st_mode & S_IFMT) == S_IFLNK
    }

    /// True when file descriptor `fd` is a terminal.
    public static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

    /// Creates `dir` and its parents if missing.
    public static func makeFolder(_ dir: String) throws {
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
            throw FileError("\(dir): cannot create folder")
        }
    }
}
