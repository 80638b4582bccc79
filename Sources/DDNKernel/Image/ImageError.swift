/// Why a file could not be read or written as a PNG. Every case prints as one line.
///
/// Source: Spec/ARCHIVE.md §5 (what is refused and what is stored).
public enum ImageError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file does not start with the 8-byte PNG signature.
    case notPNG
    /// The file ends inside a chunk (or before IHDR).
    case truncated
    /// The chunk framing is broken: the text says where.
    case badChunk(String)
    /// A critical chunk (IHDR, PLTE, IDAT, IEND or unknown critical) fails its CRC.
    case badCRC(chunk: String)
    /// IHDR's width × height exceeds the configured pixel limit (checked before any allocation).
    case tooLarge(width: Int, height: Int, limit: Int)
    /// libpng refused the file; the text is libpng's message.
    case unreadable(String)
    /// libpng could not write the image; the text is libpng's message.
    case cannotWrite(String)

    /// One line for a user.
    public var description: String {
        switch self {
        case .notPNG: return "not a PNG file"
        case .truncated: return "PNG file is truncated"
        case .badChunk(let why): return "broken PNG: \(why)"
        case .badCRC(let chunk): return "broken PNG: CRC error in \(chunk) chunk"
        case .tooLarge(let w, let h, let limit):
            return "PNG is \(w)×\(h) = \(w * h) pixels, over the pixel limit of \(limit) (raise it with --max-pixels \(w * h))"
        case .unreadable(let why): return "unreadable PNG: \(why)"
        case .cannotWrite(let why): return "cannot write PNG: \(why)"
        }
    }
}
