/// Starting statistics for the classical coder's context models (a "dictionary").
///
/// Learned in a first pass over images (the archive stores it once in its header; entries stay
/// independent) or over a training set given reconstructions (the DDN model file). It holds, for
/// each model class met while learning (sample kind, bit depth, channel role, with/without x̂),
/// one quantised token histogram per context. Contexts never seen keep the neutral prior.
///
/// Quantisation (Spec/CODEC.md §5): a context's histogram `h` (sum `S > 0`) is scaled to
/// `v_s = 1 + floor(h_s · 4096 / S)` and stored as the byte `q_s = 16·n + ((v_s << 4) >> n) − 16`
/// with `n = floor(log2 v_s)` (a 4-bit-mantissa logarithm); it is read back as
/// `v'_s = ((16 + (q_s & 15)) << (q_s >> 4)) >> 4`.
///
/// Serialised size: 4 + Σ over classes (11 + ceil(contexts / 8) + the range-coded codes, about
/// 0.8 byte per token of every seen context). 8-bit grey without x̂: about 3 KB.
public struct ResidualStatistics: Sendable, Equatable {
    /// Quantised tables keyed by model class key (see `ClassicalCoder` layout), each
    /// `contexts × alphabet` bytes; `0xFF` marks a context with no data (neutral prior).
    var tables: [UInt32: Table]

    struct Table: Sendable, Equatable {
        var contexts: Int
        var alphabet: Int
        /// `contexts × alphabet` quantised log counts; a context whose first byte is `0xFF` is unset.
        var codes: [UInt8]
    }

    /// Errors reading serialised statistics.
    public enum Error: Swift.Error, Equatable, CustomStringConvertible {
        /// The bytes end before the structure they describe.
        case truncated
        /// A field holds an impossible value (unknown version, size out of range).
        case malformed(String)

        /// As an error line shows it.
        public var description: String {
            switch self {
            case .truncated: return "statistics end before the structure they describe"
            case .malformed(let why): return "statistics: \(why)"
            }
        }
    }

    /// Neutral statistics: every context starts from the built-in prior.
    public init() { tables = [:] }

    /// True when no class has learned data.
    public var isNeutral: Bool { tables.isEmpty }

    // MARK: Quantisation

    @inlinable static func quantise(_ v: UInt32) -> UInt8 {
        let n = 31 - v.leadingZeroBitCount
        return UInt8(16 * n + Int((v << 4) >> UInt32(n)) - 16)
    }

    @inlinable static func dequantise(_ q: UInt8) -> UInt32 {
        (UInt32(16 + (q & 15)) << UInt32(q >> 4)) >> 4
    }

    /// Builds quantised codes from raw histograms (`contexts × alphabet`).
    static func table(histogram h: [UInt32], contexts: Int, alphabet: Int) -> Table {
        var codes = [UInt8](repeating: 0xFF, count: contexts * alphabet)
        for c in 0..<contexts {
            var s: UInt64 = 0
            for t in 0..<alphabet { s += UInt64(h[c * alphabet + t]) }
            if s == 0 { continue }
            for t in 0..<alphabet {
                let v = 1 + UInt32(UInt64(h[c * alphabet + t]) * 4096 / s)
                codes[c * alphabet + t] = quantise(v)
            }
        }
        return Table(contexts: contexts, alphabet: alphabet, codes: codes)
    }

    /// Starting counts for a model of class `key`: the learned context rows (rescaled so their
    /// total is about `strength`) where present, `neutral(context)` elsewhere.
    func initialCounts(key: UInt32, contexts: Int, alphabet: Int, strength: UInt32,
                       neutral: (Int) -> [UInt32]) -> [UInt32] {
        var out = [UInt32](repeating: 1, count: contexts * alphabet)
        let table = tables[key].flatMap { $0.contexts == contexts && $0.alphabet == alphabet ? $0 : nil }
        for c in 0..<contexts {
            if let t = table, t.codes[c * alphabet] != 0xFF {
                // v' sums to about 4096 + alphabet: scale to `strength`.
                for s in 0..<alphabet {
                    let v = ResidualStatistics.dequantise(t.codes[c * alphabet + s])
                    out[c * alphabet + s] = max(1, (v * strength + 2048) >> 12)
                }
            } else {
                let row = neutral(c)
                for s in 0..<alphabet { out[c * alphabet + s] = row[s] }
            }
        }
        return out
    }

    // MARK: Serialisation

    /// Version byte of the serialised form.
    static let formatVersion: UInt8 = 1

