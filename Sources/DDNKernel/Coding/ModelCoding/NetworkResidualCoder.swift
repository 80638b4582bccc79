import Foundation

/// Codes an image's samples with the model's residual network given the reconstruction x̂
/// (Spec/CODEC.md §7.2): every sub-pixel in raster order (channels of a pixel in order), each with
/// the `SoftmaxTable` of the network's logits for it.
///
/// The encoder and the cost counter evaluate the network on all sub-pixels at once (the image is
/// known); the decoder runs stage A once and stage B one sub-pixel at a time, as the samples
/// arrive. Both go through `gemmAccumulate` in the same order: identical logits, identical tables.
struct NetworkResidualCoder: Sendable {
    let net: ResidualNetLayout
    /// The model's flat parameters (the network's part starts at `net.pos`).
    let parameters: [Float]

    /// Buffers for one image; one per thread.
    final class Scratch: @unchecked Sendable {
        let window, z, z2, causal, logits: UnsafeMutablePointer<Float>
        /// Each sub-pixel's coding interval (start, frequency of 2^16) as `cost` measured it, and
        /// a second buffer the encoder swaps in to keep one measurement while it makes another.
        private(set) var intervals, otherIntervals: UnsafeMutablePointer<(start: UInt32, frequency: UInt32)>
        let values: [Float]
        let table: SoftmaxTable
        init(_ net: ResidualNetLayout) {
            let rows = net.P * net.C
            window = .allocate(capacity: rows * net.windowFeatures)
            z = .allocate(capacity: rows * net.hidden)
            z2 = .allocate(capacity: rows * net.hidden2)
            causal = .allocate(capacity: rows * net.causalFeatures)
            logits = .allocate(capacity: rows * net.V)
            intervals = .allocate(capacity: rows)
            otherIntervals = .allocate(capacity: rows)
            values = net.sampleFloats()
            table = SoftmaxTable(count: net.V)
        }
        deinit {
            window.deallocate(); z.deallocate(); z2.deallocate(); causal.deallocate(); logits.deallocate()
            intervals.deallocate(); otherIntervals.deallocate(); table.deallocate()
        }
        /// Exchanges `intervals` and `otherIntervals`.
        func swapIntervals() { swap(&intervals, &otherIntervals) }
    }

    func makeScratch() -> Scratch { Scratch(net) }

    /// Logits of every sub-pixel of a known image into `s.logits` [P·C × V].
    /// - Parameters: samples: [P·C]; xhat: [P·C] in [-1, 1] at full resolution; path: the
    ///   candidates that made x̂ (read only with a path embedding).
    func allLogits(_ samples: [UInt16], xhat: [Float], path: [Int], _ s: Scratch) {
        let net = self.net, rows = net.P * net.C
        precondition(samples.count == rows && xhat.count == rows)
        parameters.withUnsafeBufferPointer { pb in
            let p = pb.baseAddress!
            let bias = net.pathBias(p, path: path)
            xhat.withUnsafeBufferPointer { net.windowFeatures($0.baseAddress!, out: s.window) }
            net.stageA(p, window: s.window, z: s.z, bias: bias)
            samples.withUnsafeBufferPointer { sp in
                s.values.withUnsafeBufferPointer { net.causalFeaturesOfAll(sp.baseAddress!, value: $0.baseAddress!, out: s.causal, stride: net.causalFeatures) }
            }
            net.stageB(p, rows: rows, causal: s.causal, z: s.z, second: net.secondBias(p, bias: bias), z2: s.z2, logits: s.logits)
        }
    }

    /// Codes the samples whose intervals `cost` left in `s.intervals` (`count` of them).
    func encode(count: Int, intervalsIn s: Scratch, into encoder: inout RangeEncoder) {
        for i in 0..<count {
            let (start, frequency) = s.intervals[i]
            encoder.encode(start: start, frequency: frequency, totalBits: SoftmaxTable.totalBits)
        }
    }

    /// Pushes the samples whose intervals `cost` left in `s.intervals` onto a rANS stack, last
    /// first, so that popping yields them in raster order.
    func push(count: Int, intervalsIn s: Scratch, onto stack: inout RANSStack) {
        for i in stride(from: count - 1, through: 0, by: -1) {
            let (start, frequency) = s.intervals[i]
            stack.push(start: start, frequency: frequency)
        }
    }

    /// What coding `samples` given `xhat` (made by `path`) writes, in bits (Σ −log2(f / 2^16);
    /// the flush excluded). Leaves each sample's interval in its table in `scratch.intervals` for `encode`.
    func cost(_ samples: [UInt16], xhat: [Float], path: [Int], scratch s: Scratch) -> Double {
        allLogits(samples, xhat: xhat, path: path, s)
        var bits = 0.0
        for i in 0..<samples.count {
            s.table.build(s.logits + i * net.V)
            let v = Int(samples[i])
            s.intervals[i] = (s.table.cumulative[v], s.table.frequency[v])
            bits += 16 - log2(Double(s.table.frequency[v]))
        }
        return bits
    }

