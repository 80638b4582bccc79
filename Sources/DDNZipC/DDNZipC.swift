import DDNKernel
import Foundation

// The C ABI of libDDNZipC: read a ddnzip archive's images into a caller's buffers.
// Declared in python/README.md ("The C ABI"); the Python package `ddnzip` calls it through ctypes.
//
// Every function returns a status (`DDNZ_OK` = 0) or a value; nothing traps on bad input or a
// damaged archive. After a failure, `ddnz_last_error()` gives the reason in one line (UTF-8,
// valid on the calling thread until its next call into this library).

/// Status codes (the C ABI's `DDNZ_*`).
enum Status: Int32 {
    /// Success.
    case ok = 0
    /// A null pointer, an index out of range, a buffer too small.
    case argument = 1
    /// The archive or model file cannot be read.
    case io = 2
    /// Not an archive, or one whose header cannot be read.
    case format = 3
    /// The model is missing, not a model file, or not the one the archive names.
    case model = 4
    /// The entry is damaged: it fails its CRC-32 or does not decode.
    case damaged = 5
    /// The entry is whole but not given: a stored file that is not a re-creatable PNG (no
    /// pixels), or an entry refused for its name (unsafe: absolute, `..`; or repeated).
    case unsupported = 6
}

/// The version of this ABI (`ddnz_abi_version`); changes whenever a function, signature or struct
/// does (2: `ddnz_lost_count`, `ddnz_lost_name`).
let abiVersion: Int32 = 2

/// The calling thread's last error message (a malloc'd C string freed with the thread).
private let errorKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key) { free($0) }
    return key
}()

/// Records `message` as the calling thread's last error and returns `status`.
private func fail(_ status: Status, _ message: String) -> Int32 {
    if let old = pthread_getspecific(errorKey) { free(old) }
    pthread_setspecific(errorKey, strdup(message))
    return status.rawValue
}

/// The status and message of an entry's failure.
private func failure(_ error: ArchiveError) -> (Status, String) {
    if case .input = error { return (.unsupported, "\(error)") }
    if case .modelMismatch = error { return (.model, "\(error)") }
    if let refused = error.refusalLine { return (.unsupported, refused) }   // whole, crafted so: not damage
    return (.damaged, "\(error)")
}

/// An open archive: the reader and, per entry, its name as a C string and the array it decodes to;
/// the names of the entries known lost (`ArchiveReader.lostEntryNames`) as C strings.
final class Archive {
    let reader: ArchiveReader
    let threads: Int
    let names: [UnsafeMutablePointer<CChar>]
    let shapes: [EntryShape]
    let lostNames: [UnsafeMutablePointer<CChar>]

    /// The header byte repaired by the entries' CRC-32 when opening (damage), if any.
    let repairedHeaderByte: Int?

    init(reader: ArchiveReader, threads: Int, repairedHeaderByte: Int? = nil) {
        self.reader = reader
        self.repairedHeaderByte = repairedHeaderByte
        self.threads = threads
        names = reader.entries.map { strdup($0.name) }
        shapes = reader.entries.indices.map { EntryShape.of(reader, $0) }
        lostNames = reader.lostEntryNames.map { strdup($0) }
    }

    deinit { for p in names + lostNames { free(p) } }

    /// The archive behind a handle from `ddnz_open`.
    static func from(_ handle: OpaquePointer?) -> Archive? {
        handle.map { Unmanaged<Archive>.fromOpaque(UnsafeRawPointer($0)).takeUnretainedValue() }
    }
}

/// The C struct `ddnz_entry`: the array an entry decodes to (H×W×C samples, `bit_depth` ≤ 8: one
/// byte each, else two, native byte order), its PNG colour type and its coder. Palette images
/// decode to RGB, or RGBA when they carry transparency, 8 bits. A stored entry's shape is that of
/// the PNG it holds (zeros when it holds none).
struct EntryShape {
    var width: Int32 = 0, height: Int32 = 0, channels: Int32 = 0, bitDepth: Int32 = 0
    var colorType: Int32 = 0, coder: Int32 = 0

