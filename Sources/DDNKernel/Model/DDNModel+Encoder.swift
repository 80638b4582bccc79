extension DDNModel {
    /// Level `l` as the encoder sees it: the squared distance of every candidate to `target`,
    /// the level's logits, and the candidates themselves when the layout computes them all anyway.
    public struct LevelDistances {
        /// `distances[k]` = Σ_i (c_k,i − target_i)², i in raster order (float32, in [-1, 1] units).
        public var distances: [Float]
        /// The selection logits [K] and the halting logit of the level.
        public var selectionLogits: [Float], haltLogit: Float
        /// Every candidate at the level's size (single-shot layout), or nil: ask `candidate(_:k:scratch:)`.
        public var candidates: [[Float]]?
    }

    /// The encoder's level: runs level `l` on `xhat` and measures every candidate's squared
    /// distance to `target` without materialising all K candidates (recurrence layout).
    /// - Parameters:
    ///   - xhat: x̂_{l−1} as `level` takes it; target: the image as `levelTarget(_:level: l)` gives it.
    /// - Complexity: the trunk, all K heads, and O(K·N) for the distances.
    public func levelDistances(_ l: Int, input xhat: [Float], target: [Float], scratch: Scratch) -> LevelDistances {
        if isSingleShot {  // candidates at the level's (small) size: compare them directly
            return levelDistances(of: level(l, input: xhat, scratch: scratch), target: target)
        }
        let lay = layout
        precondition(xhat.count == config.subPixels && target.count == config.subPixels)
        let ws = scratch.ws
        let K = lay.K, KC = lay.KC, C = lay.C
        var distance = [Float](repeating: 0, count: K)
        let r = parameters.withUnsafeBufferPointer { pb in
            let p = pb.baseAddress!
            xhat.withUnsafeBufferPointer { ws.xin.update(from: $0.baseAddress!, count: xhat.count) }
            DDNNet.trunk(lay, p, level: l, leak: config.leak, ws: ws)
            DDNNet.allHeads(lay, p, level: l, ws: ws)
            // distance[k] = Σ_i (x̂_i + head_{k,i} − x_i)², i in raster order.
            distance.withUnsafeMutableBufferPointer { d in
                target.withUnsafeBufferPointer { t in
                    let dp = d.baseAddress!
                    for i in 0..<lay.P {
                        let row = ws.heads + i * KC
                        for ch in 0..<C {
                            let e = ws.xin[i * C + ch] - t[i * C + ch]
                            var k = 0
                            if C == 1 {  // heads of one pixel are contiguous in k: eight at a time
                                let e8 = SIMD8<Float>(repeating: e)
                                while k + 8 <= K {
                                    let v = e8 + UnsafeRawPointer(row + k).loadUnaligned(as: SIMD8<Float>.self)
                                    let acc = UnsafeRawPointer(dp + k).loadUnaligned(as: SIMD8<Float>.self)
                                    UnsafeMutableRawPointer(dp + k).storeBytes(of: acc + v * v, as: SIMD8<Float>.self)
                                    k += 8
                                }
                            }
                            while k < K {
                                let v = e + row[k * C + ch]
                                dp[k] = dp[k] + v * v
                                k += 1
                            }
                        }
                    }
                }
            }
            return (Array(UnsafeBufferPointer(start: ws.logits, count: K)), ws.halt[0])
        }
        return LevelDistances(distances: distance, selectionLogits: r.0, haltLogit: r.1, candidates: nil)
    }

    /// `levelDistances` of a single-shot level already run (`level(_:input:scratch:)`): the same
    /// distances, bit for bit, without running the level again (what the bits-back decoder uses
    /// for the posterior once it has the image).
    public func levelDistances(of out: (candidates: [[Float]], selectionLogits: [Float], haltLogit: Float),
                               target: [Float]) -> LevelDistances {
        let distances = out.candidates.map { c -> Float in
            precondition(c.count == target.count, "target must be at the level's size (levelTarget)")
            var e: Float = 0
            for i in 0..<c.count { let d = c[i] - target[i]; e = e + d * d }
            return e
        }
        return LevelDistances(distances: distances, selectionLogits: out.selectionLogits, haltLogit: out.haltLogit,
                              candidates: out.candidates)
    }

    /// The candidate of level `l` nearest to `target` (squared error, first on ties), bit-identical
    /// to `level(l, …).candidates[k]`, with the level's logits (`levelDistances`' arguments).
    public func levelNearest(_ l: Int, input xhat: [Float], target: [Float], scratch: Scratch)
        -> (k: Int, candidate: [Float], selectionLogits: [Float], haltLogit: Float) {
        let out = levelDistances(l, input: xhat, target: target, scratch: scratch)
        var best = 0
        for k in out.distances.indices where out.distances[k] < out.distances[best] { best = k }
        return (best, out.candidates?[best] ?? candidate(l, k: best, scratch: scratch), out.selectionLogits, out.haltLogit)
    }
}
