/// Hyperparameters of a Discrete Distribution Network. Stored in the model file (Spec/MODEL.md §2)
/// in the order of `DDNConfig.fieldOrder`.
public struct DDNConfig: Equatable, Sendable {
    /// 0 = recurrence (one network applied again and again, level as input), 1 = single-shot
    /// (levels at growing resolution, each with its own weights; `levels` fixes the resolutions).
    public var layout: UInt32 = 0
    /// Image shape the model codes. 28×28×1 8-bit: Fashion-MNIST. Width and height must be
    /// multiples of 4 (two 2× poolings in the U-Net).
    public var width = 28
    public var height = 28
    public var channels = 1
    public var bitDepth = 8
    /// L: levels trained (the depth the halting flags are coded for; Spec/MODEL.md §5).
    public var levels = 10
    /// K: candidates per level. 64 as in the reference recurrence demo.
    public var candidates = 64
    /// c: U-Net base width (full resolution c, half 2c, quarter 4c). 8 keeps a level at ~2.3 M
    /// multiply-adds so that coding can approach 1,000 images/s on 2 cores.
    public var baseChannels = 8
    /// σ of the Gaussian residual proxy, in sample units scaled to [-1, 1] (0.1 ≈ 12.75/255).
    public var sigma: Float = 0.1
    /// LeakyReLU slope for x < 0.
    public var leak: Float = 0.1
    /// Hidden width of the residual network (Spec/MODEL.md §8); 0: no network (a version-1 model,
    /// whose residual is coded by the classical context coder).
    public var residualHidden = 0
    /// Width of the residual network's second hidden layer (with `residualHidden` > 0).
    public var residualHidden2 = 64
    /// Radius r of the residual network's x̂ window ((2r+1)² pixels around the coded sub-pixel).
    public var residualWindow = 2
    /// Whether the residual network is also conditioned on the path (Spec/MODEL.md §8.1): a learned
    /// vector per level and candidate, summed over the path and added to both hidden layers'
    /// biases. Written as model file version 3.
    public var pathEmbedding = false

    public init() {}

    /// The single-shot default for 28×28: 6 levels at 1, 2, 4, 7, 14, 28 pixels; widths 32…8.
    public static func singleShot(width: Int = 28, height: Int = 28, channels: Int = 1, bitDepth: Int = 8, candidates: Int = 64,
                                  baseChannels: Int = 8) -> DDNConfig {
        var c = DDNConfig(width: width, height: height, channels: channels, bitDepth: bitDepth, levels: 1, candidates: candidates,
                          baseChannels: baseChannels)
        c.layout = 1
        var l = 1
        while (1 << (l - 1)) < max(width, height) { l += 1 }
        c.levels = l
        return c
    }

    public init(width: Int = 28, height: Int = 28, channels: Int = 1, bitDepth: Int = 8,
                levels: Int = 10, candidates: Int = 64, baseChannels: Int = 8,
                sigma: Float = 0.1, leak: Float = 0.1) {
        self.width = width; self.height = height; self.channels = channels; self.bitDepth = bitDepth
        self.levels = levels; self.candidates = candidates; self.baseChannels = baseChannels
        self.sigma = sigma; self.leak = leak
    }

    /// Sub-pixels per image, N = width × height × channels.
    public var subPixels: Int { width * height * channels }

    /// The largest image `ddntrain` trains a model for, in sub-pixels (e.g. 256×256 grey, 147×147
    /// RGB). The training state grows with it (a position bias per sub-pixel, K candidates per
    /// pixel and level, per shard: about 4 KB per sub-pixel); a 768×512 RGB photograph would need
    /// tens of GB. Larger images are coded by the classical coders, without a model.
    public static let maxTrainedSubPixels = 1 << 16

    /// Checks the shape constraints; returns a message for the first violated one.
    public func validationError() -> String? {
        if layout > 1 { return "layout must be 0 (recurrence) or 1 (single-shot)" }
        if layout == 0 && (width < 4 || height < 4 || width % 4 != 0 || height % 4 != 0) { return "width and height must be multiples of 4" }
        if width < 1 || height < 1 { return "width and height must be positive" }
        if layout == 1 && levels > 24 { return "single-shot levels must be at most 24" }
        if width > 4096 || height > 4096 { return "image too large for a DDN model" }
        if !(1...4).contains(channels) { return "channels must be 1...4" }
        if ![1, 2, 4, 8, 16].contains(bitDepth) { return "bit depth must be 1, 2, 4, 8 or 16" }
        if !(1...256).contains(levels) { return "levels must be 1...256" }
        if !(2...1024).contains(candidates) { return "candidates must be 2...1024" }
        if !(1...256).contains(baseChannels) { return "base channels must be 1...256" }
        if !(sigma > 0 && sigma.isFinite) { return "sigma must be positive" }
        if !(leak >= 0 && leak < 1) { return "leak must be in [0, 1)" }
        if !(0...1024).contains(residualHidden) { return "residual network width must be 0...1024" }
        if residualHidden > 0 && !(1...1024).contains(residualHidden2) { return "residual network second width must be 1...1024" }
        if !(0...4).contains(residualWindow) { return "residual network window radius must be 0...4" }
        if residualHidden > 0 && bitDepth > 8 { return "the residual network codes bit depths up to 8" }
        if pathEmbedding && residualHidden == 0 { return "a path embedding needs a residual network" }
        return nil
    }
}
