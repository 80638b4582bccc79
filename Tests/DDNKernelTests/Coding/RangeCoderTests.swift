import XCTest
@testable import DDNKernel

/// Range coder: FIFO round trips, carries, extreme tables, flush, hostile input.
final class RangeCoderTests: XCTestCase {
    /// One symbol: (start, frequency, totalBits).
    typealias Sym = (start: UInt32, freq: UInt32, bits: UInt32)

    func roundTrip(_ syms: [Sym], file: StaticString = #filePath, line: UInt = #line) -> [UInt8] {
        var e = RangeEncoder()
        for s in syms { e.encode(start: s.start, frequency: s.freq, totalBits: s.bits); e._checkInvariants() }
        let bytes = e.finish()
        var d = RangeDecoder(bytes)
        for (i, s) in syms.enumerated() {
            let t = d.target(totalBits: s.bits)
            XCTAssert(t >= s.start && t < s.start + s.freq, "symbol \(i): target \(t) not in [\(s.start), \(s.start + s.freq))", file: file, line: line)
            if !(t >= s.start && t < s.start + s.freq) { break }
            d.consume(start: s.start, frequency: s.freq, totalBits: s.bits)
        }
        return bytes
    }

    func testEmptyStream() {
        var e = RangeEncoder()
        XCTAssertEqual(e.finish(), [])
    }

    func testOneSymbolStreams() {
        // A single symbol with the full scale costs nothing at all.
        XCTAssertEqual(roundTrip([(0, 1 << 16, 16)]), [])
        XCTAssertEqual(roundTrip([(0, 1, 0)]), [])
        // A single improbable symbol in each position of a 16-bit table.
        for start: UInt32 in [0, 1, 12345, 65534, 65535] {
            let b = roundTrip([(start, 1, 16)])
            XCTAssertLessThanOrEqual(b.count, 3)
        }
        // A long stream of one certain symbol is empty.
        XCTAssertEqual(roundTrip(Array(repeating: (0, 1 << 12, 12), count: 10_000)), [])
    }

    func testSymbolNearFullScale() {
        // Symbol 1 has frequency 2^16 − 1, symbol 0 has 1: 100k likely symbols cost ~2 bytes.
        let likely: Sym = (1, 65535, 16), rare: Sym = (0, 1, 16)
        var syms = Array(repeating: likely, count: 100_000)
        XCTAssertLessThanOrEqual(roundTrip(syms).count, 8)
        syms[50_000] = rare
        syms[99_999] = rare
        syms[0] = rare
        let b = roundTrip(syms)
        XCTAssertLessThanOrEqual(b.count, 12)
        // And the other way round: the full-scale symbol at the top of the table.
        XCTAssertLessThanOrEqual(roundTrip(Array(repeating: (0, 65535, 16), count: 100_000) + [(65535, 1, 16)]).count, 8)
    }

    func testCarryPropagationAcrossLongFFRuns() {
        // Symbols at the very top of the interval drive `low` to 0xFF…; a later symbol then
        // carries through the whole run of held-back 0xFF bytes.
        var syms: [Sym] = []
        for _ in 0..<5_000 { syms.append((65535, 1, 16)) }  // top slot: bytes 0xFF…
        syms.append((65535, 1, 16))
        for _ in 0..<5_000 { syms.append((32768, 32768, 16)) } // upper half, 1 bit each
        syms.append((1, 65535, 16))
        let b = roundTrip(syms)
        XCTAssertGreaterThan(b.filter { $0 == 0xFF }.count, 1000)

        // A run of 0xFF bytes followed by a carry: encode bits that are all ones, then add.
        var e = RangeEncoder()
        for _ in 0..<4000 { e.encodeBits(0xFF, count: 8) }
        e.encode(start: 40000, frequency: 25536, totalBits: 16)
        e.encode(start: 65535, frequency: 1, totalBits: 16)
        e.encode(start: 30000, frequency: 35536, totalBits: 16)
        let bytes = e.finish()
        var d = RangeDecoder(bytes)
        for _ in 0..<4000 { XCTAssertEqual(d.decodeBits(count: 8), 0xFF) }
        var t = d.target(totalBits: 16); XCTAssert(t >= 40000); d.consume(start: 40000, frequency: 25536, totalBits: 16)
        t = d.target(totalBits: 16); XCTAssertEqual(t, 65535); d.consume(start: 65535, frequency: 1, totalBits: 16)
        t = d.target(totalBits: 16); XCTAssert(t >= 30000); d.consume(start: 30000, frequency: 35536, totalBits: 16)
    }

