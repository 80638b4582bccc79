// Which adaptive models the classical coder uses for an image, their context counts, alphabets,
// adaptation constants and starting counts (Spec/CODEC.md §4.4–4.5).

/// Tuning constants of the classical coder. Changing any of them changes the bitstream.
@usableFromInline enum Tuning {
    /// Activity thresholds (8-bit units): activity level = number of thresholds below the activity.
    @usableFromInline static let activityThresholds: [Int] = [0, 1, 2, 4, 6, 9, 13, 18, 25, 35, 50, 70, 100, 140, 200]
    @usableFromInline static var activityLevels: Int { activityThresholds.count + 1 }
    /// Predicted-level thresholds (8-bit units): level = number of thresholds below the prediction.
    @usableFromInline static let levelThresholds: [Int] = [0, 8, 32, 96, 254]
    @usableFromInline static var predictionLevels: Int { levelThresholds.count + 1 }
    /// |x̂ − MED| thresholds (8-bit units) when a reconstruction is given.
    @usableFromInline static let reconstructionThresholds: [Int] = [2, 6, 12, 24, 48]
    @usableFromInline static var reconstructionLevels: Int { reconstructionThresholds.count + 1 }

    /// Adaptive counts: increment per coded token and the total above which counts halve.
    @usableFromInline static let increment: UInt32 = 32
    @usableFromInline static let limit: UInt32 = 1 << 12
    /// Prior weight (total count) of learned statistics at the start of an image.
    @usableFromInline static let learnedStrength: UInt32 = 4000
    /// Bias correction: sums and counts halve when the count reaches this.
    @usableFromInline static let biasLimit = 32

    /// Palette: largest candidate list (distinct values among W, N, NE, NW).
    @usableFromInline static let paletteCandidates = 4
}

/// Model keys and construction. Key = kind << 24 | bitDepth << 16 | role << 8 | hasReconstruction.
/// kind 0: sample residual tokens (role 0 first channel, 1 other colour channels, 2 alpha);
/// kind 1: palette neighbour-choice tokens; kind 2: palette literal tokens.
@usableFromInline enum ModelLayout {
    /// Channel role of channel `ch` of a `channels`-channel image: 0 first, 1 colour, 2 alpha.
    @inlinable static func role(_ ch: Int, channels: Int) -> Int {
        if ch == 0 { return 0 }
        if channels == 2 || ch == 3 { return 2 }
        return 1
    }

    @inlinable static func key(kind: Int, bitDepth: Int, role: Int, reconstruction: Bool) -> UInt32 {
        UInt32(kind << 24 | bitDepth << 16 | role << 8 | (reconstruction ? 1 : 0))
    }

    /// Contexts of a sample model.
    @inlinable static func sampleContexts(reconstruction: Bool) -> Int {
        Tuning.activityLevels * Tuning.predictionLevels * (reconstruction ? Tuning.reconstructionLevels : 1)
    }

    /// (key, contexts, alphabet) of every model an image of this kind uses, in model-index order:
    /// samples: index = role (roles absent from the image still get a slot); palette: [choice, literal].
    static func specs(channels: Int, bitDepth: Int, palette: Bool, reconstruction: Bool) -> [(key: UInt32, contexts: Int, alphabet: Int)] {
        let maxValue = (1 << bitDepth) - 1
        let alphabet = HybridUint.alphabetSize(maxValue: maxValue)
        if palette {
            return [(key(kind: 1, bitDepth: bitDepth, role: 0, reconstruction: reconstruction), 16 * (Tuning.paletteCandidates + 1), Tuning.paletteCandidates + 1),
                    (key(kind: 2, bitDepth: bitDepth, role: 0, reconstruction: reconstruction), 1, alphabet)]
        }
        let roles = Set((0..<channels).map { role($0, channels: channels) })
        return (0..<3).map { r in
            (key(kind: 0, bitDepth: bitDepth, role: r, reconstruction: reconstruction),
             roles.contains(r) ? sampleContexts(reconstruction: reconstruction) : 1, alphabet)
        }
    }

    /// Neutral prior for context `ctx` of a model: geometric decay over tokens, slower for busier
    /// contexts. Small totals so an image's own statistics take over quickly.
    static func neutralRow(key: UInt32, context: Int, alphabet: Int) -> [UInt32] {
        let kind = Int(key >> 24)
        if kind == 1 {
            // Palette choice: favour the first candidate (W).
            return (0..<alphabet).map { $0 == 0 ? 8 : ($0 == alphabet - 1 ? 2 : 2) }
        }
        let activity = kind == 0 ? context % Tuning.activityLevels : 6
        return (0..<alphabet).map { t in
            let shift = min(31, t * 4 / (activity + 1))
            return 1 + (32 >> UInt32(shift))
        }
    }

    /// The models for one image, index as in `specs`.
    static func models(channels: Int, bitDepth: Int, palette: Bool, reconstruction: Bool,
                       statistics: ResidualStatistics?) -> [AdaptiveModelSet] {
        let stats = statistics ?? ResidualStatistics()
        return specs(channels: channels, bitDepth: bitDepth, palette: palette, reconstruction: reconstruction).map { s in
            let initial = stats.initialCounts(key: s.key, contexts: s.contexts, alphabet: s.alphabet,
                                              strength: Tuning.learnedStrength) { ctx in
                neutralRow(key: s.key, context: ctx, alphabet: s.alphabet)
            }
            return AdaptiveModelSet(contexts: s.contexts, alphabet: s.alphabet, increment: Tuning.increment,
                                    limit: Tuning.limit, initial: initial)
        }
    }
}
