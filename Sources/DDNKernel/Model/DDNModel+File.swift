import CPNG
import Foundation

/// Errors reading a model file (Spec/MODEL.md).
public enum ModelFileError: Error, CustomStringConvertible, Equatable {
    case notAModel, unsupportedVersion(UInt32), truncated, badConfig(String), trailingBytes
    public var description: String {
        switch self {
        case .notAModel: return "not a DDN model file (bad magic)"
        case .unsupportedVersion(let v): return "unsupported DDN model file version \(v)"
        case .truncated: return "DDN model file is truncated or a length is wrong"
        case .badConfig(let m): return "DDN model file has an invalid configuration: \(m)"
        case .trailingBytes: return "DDN model file has unexpected bytes after its end"
        }
    }
}

extension DDNModel {
    /// "DDNM"
    public static let fileMagic: [UInt8] = [0x44, 0x44, 0x4E, 0x4D]
    /// The newest version written: 3 for a model whose network is conditioned on the path, 2 for
    /// one with a residual network only, 1 without. Each model is written in the oldest version
    /// that holds it, byte for byte as before, so its identity (and every archive naming it) stays.
    public static let fileVersion: UInt32 = 3

    /// The version `serialized()` writes for a configuration (Spec/MODEL.md §5).
    static func fileVersion(for c: DDNConfig) -> UInt32 {
        c.pathEmbedding ? 3 : c.residualHidden > 0 ? 2 : 1
    }

    /// The file bytes (Spec/MODEL.md §1–§6). Little-endian throughout.
    public func serialized() -> [UInt8] {
        var out: [UInt8] = DDNModel.fileMagic
        out.reserveCapacity(64 + 4 * (parameters.count + start.count) + residualStatistics.count
                            + (trainingState.map { 8 * parameters.count + 4 * $0.counts.count } ?? 0))
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func floats(_ a: [Float]) { for f in a { u32(f.bitPattern) } }
        let c = config
        let version = DDNModel.fileVersion(for: c)
        u32(version)
        for v in [c.layout, UInt32(c.width), UInt32(c.height), UInt32(c.channels), UInt32(c.bitDepth),
                  UInt32(c.levels), UInt32(c.candidates), UInt32(c.baseChannels)] { u32(v) }
        if version >= 2 { u32(UInt32(c.residualHidden)); u32(UInt32(c.residualHidden2)); u32(UInt32(c.residualWindow)) }
        if version >= 3 { u32(c.pathEmbedding ? 1 : 0) }
        u32(c.sigma.bitPattern); u32(c.leak.bitPattern)
        u32(UInt32(parameters.count)); floats(parameters)
        floats(start)
        u32(UInt32(residualStatistics.count)); out.append(contentsOf: residualStatistics)
        if let t = trainingState {
            u32(1)
            u64(t.step); u64(t.imagesSeen); u64(t.elapsedSeconds.bitPattern); u64(t.rngState)
            u32(UInt32(t.counts.count)); floats(t.counts)
            floats(t.m); floats(t.v)
        } else {
            u32(0)
        }
        return out
    }

    /// Parses model file bytes. - Throws: `ModelFileError`.
    public init(serialized b: [UInt8]) throws {
        var pos = 0
        func need(_ n: Int) throws { if n < 0 || b.count - pos < n { throw ModelFileError.truncated } }
        func u32() throws -> UInt32 {
            try need(4)
            let v = UInt32(b[pos]) | UInt32(b[pos + 1]) << 8 | UInt32(b[pos + 2]) << 16 | UInt32(b[pos + 3]) << 24
            pos += 4; return v
        }
        func u64() throws -> UInt64 { let lo = try u32(); let hi = try u32(); return UInt64(lo) | UInt64(hi) << 32 }
        func floats(_ n: Int) throws -> [Float] {
            try need(4 * n)
            var a = [Float](repeating: 0, count: n)
            for i in 0..<n { a[i] = Float(bitPattern: try u32()) }
            return a
        }
        try need(4)
        if Array(b[0..<4]) != DDNModel.fileMagic { throw ModelFileError.notAModel }
        pos = 4
        let version = try u32()
        if !(1...DDNModel.fileVersion).contains(version) { throw ModelFileError.unsupportedVersion(version) }
        var c = DDNConfig()
        c.layout = try u32()
        let ints = try (0..<7).map { _ in Int(try u32()) }
        c.width = ints[0]; c.height = ints[1]; c.channels = ints[2]; c.bitDepth = ints[3]
        c.levels = ints[4]; c.candidates = ints[5]; c.baseChannels = ints[6]
        if version >= 2 {
            c.residualHidden = Int(try u32()); c.residualHidden2 = Int(try u32()); c.residualWindow = Int(try u32())
            if c.residualHidden == 0 { throw ModelFileError.badConfig("a version-\(version) model must have a residual network") }
        }
        if version >= 3 {
            let conditioning = try u32()
            if conditioning != 1 { throw ModelFileError.badConfig("conditioning flags \(conditioning) (version 3 knows only 1, the path embedding)") }
            c.pathEmbedding = true
        }
        c.sigma = Float(bitPattern: try u32()); c.leak = Float(bitPattern: try u32())
        if let e = c.validationError() { throw ModelFileError.badConfig(e) }
        let expected = DDNModel.parameterCount(c)
        let n = Int(try u32())
        if n != expected { throw ModelFileError.badConfig("parameter count \(n), expected \(expected)") }
        let params = try floats(n)
        let start = try floats(c.subPixels)
        let blobLen = Int(try u32())
        try need(blobLen)
        let blob = Array(b[pos..<(pos + blobLen)]); pos += blobLen
        self.init(config: c, parameters: params, start: start)
        residualStatistics = blob
        let hasState = try u32()
        if hasState == 1 {
            var t = TrainingState()
            t.step = try u64(); t.imagesSeen = try u64(); t.elapsedSeconds = Double(bitPattern: try u64()); t.rngState = try u64()
            let nc = Int(try u32())
            if nc != c.levels * c.candidates { throw ModelFileError.truncated }
            t.counts = try floats(nc)
            t.m = try floats(n); t.v = try floats(n)
            trainingState = t
        } else if hasState != 0 {
            throw ModelFileError.truncated
        }
        if pos != b.count { throw ModelFileError.trailingBytes }
    }

    /// Reads a model file. - Throws: `ModelFileError` or a file-system error.
    public init(contentsOf url: URL) throws {
        try self.init(serialized: [UInt8](try Data(contentsOf: url)))
    }

    /// Writes the model atomically (temporary file in the same folder, then rename).
    public func write(to url: URL) throws {
        let bytes = serialized()
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        try Data(bytes).write(to: tmp)
        if rename(tmp.path, url.path) != 0 {
            try? FileManager.default.removeItem(at: tmp)
            throw CocoaError(.fileWriteUnknown)
        }
    }

    /// SHA-256 of the file bytes (`serialized()`): the model's identity in archives.
    public var identity: [UInt8] { DDNModel.sha256(serialized()) }

    /// The model as written without training state (what is committed and embedded).
    public func withoutTrainingState() -> DDNModel { var m = self; m.trainingState = nil; return m }

    static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        bytes.withUnsafeBufferPointer { b in _ = out.withUnsafeMutableBufferPointer { cpng_sha256(b.baseAddress, b.count, $0.baseAddress) } }
        return out
    }
}
