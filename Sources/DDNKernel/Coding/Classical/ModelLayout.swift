// Which adaptive models the classical coder uses for an image, their context counts, alphabets,
// adaptation constants and starting counts (Spec/CODEC.md §4.4–4.5).

/// Tuning constants of the classical coder. Changing any of them changes the bitstream.
@usableFromInline enum Tuning {
    /// Activity thresholds (8-bit units): activity level = number of thresholds below the activity.
    @usableFromInline static let activityThresholds: [Int] = [0, 1, 2, 4, 6, 9, 13, 18, 25, 35, 50, 70, 100, 140, 200]
    @usableFromInline static var activityLevels: Int { activityThresholds.count + 1 }
    /// Predicted-level thresholds (8-bit units): level = number of thresholds below the prediction.
    @usableFromInline static let levelThresholds: [Int] = [0, 1, 2, 5, 12, 32, 96, 192, 254]
    @usableFromInline static var predictionLevels: Int { levelThresholds.count + 1 }
    /// x̂ level thresholds (8-bit units) when a reconstruction is given.
    @usableFromInline static let reconstructionThresholds: [Int] = [0, 4, 16, 64, 160]
    @usableFromInline static var reconstructionLevels: Int { reconstructionThresholds.count + 1 }
    /// Coder 6's extended model: thresholds (8-bit units) on error sizes of the final prediction
    /// (the colour channels' level class and the third context), as many classes as `levelThresholds`.
    @usableFromInline static let errorThresholds: [Int] = [0, 1, 2, 3, 5, 8, 12, 18, 28]

    /// Adaptive counts: increment per coded token and the total above which counts halve.
    @usableFromInline static let increment: UInt32 = 32
    @usableFromInline static let limit: UInt32 = 1 << 13
    /// Coder 6's extended model: the total above which counts halve (three rows are summed, so
    /// 3 · (limit + increment) <= 2^16).
    @usableFromInline static let extendedLimit: UInt32 = 1 << 14
    /// Prior weight (total count) of learned statistics at the start of an image.
    @usableFromInline static let learnedStrength: UInt32 = 4000

    /// Palette: largest candidate list (distinct values among W, N, NE, NW).
    @usableFromInline static let paletteCandidates = 4
}

