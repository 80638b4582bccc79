import Foundation

extension DDNModel {
    /// This model's DDN (parameters, start image) with a residual network of the given shape
    /// replacing any it had, initialised as a fresh model's (Spec/MODEL.md §6.1). Training state
    /// and residual statistics are dropped. Used to start training from a trained DDN.
    /// - Parameters: hidden, hidden2: widths (≥ 1); window: x̂ window radius; seed: the network's initialisation.
    public func withResidualNetwork(hidden: Int, hidden2: Int, window: Int, seed: UInt64) -> DDNModel {
        var c = config
        c.residualHidden = hidden
        c.residualHidden2 = hidden2
        c.residualWindow = window
        let fresh = DDNModel(config: c, seed: seed, start: start)
        var p = fresh.parameters
        let ddn = net.map { $0.pos } ?? parameters.count
        p.replaceSubrange(0..<ddn, with: parameters[0..<ddn])
        return DDNModel(config: c, parameters: p, start: start)
    }

    /// This model with its residual network also conditioned on the path (Spec/MODEL.md §8.1):
    /// the embedding starts at zero, so the model codes exactly as before until it is trained.
    /// Training state and residual statistics are dropped.
    /// - Precondition: the model has a residual network.
    public func withPathEmbedding() -> DDNModel {
        precondition(net != nil, "a path embedding needs a residual network")
        if config.pathEmbedding { var m = self; m.trainingState = nil; return m }
        var c = config
        c.pathEmbedding = true
        var p = parameters
        p += [Float](repeating: 0, count: DDNModel.parameterCount(c) - parameters.count)
        return DDNModel(config: c, parameters: p, start: start)
    }

    /// Sets the residual network's output bias to the log of the sample histogram (add-one
    /// smoothed), so that training starts from the collection's marginal distribution.
    /// - Parameter histogram: [2^bitDepth] counts of sample values.
    public mutating func setResidualOutputBias(histogram: [Int]) {
        guard let net else { return }
        precondition(histogram.count == net.V)
        let total = Double(histogram.reduce(0, +) + net.V)
        for v in 0..<net.V { parameters[net.b3 + v] = Float(log(Double(histogram[v] + 1) / total)) }
    }
}
