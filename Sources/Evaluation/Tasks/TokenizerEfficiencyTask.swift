import Tokenizers

/// Tokenizer efficiency without a model (Documentation/Evaluation.md §5): characters per token (the paper's
/// "symbols per token") and tokens per word of a text. Characters are Unicode scalars, words are
/// runs of non-whitespace, tokens are encoded without special tokens.
public enum TokenizerEfficiencyTask {
    /// Counts for one text and their ratios.
    public struct Result: Equatable, Sendable {
        /// Unicode scalars, whitespace-separated words and tokens (no special tokens) of the text.
        public var characters: Int, words: Int, tokens: Int
        /// Characters per token (0 for no tokens).
        public var charactersPerToken: Double { tokens == 0 ? 0 : Double(characters) / Double(tokens) }
        /// Tokens per word (0 for no words).
        public var tokensPerWord: Double { words == 0 ? 0 : Double(tokens) / Double(words) }
    }

    /// Counts the characters, words and tokens of `text`.
    public static func run(_ tokenizer: any Tokenizer, text: String) -> Result {
        let tokens = tokenizer.encode(text, addSpecialTokens: false).count
        var words = 0, inWord = false
        for s in text.unicodeScalars {
            let space = s.properties.isWhitespace
            if !space && !inWord { words += 1 }
            inWord = !space
        }
        return Result(characters: text.unicodeScalars.count, words: words, tokens: tokens)
    }

    /// Report entries: chars_per_token (main, higher is better), tokens_per_word (lower is better).
    public static func entries(_ r: Result, model: String, task: String) -> [ReportEntry] {
        [
            ReportEntry(model: model, task: task, metric: "chars_per_token", value: r.charactersPerToken, n: r.tokens, isMain: true, higherIsBetter: true),
            ReportEntry(model: model, task: task, metric: "tokens_per_word", value: r.tokensPerWord, n: r.words, isMain: false, higherIsBetter: false)
        ]
    }
}