    /// The array of entry `index` as its fields give it (a stored entry: as its PNG gives it).
    static func of(_ reader: ArchiveReader, _ index: Int) -> EntryShape {
        let e = reader.entries[index]
        guard !e.isStored else {
            if case .success(let image)? = reader.images([index], threads: 1).first { return EntryShape(image, coder: Int32(e.coder)) }
            return EntryShape(coder: Int32(e.coder))
        }
        let palette = e.colorType == PNGColorType.palette.rawValue
        return EntryShape(width: Int32(e.width), height: Int32(e.height), channels: palette ? (e.transparency.isEmpty ? 3 : 4) : Int32(e.channels),
                          bitDepth: palette ? 8 : Int32(e.bitDepth), colorType: Int32(e.colorType), coder: Int32(e.coder))
    }

    init(width: Int32 = 0, height: Int32 = 0, channels: Int32 = 0, bitDepth: Int32 = 0, colorType: Int32 = 0, coder: Int32) {
        (self.width, self.height, self.channels, self.bitDepth, self.colorType, self.coder) = (width, height, channels, bitDepth, colorType, coder)
    }

    /// The array `image` decodes to.
    init(_ image: PNGImage, coder: Int32) {
        let palette = image.colorType == .palette
        self.init(width: Int32(image.pixels.width), height: Int32(image.pixels.height),
                  channels: palette ? (image.transparency.isEmpty ? 3 : 4) : Int32(image.pixels.channels),
                  bitDepth: palette ? 8 : Int32(image.pixels.bitDepth), colorType: Int32(image.colorType.rawValue), coder: coder)
    }

    /// Bytes of the decoded array.
    var byteCount: Int { Int(width) * Int(height) * Int(channels) * (bitDepth > 8 ? 2 : 1) }
}

/// Writes `image`'s samples into `buffer` as `shape` describes them (palette indices expanded).
private func copy(_ image: PNGImage, _ shape: EntryShape, into buffer: UnsafeMutableRawPointer) {
    let samples = image.pixels.samples
    if image.colorType == .palette {
        let out = buffer.assumingMemoryBound(to: UInt8.self), c = Int(shape.channels)
        let palette = image.palette, alpha = image.transparency
        for (k, index) in samples.enumerated() {
            let i = Int(index)
            for j in 0..<3 { out[k * c + j] = 3 * i + j < palette.count ? palette[3 * i + j] : 0 }
            if c == 4 { out[k * c + 3] = i < alpha.count ? alpha[i] : 255 }
        }
    } else if shape.bitDepth > 8 {
        samples.withUnsafeBufferPointer { buffer.copyMemory(from: $0.baseAddress!, byteCount: $0.count * 2) }
    } else {
        let out = buffer.assumingMemoryBound(to: UInt8.self)
        for (k, s) in samples.enumerated() { out[k] = UInt8(truncatingIfNeeded: s) }
    }
}

/// `int32_t ddnz_abi_version(void)`.
@_cdecl("ddnz_abi_version")
public func ddnz_abi_version() -> Int32 { abiVersion }

/// `const char *ddnz_last_error(void)`: the calling thread's last error message, or NULL.
@_cdecl("ddnz_last_error")
public func ddnz_last_error() -> UnsafePointer<CChar>? {
    pthread_getspecific(errorKey).map { UnsafePointer($0.assumingMemoryBound(to: CChar.self)) }
}

/// `int32_t ddnz_open(const char *path, const char *model, int32_t threads, ddnz_archive **out)`:
/// opens the archive at `path`; `model` is a model file, or NULL for the embedded model (loaded
/// only when the archive names a model); `threads` ≤ 0: all cores.
@_cdecl("ddnz_open")
public func ddnz_open(_ path: UnsafePointer<CChar>?, _ model: UnsafePointer<CChar>?, _ threads: Int32,
                      _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let path, let out else { return fail(.argument, "ddnz_open: path and out must not be NULL") }
    out.pointee = nil
    let file = String(cString: path), modelPath = model.map { String(cString: $0) }
    let bytes: [UInt8]
    do { bytes = try Files.read(file) } catch { return fail(.io, "\(error)") }
    let reader: ArchiveReader, repairedHeaderByte: Int?
    do {
        // one damaged header byte is repaired by the entries' CRC-32, as ddnunzip does
        let opened = try ArchiveReader.openingRepairingHeader(bytes, model: { identity in
            do { return try DDNModel.load(path: modelPath, needing: identity) } catch { throw ModelError(message: "\(error)") }
        })
        (reader, repairedHeaderByte) = (opened.reader, opened.repair?.offset)
    } catch let e as ModelError {
        return fail(.model, "\(file): \(e.message)")
    } catch let e as ArchiveError {
        if case .modelMismatch(let expected, let given) = e {
            // worded for the Python package, this library's caller (python/README.md)
            return fail(.model, "\(file): " + DDNModel.mismatchLine(needed: expected, given: given, path: modelPath,
                                                                   option: "model=PATH", withoutOption: "with model=None"))
        }
        return fail(.format, "\(file): \(e)")
    } catch {
        return fail(.format, "\(file): \(error)")
    }
    let archive = Archive(reader: reader, threads: threads > 0 ? Int(threads) : ProcessInfo.processInfo.activeProcessorCount,
                          repairedHeaderByte: repairedHeaderByte)
    out.pointee = OpaquePointer(Unmanaged.passRetained(archive).toOpaque())
    return Status.ok.rawValue
}

