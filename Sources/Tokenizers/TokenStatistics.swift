/// How a tokenizer splits a text: the numbers `lep tokstats` shows side by side.
public struct TokenStatistics: Sendable, Equatable {
    /// Unicode scalars of the text, newlines not counted.
    public var characters = 0
    /// UTF-8 bytes of the text, newlines not counted.
    public var bytes = 0
    /// Runs of non-whitespace.
    public var words = 0
    /// Tokens of the lines, encoded without special tokens.
    public var tokens = 0
    /// `<0xNN>` byte-fallback tokens.
    public var byteFallbackTokens = 0
    /// Unknown-token ids.
    public var unknownTokens = 0

    /// All counts zero.
    public init() {}

    /// Characters per token (0 for no tokens).
    public var charactersPerToken: Double { tokens == 0 ? 0 : Double(characters) / Double(tokens) }
    /// Tokens per word (0 for no words).
    public var tokensPerWord: Double { words == 0 ? 0 : Double(tokens) / Double(words) }
    /// Fraction of tokens that are byte-fallback tokens (0 for no tokens).
    public var byteFallbackRate: Double { tokens == 0 ? 0 : Double(byteFallbackTokens) / Double(tokens) }
    /// Fraction of tokens that are the unknown token (0 for no tokens).
    public var unknownRate: Double { tokens == 0 ? 0 : Double(unknownTokens) / Double(tokens) }

    /// Adds the statistics of `text` (encoded line by line, without special tokens) to these.
    public mutating func add(_ text: String, tokenizer: any Tokenizer) {
        let unk = tokenizer.specialTokens.unk?.id
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let s = String(line)
            characters += s.unicodeScalars.count
            bytes += s.utf8.count
            var inWord = false
            for u in s.unicodeScalars {
                let space = u.properties.isWhitespace
                if !space && !inWord { words += 1 }
                inWord = !space
            }
            for id in tokenizer.encode(s, addSpecialTokens: false) {
                tokens += 1
                if id == unk { unknownTokens += 1 }
                if let t = tokenizer.token(for: id), parseByteToken(t) != nil { byteFallbackTokens += 1 }
            }
        }
    }
}

/// Reads a UTF-8 text file; invalid UTF-8 is an error with the byte offset.
package func readTextFile(_ path: String) throws(TokenizerError) -> String {
    try FileIO.utf8Text(try FileIO.read(path), path: path)
}
