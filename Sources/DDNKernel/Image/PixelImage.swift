/// An image as the codec sees it: samples only, no colour interpretation.
///
/// - `samples`: `height × width × channels` values, row-major, channels interleaved, one
///   `UInt16` per sub-pixel whatever the bit depth (1, 2, 4, 8 or 16 bits; palette images hold
///   palette indices with `channels == 1`). A 16-bit PNG sample 0x0102 is stored as 258.
public struct PixelImage: Equatable, Sendable {
    /// Width and height in pixels, each ≥ 1.
    public var width: Int
    public var height: Int
    /// Samples per pixel: 1 grey or palette index, 2 grey+alpha, 3 RGB, 4 RGBA.
    public var channels: Int
    /// Bits per sample: 1, 2, 4, 8 or 16. Every sample is < `1 << bitDepth`.
    public var bitDepth: Int
    /// `height × width × channels` samples, row-major, interleaved.
    public var samples: [UInt16]

    public init(width: Int, height: Int, channels: Int, bitDepth: Int, samples: [UInt16]) {
        precondition(samples.count == width * height * channels, "sample count must be width×height×channels")
        self.width = width
        self.height = height
        self.channels = channels
        self.bitDepth = bitDepth
        self.samples = samples
    }

    /// Number of sub-pixels (`width × height × channels`).
    public var subPixelCount: Int { samples.count }

    /// Largest sample value, `2^bitDepth − 1`.
    public var maxValue: Int { (1 << bitDepth) - 1 }
}
