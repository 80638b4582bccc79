import Foundation
import XCTest
@testable import DDNKernel

/// The rANS stack and bits-back coding of the DDN's path (Spec/CODEC.md §9).
final class BitsBackTests: XCTestCase {
    /// Pushes then pops give the symbols back in reverse, under tables of every shape (one symbol
    /// of 2^16 included), and the message ends where it began.
    func testStackRoundTrip() {
        var r = SplitMix64(seed: 5)
        let tables = (0..<20).map { i -> FrequencyTable in
            let n = i == 0 ? 1 : 2 + Int(r.below(300))
            return FrequencyTable(counts: (0..<n).map { _ in UInt32(r.below(1000)) }, totalBits: 16)
        }
        var symbols: [(Int, Int)] = []
        var s = RANSStack()
        for _ in 0..<5000 {
            let t = Int(r.below(tables.count)), k = Int(r.below(tables[t].count))
            symbols.append((t, k)); s.push(k, tables[t])
        }
        var d = RANSStack(serialized: s.serialized())
        for (t, k) in symbols.reversed() { XCTAssertEqual(d.pop(tables[t]), k) }
        XCTAssertEqual(d.state, RANSStack.lowerBound)
        XCTAssertTrue(d.bytes.isEmpty)
        // information content: within 1% + a word of the symbols' model cost
        let bits = symbols.reduce(0.0) { $0 + tables[$1.0].bits($1.1) }
        XCTAssertLessThan(Double(s.bitCount), bits * 1.01 + 48)
    }

    /// A pop followed by a push of the same symbol under the same table restores the message
    /// exactly (what the decoder's give-back relies on), also from an empty message.
    func testPopThenPushRestores() {
        var r = SplitMix64(seed: 9)
        let t = FrequencyTable(counts: (0..<64).map { _ in UInt32(1 + r.below(50)) }, totalBits: 16)
        var s = RANSStack()
        for _ in 0..<200 { s.push(Int(r.below(64)), t) }
        let before = s
        let k = s.pop(t)
        s.push(k, t)
        XCTAssertEqual(s.state, before.state)
        XCTAssertEqual(s.bytes, before.bytes)
        var empty = RANSStack()
        let first = empty.pop(t)
        XCTAssertGreaterThan(empty.borrowedBytes, 0)
        empty.push(first, t)
        XCTAssertEqual(empty.bytes, [UInt8](repeating: 0, count: empty.borrowedBytes), "the borrowed bytes come back as the message")
    }

    /// A block of images through bits-back coding comes back exactly, at a random model's full depth
    /// and at depth 0; the message is what the parts say, and a damaged message is refused.
    func testBlockRoundTrip() throws {
        let (model, _) = DDNCoderTests.seededNetworkModel()
        var embedded = model.withPathEmbedding()
        var r = SplitMix64(seed: 3)
        for i in embedded.net!.e1..<embedded.net!.end { embedded.parameters[i] = r.uniform(0.2) }
        for m in [model, embedded] {
            var coder = try DDNCoder(model: m, residual: .network)
            coder.posteriorWeight = 0.5   // a random model's candidates are far apart: a soft q samples them
            let images = DDNCoderTests.images(9, seed: 31)
            let (bytes, cost) = coder.encodeBlock(images, scratch: m.makeScratch())
            XCTAssertEqual(try coder.decodeBlock(bytes, count: images.count, scratch: m.makeScratch()).map(\.samples), images.map(\.samples))
            XCTAssertEqual(Double(cost.messageBits), cost.net, accuracy: 48 + 0.01 * cost.net)
            var damaged = bytes
            damaged[damaged.count / 2] ^= 0x10
            if let back = try? coder.decodeBlock(damaged, count: images.count, scratch: m.makeScratch()) {
                XCTAssertNotEqual(back.map(\.samples), images.map(\.samples))
            }
        }
    }

    /// With the encoder forced to the full depth, candidates are really sampled and given back:
    /// bits back are positive and the message still decodes.
    func testBitsAreGivenBack() throws {
        let (model, _) = DDNCoderTests.seededNetworkModel()
        var coder = try DDNCoder(model: model, residual: .network)
        coder.posteriorWeight = 0.05
        var stack = RANSStack(), back = 0.0
        let images = DDNCoderTests.images(5, seed: 8)
        for (i, image) in images.enumerated().reversed() {
            let c = coder.encodeBitsBack(image, givesBack: i < images.count - 1, onto: &stack, scratch: model.makeScratch(), triesDepthZero: false)
            back += c.bitsBack
        }
        XCTAssertGreaterThan(back, 1)
        XCTAssertEqual(try coder.decodeBlock(stack.serialized(), count: images.count, scratch: model.makeScratch()).map(\.samples),
                       images.map(\.samples))
    }

    /// Golden vector: CRC-32 of bits-back messages of a seeded model, without and with the path
    /// embedding (a version-3 model). Debug, release and `-target-cpu` builds must print the same
    /// values (Spec/CODEC.md §9).
    func testGoldenMessages() throws {
        let (model, _) = DDNCoderTests.seededNetworkModel()
        var embedded = model.withPathEmbedding()
        var r = SplitMix64(seed: 17)
        for i in embedded.net!.e1..<embedded.net!.end { embedded.parameters[i] = r.uniform(0.2) }
        var crcs: [String] = []
        for m in [model, embedded] {
            var coder = try DDNCoder(model: m, residual: .network)
            coder.posteriorWeight = 0.5
            var all: [UInt8] = []
            let images = DDNCoderTests.images(7, seed: 44)
            all += coder.encodeBlock(images, scratch: m.makeScratch()).bytes
            for image in images.prefix(3) {   // coder 5's payloads at the full depth, through the embedding
                var e = RangeEncoder()
                coder.encode(image, depth: m.config.levels, scratch: m.makeScratch(), into: &e)
                all += e.finish()
            }
            crcs.append(String(crc32(all), radix: 16))
        }
        XCTAssertEqual(crcs, ["8d87809d", "5b7e7575"])
    }
}
