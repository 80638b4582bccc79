import CPNG
import Foundation

/// Errors loading training data, each naming the file or folder it is about.
public enum DatasetError: Error, CustomStringConvertible {
    /// A file that cannot be read or used, and why.
    case badFile(path: String, reason: String)
    /// An idx file that is not idx3 (uint8 images).
    case notIDX(String)
    /// A file or folder without images.
    case empty(String)
    /// Images of different shapes in one training set, explained in plain words.
    case mixedShapes(String)

    public var description: String {
        switch self {
        case .badFile(let path, let reason): return "\(path): \(reason)"
        case .notIDX(let p): return "\(p) is not an idx3 (uint8 images) file"
        case .empty(let p): return "no images in \(p)"
        case .mixedShapes(let m): return m
        }
    }
}

/// Images for training and evaluation, all the same shape, as floats in [-1, 1] and as samples.
public struct Dataset: Sendable {
    public let width: Int, height: Int, channels: Int, bitDepth: Int
    /// count × (height·width·channels) samples, row-major interleaved.
    public let samples: [UInt16]
    public var count: Int { samples.count / max(1, subPixels) }
    public var subPixels: Int { width * height * channels }

    public init(width: Int, height: Int, channels: Int, bitDepth: Int, samples: [UInt16]) {
        self.width = width; self.height = height; self.channels = channels; self.bitDepth = bitDepth
        self.samples = samples
    }

    /// One PNG's samples through libpng (`PNGReader`); palette images and files kept verbatim by
    /// the archive (APNG, damaged chunks) cannot be training data. Errors name the file.
    static func readPNG(_ path: String) throws -> PixelImage {
        let bytes = try Files.read(path)  // a FileError names the path
        let read: PNGReader.Result
        do { read = try PNGReader().read(bytes) } catch { throw DatasetError.badFile(path: path, reason: "\(error)") }
        switch read {
        case .image(let png):
            guard png.colorType != .palette else { throw DatasetError.badFile(path: path, reason: "a palette image cannot be training data") }
            return png.pixels
        case .verbatim(let reason, _):
            throw DatasetError.badFile(path: path, reason: "cannot be training data (\(reason))")
        }
    }

    /// An image shape in plain words: `32×32 grey 16-bit`, `28×28 RGBA 8-bit`.
    public static func describeShape(width: Int, height: Int, channels: Int, bitDepth: Int) -> String {
        let kind = [1: "grey", 2: "grey+alpha", 3: "RGB", 4: "RGBA"][channels] ?? "\(channels)-channel"
        return "\(width)×\(height) \(kind) \(bitDepth)-bit"
    }

    /// This data set's image shape in plain words (`describeShape`).
    public var shapeDescription: String {
        Dataset.describeShape(width: width, height: height, channels: channels, bitDepth: bitDepth)
    }

    /// Why one model cannot be trained on both shapes, after the two descriptions.
    public static let oneShapeReason = "a model is trained on images of one size, channel count and bit depth"