    /// Compact bytes (Spec/CODEC.md §5.2): `"RS"`, version, class count (1 byte); per class in
    /// ascending key order: key (UInt32 LE), contexts (UInt16 LE), alphabet (UInt8), a bitmap of
    /// seen contexts (ceil(contexts/8) bytes, LSB first), the payload length (UInt32 LE) and the
    /// payload: the code bytes of the seen contexts, predicted and range coded (`codeRows`).
    public func serialized() -> [UInt8] {
        var out: [UInt8] = [0x52, 0x53, ResidualStatistics.formatVersion, UInt8(tables.count)]
        for key in tables.keys.sorted() {
            var t = tables[key]!
            for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: key >> (8 * UInt32(i)))) }
            out.append(UInt8(t.contexts & 0xFF)); out.append(UInt8(t.contexts >> 8))
            out.append(UInt8(t.alphabet))
            var bitmap = [UInt8](repeating: 0, count: (t.contexts + 7) / 8)
            for c in 0..<t.contexts where t.codes[c * t.alphabet] != 0xFF { bitmap[c >> 3] |= 1 << UInt8(c & 7) }
            out += bitmap
            var sink = EncoderSink(RangeEncoder())
            ResidualStatistics.codeRows(&sink, &t.codes, contexts: t.contexts, alphabet: t.alphabet)
            let payload = sink.e.finish()
            for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: payload.count >> (8 * i))) }
            out += payload
        }
        return out
    }

    /// Codes the rows of seen contexts (first byte != 0xFF; the decoder marks them in `codes`
    /// beforehand from the bitmap) in context order. Each code `q` (0...192) is predicted from the
    /// previous seen row `up` and the code to its left: `t == 0`: `up[0]` (96 without `up`);
    /// otherwise `(up[t] + left + 1) / 2` (just `left` without `up`). The residual is folded as in
    /// §4.4 (maxValue 192) and coded as a hybrid-uint in an adaptive model (4 contexts:
    /// min(t, 3); increment 32, limit 8192, all counts 1 at the start).
    static func codeRows<S: SymbolSink>(_ sink: inout S, _ codes: inout [UInt8], contexts: Int, alphabet: Int) {
        let maxQ = 192
        let model = AdaptiveModelSet(contexts: 4, alphabet: HybridUint.alphabetSize(maxValue: maxQ),
                                     increment: 32, limit: 8192)
        var up = -1  // offset of the previous seen row
        for c in 0..<contexts where codes[c * alphabet] != 0xFF {
            let row = c * alphabet
            for t in 0..<alphabet {
                let pred: Int
                if t == 0 { pred = up >= 0 ? Int(codes[up]) : 96 }
                else if up >= 0 { pred = (Int(codes[up + t]) + Int(codes[row + t - 1]) + 1) / 2 }
                else { pred = Int(codes[row + t - 1]) }
                let u = S.isDecoder ? 0 : SampleKernel.fold(Int(codes[row + t]) - pred, pred, maxQ)
                let v = min(sink.uint(u, model, min(t, 3)), maxQ)
                if S.isDecoder { codes[row + t] = UInt8(min(max(pred + SampleKernel.unfold(v, pred, maxQ), 0), maxQ)) }
            }
            up = row
        }
    }

    /// Reads bytes written by `serialized()`.
    /// - Throws: `ResidualStatistics.Error.truncated` or `.malformed` (never traps on any bytes).
    public init(serialized bytes: [UInt8]) throws {
        var p = 0
        func take(_ n: Int) throws -> ArraySlice<UInt8> {
            guard n >= 0, bytes.count - p >= n else { throw Error.truncated }
            defer { p += n }
            return bytes[p..<(p + n)]
        }
        let head = try take(4)
        guard head[0] == 0x52, head[1] == 0x53 else { throw Error.malformed("bad magic") }
        guard head[2] == ResidualStatistics.formatVersion else { throw Error.malformed("version \(head[2])") }
        var tables: [UInt32: Table] = [:]
        var lastKey: UInt32? = nil
        for _ in 0..<Int(head[3]) {
            let h = Array(try take(7))
            let key = UInt32(h[0]) | UInt32(h[1]) << 8 | UInt32(h[2]) << 16 | UInt32(h[3]) << 24
            let contexts = Int(h[4]) | Int(h[5]) << 8
            let alphabet = Int(h[6])
            guard lastKey.map({ key > $0 }) ?? true else { throw Error.malformed("classes out of order") }
            // Only shapes the coder can use: bounds every allocation (at most 90 classes of
            // at most 960 × 40 codes) whatever the bytes claim.
            guard let shape = ModelLayout.storedShape(key: key), shape.contexts == contexts, shape.alphabet == alphabet else {
                throw Error.malformed("class \(key) with \(contexts) contexts of \(alphabet) symbols")
            }
            lastKey = key
            let bitmap = Array(try take((contexts + 7) / 8))
            var codes = [UInt8](repeating: 0xFF, count: contexts * alphabet)
            for c in 0..<contexts where bitmap[c >> 3] & (1 << UInt8(c & 7)) != 0 { codes[c * alphabet] = 0 }
            let l = Array(try take(4))
            let length = Int(l[0]) | Int(l[1]) << 8 | Int(l[2]) << 16 | Int(l[3]) << 24
            var sink = DecoderSink(RangeDecoder(Array(try take(length))))
            ResidualStatistics.codeRows(&sink, &codes, contexts: contexts, alphabet: alphabet)
            tables[key] = Table(contexts: contexts, alphabet: alphabet, codes: codes)
        }
        guard p == bytes.count else { throw Error.malformed("trailing bytes") }
        self.tables = tables
    }
}