    func testCarryIntoHeldBytesRandomised() {
        // Many streams built to sit near 0xFF boundaries: mostly top-of-table symbols.
        var rng = SplitMix64(seed: 7)
        for _ in 0..<200 {
            var syms: [Sym] = []
            for _ in 0..<rng.below(300) + 1 {
                let bits = UInt32(rng.below(17))
                let total = UInt32(1) << bits
                if rng.below(4) > 0 {
                    let f = UInt32(rng.below(Int(min(total, 3)))) + 1
                    syms.append((total - f, f, bits))
                } else {
                    let s = UInt32(rng.below(Int(total)))
                    syms.append((s, UInt32(rng.below(Int(total - s))) + 1, bits))
                }
            }
            _ = roundTrip(syms)
        }
    }

    func testRandomRoundTrips() {
        var rng = SplitMix64(seed: 0x5EED)
        for _ in 0..<300 {
            var syms: [Sym] = []
            for _ in 0..<rng.below(500) {
                let bits = UInt32(rng.below(17))
                let total = Int(1) << Int(bits)
                let s = rng.below(total)
                syms.append((UInt32(s), UInt32(rng.below(total - s) + 1), bits))
            }
            _ = roundTrip(syms)
        }
    }

    func testArbitraryTotalsAndRawBits() {
        var rng = SplitMix64(seed: 99)
        var e = RangeEncoder()
        var log: [(UInt32, UInt32, UInt32, UInt32, Int)] = []  // start, freq, total, bits value, bit count
        for _ in 0..<20_000 {
            let total = UInt32(rng.below(65536) + 1)
            let s = UInt32(rng.below(Int(total)))
            let f = UInt32(rng.below(Int(total - s))) + 1
            let n = rng.below(33)
            let v = UInt32(truncatingIfNeeded: rng.next()) & (n == 32 ? 0xFFFF_FFFF : (1 << UInt32(n)) - 1)
            e.encode(start: s, frequency: f, total: total)
            e.encodeBits(v, count: n)
            log.append((s, f, total, v, n))
        }
        let bytes = e.finish()
        var d = RangeDecoder(bytes)
        for (s, f, total, v, n) in log {
            let t = d.target(total: total)
            XCTAssert(t >= s && t < s + f)
            d.consume(start: s, frequency: f)
            XCTAssertEqual(d.decodeBits(count: n), v)
        }
        XCTAssertLessThanOrEqual(d.bytesRead, bytes.count + 4)
    }

    func testFlushCostIsSmall() {
        // Model cost of n fair bits is n; the stream must be within 1 byte of ceil(n/8).
        for n in [1, 7, 8, 9, 31, 32, 33, 1000, 4093] {
            var rng = SplitMix64(seed: UInt64(n))
            var e = RangeEncoder()
            var vals: [UInt32] = []
            for _ in 0..<n { let v = UInt32(rng.below(2)); vals.append(v); e.encodeBits(v, count: 1) }
            let b = e.finish()
            XCTAssertLessThanOrEqual(b.count, (n + 7) / 8 + 1, "n=\(n)")
            var d = RangeDecoder(b)
            for v in vals { XCTAssertEqual(d.decodeBits(count: 1), v) }
        }
    }

    func testDecoderNeverTrapsOnHostileBytes() {
        var rng = SplitMix64(seed: 1234)
        let table = FrequencyTable(counts: [1, 1000, 3, 0, 50_000, 7], totalBits: 16)
        for trial in 0..<300 {
            let bytes = (0..<rng.below(64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            var d = RangeDecoder(trial % 2 == 0 ? bytes : Array(repeating: 0xFF, count: bytes.count))
            for _ in 0..<200 {
                let s = table.decode(&d)
                XCTAssert(s >= 0 && s < table.count)
                _ = d.decodeBits(count: 13)
                let t = d.target(total: 3)
                XCTAssert(t < 3)
                d.consume(start: t, frequency: 1)
            }
        }
        // Truncated valid streams.
        var e = RangeEncoder()
        for i in 0..<1000 { table.encode(i % 6, &e) }
        let full = e.finish()
        for cut in stride(from: 0, through: full.count, by: 3) {
            var d = RangeDecoder(Array(full[0..<cut]))
            for _ in 0..<1000 { XCTAssert(table.decode(&d) < 6) }
        }
    }
}