    /// Loads an idx3-ubyte file (optionally .gz) or a folder of PNG files (sorted by name).
    /// `limit` keeps the first n images.
    public static func load(path: String, limit: Int? = nil) throws -> Dataset {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            return try loadPNGFolder(path, limit: limit)
        }
        return try loadIDX(path, limit: limit)
    }

    /// Loads and concatenates several inputs (`load(path:limit:)` each; `limit` applies to the
    /// whole). Inputs of different shapes are refused with both paths named.
    public static func load(paths: [String], limit: Int? = nil) throws -> Dataset {
        var parts: [Dataset] = []
        for path in paths {
            let part = try load(path: path, limit: limit)
            if let f = parts.first, (f.width, f.height, f.channels, f.bitDepth) != (part.width, part.height, part.channels, part.bitDepth) {
                throw DatasetError.mixedShapes("\(path) has \(part.shapeDescription) images, but \(paths[0]) has \(f.shapeDescription): \(oneShapeReason)")
            }
            parts.append(part)
        }
        return try concatenate(parts).prefix(limit ?? Int.max)
    }

    /// idx3-ubyte: magic 0x00000803 (big-endian), count, rows, cols, then count·rows·cols bytes.
    public static func loadIDX(_ path: String, limit: Int? = nil) throws -> Dataset {
        var buf: UnsafeMutablePointer<UInt8>? = nil
        var len = 0
        if cgz_read_file(path, 1 << 31, &buf, &len) != 0 || buf == nil { 
            throw DatasetError.badFile(path: path, reason: FileManager.default.fileExists(atPath: path) ? "cannot read it" : "no such file or folder")
        }
        defer { cgz_free(buf) }
        let b = UnsafeBufferPointer(start: buf!, count: len)
        func be32(_ o: Int) -> Int { Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3]) }
        guard len >= 16, be32(0) == 0x0803 else { throw DatasetError.notIDX(path) }
        var n = be32(4)
        let rows = be32(8), cols = be32(12)
        guard rows > 0, cols > 0, rows <= 4096, cols <= 4096, n >= 0, 16 + n * rows * cols <= len else { throw DatasetError.notIDX(path) }
        if let limit { n = min(n, limit) }
        if n == 0 { throw DatasetError.empty(path) }
        let s = [UInt16](unsafeUninitializedCapacity: n * rows * cols) { out, c in
            for i in 0..<(n * rows * cols) { out[i] = UInt16(b[16 + i]) }
            c = n * rows * cols
        }
        return Dataset(width: cols, height: rows, channels: 1, bitDepth: 8, samples: s)
    }

    static func loadPNGFolder(_ path: String, limit: Int?) throws -> Dataset {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.lowercased().hasSuffix(".png") }.sorted() }
        catch { throw DatasetError.badFile(path: path, reason: "cannot list the folder") }
        if names.isEmpty { throw DatasetError.empty(path) }
        var all: [UInt16] = []
        var first: (path: String, image: PixelImage)? = nil
        for name in names.prefix(limit ?? Int.max) {
            let file = (path as NSString).appendingPathComponent(name)
            let img = try readPNG(file)
            if let f = first?.image, (f.width, f.height, f.channels, f.bitDepth) != (img.width, img.height, img.channels, img.bitDepth) {
                throw DatasetError.mixedShapes(
                    "\(file) is \(describeShape(width: img.width, height: img.height, channels: img.channels, bitDepth: img.bitDepth)), " +
                    "but the first image (\(first!.path)) is \(describeShape(width: f.width, height: f.height, channels: f.channels, bitDepth: f.bitDepth)): " +
                    oneShapeReason)
            }
            if first == nil { first = (file, img) }
            all += img.samples
        }
        let f = first!.image
        return Dataset(width: f.width, height: f.height, channels: f.channels, bitDepth: f.bitDepth, samples: all)
    }

    /// Concatenation (same shape required).
    public static func concatenate(_ parts: [Dataset]) throws -> Dataset {
        guard let f = parts.first else { throw DatasetError.empty("(no data)") }
        for (i, p) in parts.enumerated() where (p.width, p.height, p.channels, p.bitDepth) != (f.width, f.height, f.channels, f.bitDepth) {
            throw DatasetError.mixedShapes("training input \(i + 1) has \(p.shapeDescription) images, but the first has \(f.shapeDescription): \(oneShapeReason)")
        }
        return Dataset(width: f.width, height: f.height, channels: f.channels, bitDepth: f.bitDepth, samples: parts.flatMap { $0.samples })
    }

    /// First n images.
    public func prefix(_ n: Int) -> Dataset {
        Dataset(width: width, height: height, channels: channels, bitDepth: bitDepth, samples: Array(samples.prefix(Swift.min(n, count) * subPixels)))
    }

    /// Image i as a PixelImage.
    public func image(_ i: Int) -> PixelImage {
        PixelImage(width: width, height: height, channels: channels, bitDepth: bitDepth,
                   samples: Array(samples[(i * subPixels)..<((i + 1) * subPixels)]))
    }

    /// All images as floats in [-1, 1] (v = 2·s/maxValue − 1), count × subPixels.
    public func floats() -> [Float] { DDNModel.floats(from: samples, bitDepth: bitDepth) }

    /// Mean image in [-1, 1] (the model's start image x̂_0), summed in image order in Double.
    public func meanImage() -> [Float] {
        var acc = [Double](repeating: 0, count: subPixels)
        for i in 0..<count { for j in 0..<subPixels { acc[j] += Double(samples[i * subPixels + j]) } }
        let m = Double((1 << bitDepth) - 1)
        return acc.map { Float($0 / Double(count) / m * 2 - 1) }
    }

    /// Counts of each sample value, [2^bitDepth] (bit depths up to 16).
    public func histogram() -> [Int] {
        var h = [Int](repeating: 0, count: 1 << bitDepth)
        for s in samples { h[Int(s)] += 1 }
        return h
    }
}
