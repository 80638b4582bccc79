import XCTest
@testable import DDNKernel

final class FrequencyTableTests: XCTestCase {
    func check(_ t: FrequencyTable) {
        XCTAssert(t.frequencies.allSatisfy { $0 >= 1 })
        XCTAssertEqual(t.frequencies.reduce(0, +), 1 << t.totalBits)
    }

    func testNormalisationInvariants() {
        var rng = SplitMix64(seed: 42)
        for _ in 0..<500 {
            let bits = UInt32(rng.below(17))
            let n = rng.below(min(1 << Int(bits), 300)) + 1
            let counts = (0..<n).map { _ in rng.below(3) == 0 ? UInt32(0) : UInt32(truncatingIfNeeded: rng.next() >> UInt64(rng.below(64))) }
            let t = FrequencyTable(counts: counts, totalBits: bits)
            check(t)
            XCTAssertEqual(t, FrequencyTable(counts: counts, totalBits: bits))  // deterministic
        }
        check(FrequencyTable(counts: [0, 0, 0], totalBits: 2))
        XCTAssertEqual(FrequencyTable(counts: [5, 5, 5, 5], totalBits: 2).frequencies, [1, 1, 1, 1])
        XCTAssertEqual(FrequencyTable(counts: [1, 0], totalBits: 16).frequencies, [65535, 1])
        XCTAssertEqual(FrequencyTable(counts: [1, 1, 1], totalBits: 2).frequencies, [2, 1, 1])
    }

    func testRoundTripAndBits() {
        var rng = SplitMix64(seed: 3)
        let counts: [UInt32] = (0..<40).map { i in UInt32(1000 >> (i / 4)) }
        let t = FrequencyTable(counts: counts, totalBits: 14)
        var syms: [Int] = []
        var e = RangeEncoder()
        var bits = 0.0
        for _ in 0..<20_000 {
            // sample roughly from the table
            let u = UInt32(rng.below(1 << 14))
            let s = t.cumulative.lastIndex { $0 <= u }!
            syms.append(s); t.encode(s, &e); bits += t.bits(s)
        }
        let bytes = e.finish()
        XCTAssertLessThanOrEqual(Double(bytes.count * 8), bits * 1.001 + 16)
        var d = RangeDecoder(bytes)
        for s in syms { XCTAssertEqual(t.decode(&d), s) }
    }
}
