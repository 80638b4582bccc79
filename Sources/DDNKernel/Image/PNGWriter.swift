import CPNG

/// Writes PNG files through libpng's classic API: the pixels, colour type, bit depth, palette,
/// tRNS, interlace method and ancillary chunks of a `PNGImage`, each chunk at its position.
public enum PNGWriter {
    /// How hard libpng works on the IDAT stream.
    public enum Effort: Sendable {
        /// libpng's defaults (adaptive filter choice, zlib level 6): what `ddnunzip` writes.
        case normal
        /// All five filters tried per row, zlib level 9: the bench's "PNG at its best".
        case best
    }

    /// Encodes `image` as a PNG file.
    /// - Throws: `ImageError.cannotWrite` with libpng's message.
    /// - Complexity: O(pixels + chunk bytes).
    public static func encode(_ image: PNGImage, effort: Effort = .normal) throws -> [UInt8] {
        let px = image.pixels
        var out: UnsafeMutablePointer<UInt8>? = nil
        var outLength = 0
        var message = [CChar](repeating: 0, count: 256)
        // All chunk data in one buffer, so one pointer stays valid while C reads them.
        var allChunkData: [UInt8] = [0]
        var offsets: [Int] = []
        for chunk in image.chunks {
            offsets.append(allChunkData.count)
            allChunkData += chunk.data
        }
        let code: Int32 = px.samples.withUnsafeBufferPointer { samples in
            image.palette.withUnsafeBufferPointer { palette in
                image.transparency.withUnsafeBufferPointer { trns in
                    allChunkData.withUnsafeBufferPointer { chunkData in
                        var cchunks = zip(image.chunks, offsets).map { chunk, offset in
                            cpng_chunk(type: (chunk.type[0], chunk.type[1], chunk.type[2], chunk.type[3]),
                                       position: chunk.position.rawValue, data: chunkData.baseAddress! + offset,
                                       length: UInt32(chunk.data.count))
                        }
                        return cchunks.withUnsafeMutableBufferPointer { cbuf in
                            var params = cpng_encode_params(
                                width: UInt32(px.width), height: UInt32(px.height), bit_depth: Int32(px.bitDepth),
                                color_type: Int32(image.colorType.rawValue), interlace: image.interlaced ? 1 : 0,
                                channels: Int32(px.channels), samples: samples.baseAddress,
                                palette: image.palette.isEmpty ? nil : palette.baseAddress,
                                palette_length: UInt32(image.palette.count),
                                trns: image.transparency.isEmpty ? nil : trns.baseAddress,
                                trns_length: UInt32(image.transparency.count),
                                chunks: cbuf.baseAddress, chunk_count: cbuf.count,
                                best: effort == .best ? 1 : 0)
                            return cpng_encode(&params, &out, &outLength, &message, message.count)
                        }
                    }
                }
            }
        }
        guard code == 0, let out else {
            let text = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw ImageError.cannotWrite(text.isEmpty ? "libpng error \(code)" : text)
        }
        defer { cpng_free(out) }
        return Array(UnsafeBufferPointer(start: out, count: outLength))
    }
}