    /// Decodes the samples of one image given `xhat` ([P·C] in [-1, 1]) and its `path`. Never traps.
    func decode<S: SymbolSource>(xhat: [Float], path: [Int], scratch s: Scratch, from decoder: inout S) -> [UInt16] {
        let net = self.net, rows = net.P * net.C, H = net.hidden
        precondition(xhat.count == rows)
        var samples = [UInt16](repeating: 0, count: rows)
        parameters.withUnsafeBufferPointer { pb in
            let p = pb.baseAddress!
            let bias = net.pathBias(p, path: path)
            xhat.withUnsafeBufferPointer { net.windowFeatures($0.baseAddress!, out: s.window) }
            net.stageA(p, window: s.window, z: s.z, bias: bias)
            samples.withUnsafeMutableBufferPointer { sp in
                s.values.withUnsafeBufferPointer { vp in
                    let second = net.secondBias(p, bias: bias)
                    for y in 0..<net.H { for x in 0..<net.W { for c in 0..<net.C {
                        let row = (y * net.W + x) * net.C + c
                        net.causalFeatures(sp.baseAddress!, value: vp.baseAddress!, y: y, x: x, c: c, out: s.causal)
                        net.stageB(p, rows: 1, causal: s.causal, z: s.z + row * H, second: second, z2: s.z2, logits: s.logits)
                        s.table.build(s.logits)
                        sp[row] = UInt16(s.table.decode(&decoder))
                    } } }
                }
            }
        }
        return samples
    }

    /// Decodes several images in lockstep: stage A for each, then one sub-pixel of every image at
    /// a time, so that stage B is one matrix product over the images (the decoder's speed comes
    /// from there). Bit-identical to `decode` on each image: the rows of a product are independent.
    /// - Parameters: xhats: one reconstruction per image ([P·C] in [-1, 1]); paths: the path of
    ///   each; decoders: one per image, advanced past its samples.
    /// - Returns: each image's samples.
    func decode<S: SymbolSource>(xhats: [[Float]], paths: [[Int]], decoders: inout [S]) -> [[UInt16]] {
        let net = self.net, rows = net.P * net.C, H = net.hidden, H2 = net.hidden2, B = xhats.count
        precondition(decoders.count == B && paths.count == B && xhats.allSatisfy { $0.count == rows })
        if B == 0 { return [] }
        let s = Scratch(net)
        let zAll = UnsafeMutablePointer<Float>.allocate(capacity: B * rows * H)
        let zRows = UnsafeMutablePointer<Float>.allocate(capacity: B * H)
        let z2 = UnsafeMutablePointer<Float>.allocate(capacity: B * net.hidden2)
        let causal = UnsafeMutablePointer<Float>.allocate(capacity: B * net.causalFeatures)
        let logits = UnsafeMutablePointer<Float>.allocate(capacity: B * net.V)
        defer { zAll.deallocate(); zRows.deallocate(); z2.deallocate(); causal.deallocate(); logits.deallocate() }
        var samples = [[UInt16]](repeating: [UInt16](repeating: 0, count: rows), count: B)
        parameters.withUnsafeBufferPointer { pb in
            let p = pb.baseAddress!
            var second = ResidualNetLayout.SecondBias(values: [], stride: H2)
            for b in 0..<B {
                let bias = net.pathBias(p, path: paths[b])
                xhats[b].withUnsafeBufferPointer { net.windowFeatures($0.baseAddress!, out: s.window) }
                net.stageA(p, window: s.window, z: zAll + b * rows * H, bias: bias)
                second.values += net.secondBias(p, bias: bias).values
            }
            s.values.withUnsafeBufferPointer { vp in
                for y in 0..<net.H { for x in 0..<net.W { for c in 0..<net.C {
                    let row = (y * net.W + x) * net.C + c
                    for b in 0..<B {
                        samples[b].withUnsafeBufferPointer { sp in
                            net.causalFeatures(sp.baseAddress!, value: vp.baseAddress!, y: y, x: x, c: c, out: causal + b * net.causalFeatures)
                        }
                        (zRows + b * H).update(from: zAll + (b * rows + row) * H, count: H)
                    }
                    net.stageB(p, rows: B, causal: causal, z: zRows, second: second, z2: z2, logits: logits)
                    for b in 0..<B {
                        s.table.build(logits + b * net.V)
                        samples[b][row] = UInt16(s.table.decode(&decoders[b]))
                    }
                } } }
            }
        }
        return samples
    }
}