/// A model that could not be loaded (told apart from the archive's own errors).
private struct ModelError: Error { let message: String }

/// `void ddnz_close(ddnz_archive *archive)`: frees the archive (NULL: nothing).
@_cdecl("ddnz_close")
public func ddnz_close(_ handle: OpaquePointer?) {
    guard let handle else { return }
    Unmanaged<Archive>.fromOpaque(UnsafeRawPointer(handle)).release()
}

/// `int64_t ddnz_count(const ddnz_archive *archive)`: the number of entries found (−1 for NULL).
@_cdecl("ddnz_count")
public func ddnz_count(_ handle: OpaquePointer?) -> Int64 {
    guard let a = Archive.from(handle) else { _ = fail(.argument, "ddnz_count: archive is NULL"); return -1 }
    return Int64(a.reader.entries.count)
}

/// `int32_t ddnz_damaged(const ddnz_archive *archive)`: 1 when reading the archive already found
/// damage (unreadable bytes, a missing end record, a repaired field or header byte), else 0
/// (−1 for NULL).
@_cdecl("ddnz_damaged")
public func ddnz_damaged(_ handle: OpaquePointer?) -> Int32 {
    guard let a = Archive.from(handle) else { _ = fail(.argument, "ddnz_damaged: archive is NULL"); return -1 }
    return a.reader.foundDamage || a.repairedHeaderByte != nil ? 1 : 0
}

/// `const char *ddnz_entry_name(const ddnz_archive *archive, int64_t index)`: the entry's name
/// (UTF-8, valid until `ddnz_close`), or NULL when `index` is out of range.
@_cdecl("ddnz_entry_name")
public func ddnz_entry_name(_ handle: OpaquePointer?, _ index: Int64) -> UnsafePointer<CChar>? {
    element(index, of: Archive.from(handle)?.names, "ddnz_entry_name: no entry")
}

/// `list[index]`, or NULL with the error "`missing` INDEX" when there is no such element.
private func element(_ index: Int64, of list: [UnsafeMutablePointer<CChar>]?, _ missing: String) -> UnsafePointer<CChar>? {
    guard let list, index >= 0, index < list.count else {
        _ = fail(.argument, "\(missing) \(index)")
        return nil
    }
    return UnsafePointer(list[Int(index)])
}

/// `int64_t ddnz_lost_count(const ddnz_archive *archive)`: the number of entries known lost whose
/// names their fields give, as `ddnunzip` names them: the entries of the block a cut falls in
/// (format 2: the entry); −1 for NULL.
@_cdecl("ddnz_lost_count")
public func ddnz_lost_count(_ handle: OpaquePointer?) -> Int64 {
    guard let a = Archive.from(handle) else { _ = fail(.argument, "ddnz_lost_count: archive is NULL"); return -1 }
    return Int64(a.lostNames.count)
}

/// `const char *ddnz_lost_name(const ddnz_archive *archive, int64_t index)`: the name of lost entry
/// `index` (UTF-8, valid until `ddnz_close`), or NULL when `index` is out of range.
@_cdecl("ddnz_lost_name")
public func ddnz_lost_name(_ handle: OpaquePointer?, _ index: Int64) -> UnsafePointer<CChar>? {
    element(index, of: Archive.from(handle)?.lostNames, "ddnz_lost_name: no lost entry")
}