/// Model keys and construction. Key = kind << 24 | bitDepth << 16 | role << 8 | hasReconstruction.
/// kind 0: sample residual tokens (role 0 first channel, 1 other colour channels, 2 alpha);
/// kind 1: palette neighbour-choice tokens; kind 2: palette literal tokens; kind 3: second-context
/// sample tokens; kind 4: coder 6's third-context sample tokens (never stored in statistics).
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
    /// Sample images: index 0–2 = token model of role 0–2, index 3–5 = the second-context model of
    /// role 0–2, used (more than one context) only when `statistics` has no learned token table
    /// for that role.
    /// `roleMaxValues` (coder 6): the largest sample value of each role's channels, when a colour
    /// transform widens them (the role's alphabet follows); nil: `2^bitDepth − 1` for every role.
    /// `extended` (coder 6's extended model): index 6–8 = the third-context model of role 0–2.
    static func specs(channels: Int, bitDepth: Int, palette: Bool, reconstruction: Bool,
                      statistics: ResidualStatistics?, roleMaxValues: [Int]? = nil,
                      extended: Bool = false) -> [(key: UInt32, contexts: Int, alphabet: Int)] {
        let maxValue = (1 << bitDepth) - 1
        let alphabet = HybridUint.alphabetSize(maxValue: maxValue)
        func roleAlphabet(_ r: Int) -> Int { roleMaxValues.map { HybridUint.alphabetSize(maxValue: $0[r]) } ?? alphabet }
        if palette {
            return [(key(kind: 1, bitDepth: bitDepth, role: 0, reconstruction: reconstruction), 16 * (Tuning.paletteCandidates + 1), Tuning.paletteCandidates + 1),
                    (key(kind: 2, bitDepth: bitDepth, role: 0, reconstruction: reconstruction), 1, alphabet)]
        }
        let roles = Set((0..<channels).map { role($0, channels: channels) })
        let third: [(key: UInt32, contexts: Int, alphabet: Int)] = !extended || palette ? [] : (0..<3).map { r in
            (key(kind: 4, bitDepth: bitDepth, role: r, reconstruction: reconstruction), roles.contains(r) ? thirdContexts : 1, roleAlphabet(r))
        }
        return (0..<3).map { r in
            (key(kind: 0, bitDepth: bitDepth, role: r, reconstruction: reconstruction),
             roles.contains(r) ? sampleContexts(reconstruction: reconstruction) : 1, roleAlphabet(r))
        } + (0..<3).map { r in
            (key(kind: 3, bitDepth: bitDepth, role: r, reconstruction: reconstruction),
             roles.contains(r) && statistics?.tables[key(kind: 0, bitDepth: bitDepth, role: r, reconstruction: reconstruction)] == nil
                ? secondContexts(reconstruction: reconstruction) : 1, roleAlphabet(r))
        } + third
    }

    /// The (contexts, alphabet) a stored statistics table of model `key` must have, or nil if no
    /// such stored model exists (kinds 0–2, depths 1/2/4/8/16, roles 0–2; palette roles 0).
    static func storedShape(key: UInt32) -> (contexts: Int, alphabet: Int)? {
        let kind = Int(key >> 24), bd = Int((key >> 16) & 0xFF), role = Int((key >> 8) & 0xFF), rec = Int(key & 0xFF)
        guard [1, 2, 4, 8, 16].contains(bd), rec <= 1, role <= 2 else { return nil }
        let alphabet = HybridUint.alphabetSize(maxValue: (1 << bd) - 1)
        switch kind {
        case 0: return (sampleContexts(reconstruction: rec == 1), alphabet)
        case 1 where role == 0 && bd <= 8: return (16 * (Tuning.paletteCandidates + 1), Tuning.paletteCandidates + 1)
        case 2 where role == 0 && bd <= 8: return (1, alphabet)
        default: return nil
        }
    }

    /// Contexts of the second (mixed) context model: texture signs (27) × coarse activity (4)
    /// [× sign of x̂ − P (3) × |x̂ − P| class (4)].
    /// Coder 6: contexts of the third (mixed) model: size of the final prediction's recent errors
    /// (10) × signs of the errors at W and N (9) × sign of the previous channel's residual (3).
    @usableFromInline static let thirdContexts = 270

    @inlinable static func secondContexts(reconstruction: Bool) -> Int { reconstruction ? 108 * 12 : 108 }

    /// Neutral prior for context `ctx` of a model: geometric decay over tokens, slower for busier
    /// contexts. Small totals so an image's own statistics take over quickly.
    static func neutralRow(key: UInt32, context: Int, alphabet: Int) -> [UInt32] {
        let kind = Int(key >> 24)
        if kind == 1 {
            // Palette choice: favour the first candidate (W).
            return (0..<alphabet).map { $0 == 0 ? 8 : 2 }
        }
        return neutralSampleRow(activity: neutralActivity(kind: kind, context: context), alphabet: alphabet)
    }

    /// The activity level the neutral prior of a sample-like context uses.
    @inlinable static func neutralActivity(kind: Int, context: Int) -> Int {
        kind == 0 ? context % Tuning.activityLevels : (kind == 3 ? (context % 4) * 4 + 2 : (kind == 4 ? min(15, (context / 27) * 3 / 2) : 6))
    }

    /// Neutral token counts for an activity level: `1 + (32 >> min(31, t·4 / (activity + 1)))`.
    static func neutralSampleRow(activity: Int, alphabet: Int) -> [UInt32] {
        (0..<alphabet).map { t in 1 + (32 >> UInt32(min(31, t * 4 / (activity + 1)))) }
    }

    /// The models for one image, index as in `specs`.
    static func models(channels: Int, bitDepth: Int, palette: Bool, reconstruction: Bool,
                       statistics: ResidualStatistics?, roleMaxValues: [Int]? = nil, extended: Bool = false) -> [AdaptiveModelSet] {
        let stats = statistics ?? ResidualStatistics()
        return specs(channels: channels, bitDepth: bitDepth, palette: palette, reconstruction: reconstruction,
                     statistics: statistics, roleMaxValues: roleMaxValues, extended: extended).map { s in
            // Neutral rows depend on the kind and activity level only: build each once.
            let kind = Int(s.key >> 24)
            let rows: [[UInt32]] = kind == 1 ? [neutralRow(key: s.key, context: 0, alphabet: s.alphabet)]
                : (0..<Tuning.activityLevels).map { neutralSampleRow(activity: $0, alphabet: s.alphabet) }
            let initial = stats.initialCounts(key: s.key, contexts: s.contexts, alphabet: s.alphabet,
                                              strength: Tuning.learnedStrength) { ctx in
                kind == 1 ? rows[0] : rows[min(neutralActivity(kind: kind, context: ctx), rows.count - 1)]
            }
            return AdaptiveModelSet(contexts: s.contexts, alphabet: s.alphabet, increment: Tuning.increment,
                                    limit: extended ? Tuning.extendedLimit : Tuning.limit, initial: initial)
        }
    }
}
