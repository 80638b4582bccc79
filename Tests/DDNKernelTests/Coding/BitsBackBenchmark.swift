import Foundation
import XCTest
@testable import DDNKernel

/// Bits-back coding of the path on real images: a measurement, not a test. Runs only with
/// `DDN_BENCH=1` (release build recommended):
///
///     zcat /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz > /tmp/fmdata/t10k
///     DDN_BENCH=1 swift test -c release --filter BitsBackBenchmark
///
/// Environment: `DDN_FM_DIR` (default /tmp/fmdata; its file `t10k`), `DDN_BENCH_MODEL` (a model
/// file; default the embedded model), `DDN_BENCH_IMAGES` (default 1000), `DDN_BENCH_WEIGHTS`
/// (the posterior weights c to try, default 8,24,72), `DDN_BENCH_BLOCK` (images per message,
/// default 64). Prints bits per sub-pixel: coder 5's model cost per image, and the bits-back
/// messages by part; asserts only round trips.
final class BitsBackBenchmark: XCTestCase {
    func testBitsBackOnTestImages() throws {
        let env = ProcessInfo.processInfo.environment
        guard env["DDN_BENCH"] == "1" else { throw XCTSkip("set DDN_BENCH=1") }
        let dir = env["DDN_FM_DIR"] ?? "/tmp/fmdata"
        let count = Int(env["DDN_BENCH_IMAGES"] ?? "") ?? 1000
        guard let images = BenchSupport.loadIdx(dir + "/t10k", count: count) else { throw XCTSkip("no \(dir)/t10k") }
        let model = try env["DDN_BENCH_MODEL"].map { try DDNModel(contentsOf: URL(fileURLWithPath: $0)) } ?? DDNModel.embedded()
        let weights = (env["DDN_BENCH_WEIGHTS"] ?? "8,24,72").split(separator: ",").compactMap { Float($0) }
        let block = Int(env["DDN_BENCH_BLOCK"] ?? "") ?? 64
        let N = Double(images.count * 784)
        let coder = try DDNCoder(model: model, residual: .network)
        let costs = try parallelMap(images.count, threads: 2) { i -> DDNCoder.Cost in
            var e = RangeEncoder()
            return coder.encode(images[i], scratch: model.makeScratch(), into: &e)
        }
        let sum = costs.reduce(into: DDNCoder.Cost()) { $0.path += $1.path; $0.halting += $1.halting; $0.residual += $1.residual; $0.depth += $1.depth }
        print(String(format: "coder 5, %d images: %.4f bpsp = path %.4f + halting %.4f + residual %.4f; mean depth %.2f",
                     images.count, sum.total / N, sum.path / N, sum.halting / N, sum.residual / N, Double(sum.depth) / Double(images.count)))
        for w in weights {
            var weighted = coder
            weighted.posteriorWeight = w
            let bb = weighted
            let blocks = stride(from: 0, to: images.count, by: block).map { Array(images[$0..<min($0 + block, images.count)]) }
            let t0 = Date()
            let results = try parallelMap(blocks.count, threads: 2) { i in bb.encodeBlock(blocks[i], scratch: model.makeScratch()) }
            let t1 = Date()
            let decoded = try parallelMap(blocks.count, threads: 2) { i in
                (try? bb.decodeBlock(results[i].bytes, count: blocks[i].count, scratch: model.makeScratch()))?.map(\.samples) == blocks[i].map(\.samples)
            }
            let t2 = Date()
            XCTAssertTrue(decoded.allSatisfy { $0 })
            let c = results.reduce(into: DDNCoder.BlockCost()) {
                $0.path += $1.cost.path; $0.halting += $1.cost.halting; $0.residual += $1.cost.residual
                $0.bitsBack += $1.cost.bitsBack; $0.messageBits += $1.cost.messageBits; $0.depthSum += $1.cost.depthSum
            }
            print(String(format: "bits-back c=%g, blocks of %d: message %.4f bpsp; net %.4f = path %.4f − back %.4f + halting %.4f + residual %.4f; mean depth %.2f; encode %.0f, decode %.0f images/s",
                         w, block, Double(c.messageBits) / N, c.net / N, c.path / N, c.bitsBack / N, c.halting / N, c.residual / N,
                         Double(c.depthSum) / Double(images.count), Double(images.count) / t1.timeIntervalSince(t0),
                         Double(images.count) / t2.timeIntervalSince(t1)))
        }
    }
}
