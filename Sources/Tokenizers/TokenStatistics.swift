/// How a tokenizer splits a text: the numbers `lep tokstats` shows side by side.
public struct TokenStatistics: Sendable, Equatable {
    public var characters = 0
    public var bytes = 0
    public var words = 0
    public var tokens = 0
    /// `<0xNN>` byte-fallback tokens.
    public var byteFallbackTokens = 0
    /// Unknown-token ids.
    public var unknownTokens = 0

    public init() {}

    public var charactersPerToken: Double { tokens == 0 ? 0 : Double(characters) / Double(tokens) }
    public var tokensPerWord: Double { words == 0 ? 0 : Double(tokens) / Double(words) }
    public var byteFallbackRate: Double { tokens == 0 ? 0 : Double(byteFallbackTokens) / Double(tokens) }
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
