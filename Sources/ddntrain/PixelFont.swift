/// A 3×5 pixel font for the training curve's labels: digits, `.`, `-`, and the few lowercase
/// letters the labels use ("bits per sub-pixel", "steps", "train", "held-out", "k"). Characters
/// it lacks are drawn as blanks.
enum PixelFont {
    /// Glyph width and height in font pixels; one blank column separates glyphs.
    static let width = 3, height = 5

    /// Each glyph: 5 rows of 3 columns, `#` for ink.
    private static let glyphs: [Character: [String]] = [
        "0": ["###", "#.#", "#.#", "#.#", "###"],
        "1": [".#.", "##.", ".#.", ".#.", "###"],
        "2": ["###", "..#", "###", "#..", "###"],
        "3": ["###", "..#", ".##", "..#", "###"],
        "4": ["#.#", "#.#", "###", "..#", "..#"],
        "5": ["###", "#..", "###", "..#", "###"],
        "6": ["###", "#..", "###", "#.#", "###"],
        "7": ["###", "..#", ".#.", ".#.", ".#."],
        "8": ["###", "#.#", "###", "#.#", "###"],
        "9": ["###", "#.#", "###", "..#", "###"],
        ".": ["...", "...", "...", "...", ".#."],
        "-": ["...", "...", "###", "...", "..."],
        " ": ["...", "...", "...", "...", "..."],
        "a": ["...", "##.", "..#", "###", "###"],
        "b": ["#..", "#..", "##.", "#.#", "##."],
        "d": ["..#", "..#", ".##", "#.#", ".##"],
        "e": ["...", "###", "#.#", "##.", ".##"],
        "h": ["#..", "#..", "##.", "#.#", "#.#"],
        "i": [".#.", "...", ".#.", ".#.", ".#."],
        "k": ["#..", "#.#", "##.", "##.", "#.#"],
        "l": ["##.", ".#.", ".#.", ".#.", "###"],
        "n": ["...", "##.", "#.#", "#.#", "#.#"],
        "o": ["...", ".#.", "#.#", "#.#", ".#."],
        "p": ["...", "##.", "#.#", "##.", "#.."],
        "r": ["...", "#.#", "##.", "#..", "#.."],
        "s": ["...", ".##", ".#.", "..#", "##."],
        "t": [".#.", "###", ".#.", ".#.", ".##"],
        "u": ["...", "#.#", "#.#", "#.#", ".##"],
        "x": ["...", "#.#", ".#.", ".#.", "#.#"],
    ]

    /// Width in image pixels of `text` drawn at `scale`.
    static func textWidth(_ text: String, scale: Int) -> Int {
        text.isEmpty ? 0 : (text.count * (width + 1) - 1) * scale
    }

    /// Calls `ink(x, y)` for every image pixel of `text` drawn with its top left corner at
    /// (`x`, `y`), each font pixel a `scale`×`scale` square.
    static func draw(_ text: String, x: Int, y: Int, scale: Int, ink: (Int, Int) -> Void) {
        for (i, ch) in text.enumerated() {
            guard let rows = glyphs[ch] else { continue }
            let left = x + i * (width + 1) * scale
            for (r, row) in rows.enumerated() {
                for (c, mark) in row.enumerated() where mark == "#" {
                    for dy in 0..<scale { for dx in 0..<scale { ink(left + c * scale + dx, y + r * scale + dy) } }
                }
            }
        }
    }
}