/// `int32_t ddnz_entry_info(const ddnz_archive *archive, int64_t index, ddnz_entry *out)`.
@_cdecl("ddnz_entry_info")
public func ddnz_entry_info(_ handle: OpaquePointer?, _ index: Int64, _ out: UnsafeMutableRawPointer?) -> Int32 {
    guard let a = Archive.from(handle), let out else { return fail(.argument, "ddnz_entry_info: archive and out must not be NULL") }
    guard index >= 0, index < a.shapes.count else { return fail(.argument, "no entry \(index) (the archive has \(a.shapes.count))") }
    let s = a.shapes[Int(index)]
    let fields = out.assumingMemoryBound(to: Int32.self)
    for (k, v) in [s.width, s.height, s.channels, s.bitDepth, s.colorType, s.coder].enumerated() { fields[k] = v }
    return Status.ok.rawValue
}

/// `int32_t ddnz_decode(ddnz_archive *archive, int64_t index, void *buffer, int64_t size)`:
/// decodes one entry into `buffer` (`size` bytes, at least the entry's array).
@_cdecl("ddnz_decode")
public func ddnz_decode(_ handle: OpaquePointer?, _ index: Int64, _ buffer: UnsafeMutableRawPointer?, _ size: Int64) -> Int32 {
    var one = index, b = buffer, s = size, status: Int32 = 0
    return ddnz_decode_batch(handle, &one, 1, &b, &s, &status)
}

/// `int32_t ddnz_decode_batch(ddnz_archive *archive, const int64_t *indices, int64_t n,
/// void *const *buffers, const int64_t *sizes, int32_t *statuses)`: decodes `n` entries, each
/// into its buffer, entries of one shape in lockstep and on the archive's threads; `statuses`
/// (may be NULL) gets each entry's status. Returns `DDNZ_OK` when every entry decoded, else the
/// first failure's status (its message in `ddnz_last_error`); the other entries are decoded.
@_cdecl("ddnz_decode_batch")
public func ddnz_decode_batch(_ handle: OpaquePointer?, _ indices: UnsafePointer<Int64>?, _ n: Int64,
                              _ buffers: UnsafePointer<UnsafeMutableRawPointer?>?, _ sizes: UnsafePointer<Int64>?,
                              _ statuses: UnsafeMutablePointer<Int32>?) -> Int32 {
    guard let a = Archive.from(handle), n >= 0, n == 0 || indices != nil && buffers != nil && sizes != nil else {
        return fail(.argument, "ddnz_decode_batch: archive, indices, buffers and sizes must not be NULL")
    }
    let count = Int(n)
    var wanted: [Int] = [], slots: [Int] = []
    var first: (Status, String)?
    for k in 0..<count {
        let i = indices![k]
        var problem: String?
        if i < 0 || i >= a.shapes.count {
            problem = "no entry \(i) (the archive has \(a.shapes.count))"
        } else if buffers![k] == nil || sizes![k] < a.shapes[Int(i)].byteCount {
            problem = "entry \(a.reader.entries[Int(i)].name): its buffer holds \(sizes![k]) bytes, it needs \(a.shapes[Int(i)].byteCount)"
        }
        if let problem {
            statuses?[k] = Status.argument.rawValue
            if first == nil { first = (.argument, problem) }
        } else {
            wanted.append(Int(i))
            slots.append(k)
        }
    }
    for (k, result) in zip(slots, a.reader.images(wanted, threads: a.threads)) {
        let index = Int(indices![k])
        var status = Status.ok
        switch result {
        case .success(let image):
            let shape = a.shapes[index]
            // a stored PNG or a damaged shape field cannot give another array than the one announced
            if EntryShape(image, coder: shape.coder).byteCount == shape.byteCount && Int(shape.width) == image.pixels.width {
                copy(image, shape, into: buffers![k]!)
            } else {
                status = .damaged
                if first == nil { first = (.damaged, "entry \(a.reader.entries[index].name): decoded to another shape than its fields give") }
            }
        case .failure(let error):
            let (s, message) = failure(error)
            status = s
            if first == nil { first = (s, message) }
        }
        statuses?[k] = status.rawValue
    }
    if let (status, message) = first { return fail(status, message) }
    return Status.ok.rawValue
}
