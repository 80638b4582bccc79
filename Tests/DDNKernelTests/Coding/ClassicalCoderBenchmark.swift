import Foundation
import XCTest
@testable import DDNKernel

/// Compression and speed on Fashion-MNIST: a measurement, not a test. Runs only with
/// `DDN_BENCH=1` (release build recommended):
///
///     zcat /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz > /tmp/fmdata/t10k
///     zcat /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz > /tmp/fmdata/train
///     DDN_BENCH=1 swift test -c release --filter ClassicalCoderBenchmark
///
/// Environment: `DDN_FM_DIR` (default /tmp/fmdata), `DDN_BENCH_TRAIN` (training images used for
/// case (c), default 60000), `DDN_BENCH_BLUR` (block sizes for the x̂ stand-in, default 2,4,7),
/// `DDN_BENCH_SPEED=0` (skip timing). Prints bits per sub-pixel and MB/s; asserts only round trips.
enum BenchSupport {
    /// CPU time of the calling thread in seconds (the machine is shared: wall time overstates).
    static func cpuSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    static func loadIdx(_ path: String, count: Int) -> [PixelImage]? {
        guard let data = FileManager.default.contents(atPath: path), data.count >= 16 else { return nil }
        let n = min(count, (data.count - 16) / 784)
        return (0..<n).map { k in
            let s = data[(16 + k * 784)..<(16 + (k + 1) * 784)].map { UInt16($0) }
            return PixelImage(width: 28, height: 28, channels: 1, bitDepth: 8, samples: s)
        }
    }

    /// A blurry stand-in for the DDN's x̂: `b > 0`: b×b block means upsampled; `b < 0`: a
    /// (2|b|+1)² box blur applied twice (smooth, like an L2-trained reconstruction).
    static func blur(_ img: PixelImage, _ b: Int) -> [UInt16] {
        if b < 0 { return boxBlur(boxBlur(img.samples, img.width, img.height, -b), img.width, img.height, -b) }
        var out = [UInt16](repeating: 0, count: img.samples.count)
        for by in stride(from: 0, to: img.height, by: b) {
            for bx in stride(from: 0, to: img.width, by: b) {
                var s = 0, n = 0
                for y in by..<min(by + b, img.height) { for x in bx..<min(bx + b, img.width) { s += Int(img.samples[y * img.width + x]); n += 1 } }
                for y in by..<min(by + b, img.height) { for x in bx..<min(bx + b, img.width) { out[y * img.width + x] = UInt16((s + n / 2) / n) } }
            }
        }
        return out
    }

    static func boxBlur(_ s: [UInt16], _ w: Int, _ h: Int, _ r: Int) -> [UInt16] {
        var out = s
        for y in 0..<h {
            for x in 0..<w {
                var sum = 0, n = 0
                for yy in max(0, y - r)...min(h - 1, y + r) { for xx in max(0, x - r)...min(w - 1, x + r) { sum += Int(s[yy * w + xx]); n += 1 } }
                out[y * w + x] = UInt16((sum + n / 2) / n)
            }
        }
        return out
    }

    static func bytesFor(_ imgs: [PixelImage], _ recs: [[UInt16]]?, _ stats: ResidualStatistics?) -> Int {
        var total = 0
        for (k, img) in imgs.enumerated() {
            var e = RangeEncoder()
            ClassicalCoder.encode(img, reconstruction: recs?[k], statistics: stats, into: &e)
            total += e.finish().count
        }
        return total
    }

}

final class ClassicalCoderBenchmark: XCTestCase {
    func loadIdx(_ p: String, count: Int) -> [PixelImage]? { BenchSupport.loadIdx(p, count: count) }
    func blur(_ i: PixelImage, _ b: Int) -> [UInt16] { BenchSupport.blur(i, b) }
    func bytesFor(_ i: [PixelImage], _ r: [[UInt16]]?, _ s: ResidualStatistics?) -> Int { BenchSupport.bytesFor(i, r, s) }

    func testFashionMNIST() throws {
        guard ProcessInfo.processInfo.environment["DDN_BENCH"] == "1" else { throw XCTSkip("set DDN_BENCH=1") }
        let dir = ProcessInfo.processInfo.environment["DDN_FM_DIR"] ?? "/tmp/fmdata"
        guard let test = loadIdx(dir + "/t10k", count: 1000) else { throw XCTSkip("no \(dir)/t10k") }
        let nTrain = Int(ProcessInfo.processInfo.environment["DDN_BENCH_TRAIN"] ?? "60000") ?? 60000
        let train = loadIdx(dir + "/train", count: nTrain) ?? []
        let subpixels = Double(test.count * 784)
        func bpsp(_ bytes: Int) -> String { String(format: "%.4f", Double(bytes * 8) / subpixels) }

        let a = bytesFor(test, nil, nil)
        print("FM (a) per image, neutral statistics: \(bpsp(a)) bpsp (\(a) bytes)")
        let sB = ResidualStatistics.learnIfWorthwhile(from: test, reconstructions: nil)
        let sBsize = sB.serialized().count
        let b = bytesFor(test, nil, sB)
        print("FM (b) statistics learned from the same 1000: \(bpsp(b + sBsize)) bpsp incl. statistics (\(b) + \(sBsize) bytes)")
        if !train.isEmpty {
            let sC = ResidualStatistics.learn(from: train, reconstructions: nil)
            let c = bytesFor(test, nil, sC)
            print("FM (c) statistics learned from \(train.count) training images: \(bpsp(c)) bpsp (statistics \(sC.serialized().count) bytes, not counted)")
        }
        let blurs = (ProcessInfo.processInfo.environment["DDN_BENCH_BLUR"] ?? "2,4,7,-1,-2").split(separator: ",").compactMap { Int($0) }
        for blk in blurs {
            let recs = test.map { blur($0, blk) }
            let n = bytesFor(test, recs, nil)
            var line = blk > 0 ? "FM x̂ = \(blk)x\(blk) block means: neutral \(bpsp(n))" : "FM x̂ = \(2 * -blk + 1)² box blur twice: neutral \(bpsp(n))"
            if !train.isEmpty {
                let sR = ResidualStatistics.learn(from: train, reconstructions: train.map { blur($0, blk) })
                line += ", trained statistics \(bpsp(bytesFor(test, recs, sR))) (statistics \(sR.serialized().count) bytes)"
            }
            print(line + " bpsp")
        }
        if ProcessInfo.processInfo.environment["DDN_BENCH_SPEED"] == "0" { return }
        // Speed: encode and decode the 1000 test images with statistics sB, 5 rounds.
        var streams: [[UInt8]] = []
        let c0 = BenchSupport.cpuSeconds()
        let t0 = Date()
        for _ in 0..<5 {
            streams = test.map { img in
                var e = RangeEncoder()
                ClassicalCoder.encode(img, reconstruction: nil, statistics: sB, into: &e)
                return e.finish()
            }
        }
        let t1 = Date()
        let c1 = BenchSupport.cpuSeconds()
        for _ in 0..<5 {
            for (k, s) in streams.enumerated() {
                var d = RangeDecoder(s)
                let img = try ClassicalCoder.decode(width: 28, height: 28, channels: 1, bitDepth: 8, reconstruction: nil, statistics: sB, from: &d)
                if img != test[k] { XCTFail("round trip \(k)") }
            }
        }
        let t2 = Date()
        let c2 = BenchSupport.cpuSeconds()
        let mb = 5 * subpixels / 1e6
        print(String(format: "FM speed (1 thread, incl. model setup per image): wall encode %.1f MB/s, decode %.1f MB/s; CPU time encode %.1f MB/s, decode %.1f MB/s",
                     mb / t1.timeIntervalSince(t0), mb / t2.timeIntervalSince(t1), mb / (c1 - c0), mb / (c2 - c1)))
        // Large image speed: 512×512 RGB smooth noise.
        var rng = SplitMix64(seed: 1)
        var s = [UInt16](repeating: 0, count: 512 * 512 * 3)
        for i in 3..<s.count { s[i] = UInt16(min(max(Int(s[i - 3]) + rng.below(9) - 4, 0), 255)) }
        let big = PixelImage(width: 512, height: 512, channels: 3, bitDepth: 8, samples: s)
        let v0 = BenchSupport.cpuSeconds()
        let u0 = Date()
        var e = RangeEncoder()
        ClassicalCoder.encode(big, reconstruction: nil, statistics: nil, into: &e)
        let bs = e.finish()
        let u1 = Date()
        let v1 = BenchSupport.cpuSeconds()
        var d = RangeDecoder(bs)
        let back = try ClassicalCoder.decode(width: 512, height: 512, channels: 3, bitDepth: 8, reconstruction: nil, statistics: nil, from: &d)
        let u2 = Date()
        let v2 = BenchSupport.cpuSeconds()
        XCTAssertEqual(back, big)
        let mbb = Double(s.count) / 1e6
        print(String(format: "512x512 RGB speed: wall encode %.1f MB/s, decode %.1f MB/s; CPU time encode %.1f MB/s, decode %.1f MB/s (%.3f bpsp)",
                     mbb / u1.timeIntervalSince(u0), mbb / u2.timeIntervalSince(u1), mbb / (v1 - v0), mbb / (v2 - v1), Double(bs.count * 8) / Double(s.count)))
    }
}

/// Speed only (for profilers): `DDN_SPEED=N` codes the first N Fashion-MNIST test images with
/// statistics learned from them, then decodes them, and prints MB/s.
final class ClassicalCoderSpeed: XCTestCase {
    func testSpeed() throws {
        guard let n = Int(ProcessInfo.processInfo.environment["DDN_SPEED"] ?? "") else { throw XCTSkip("set DDN_SPEED=N") }
        guard let test = BenchSupport.loadIdx("/tmp/fmdata/t10k", count: n) else { throw XCTSkip("no data") }
        let stats = ResidualStatistics.learn(from: test, reconstructions: nil)
        let c0 = BenchSupport.cpuSeconds()
        let t0 = Date()
        let streams = test.map { img in
            var e = RangeEncoder()
            ClassicalCoder.encode(img, reconstruction: nil, statistics: stats, into: &e)
            return e.finish()
        }
        let t1 = Date()
        let c1 = BenchSupport.cpuSeconds()
        for (k, s) in streams.enumerated() {
            var d = RangeDecoder(s)
            let img = try ClassicalCoder.decode(width: 28, height: 28, channels: 1, bitDepth: 8, reconstruction: nil, statistics: stats, from: &d)
            if img != test[k] { XCTFail("round trip \(k)") }
        }
        let t2 = Date()
        let c2 = BenchSupport.cpuSeconds()
        let mb = Double(n * 784) / 1e6
        print(String(format: "SPEED wall: encode %.2f MB/s decode %.2f MB/s; CPU time: encode %.2f MB/s decode %.2f MB/s",
                     mb / t1.timeIntervalSince(t0), mb / t2.timeIntervalSince(t1), mb / (c1 - c0), mb / (c2 - c1)))
    }
}
