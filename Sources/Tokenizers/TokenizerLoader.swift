import Glibc
import Support

/// Loads the tokenizer of a model directory: `tokenizer.json` when present (with
/// `tokenizer_config.json` / `special_tokens_map.json`), else `tokenizer.model` (tiktoken ranks or
/// SentencePiece, told apart by content).
public func loadTokenizer(directory: String) throws(TokenizerError) -> any Tokenizer {
    try TokenizerLoader.load(path: directory)
}

/// Loads a tokenizer from a directory or from one file (`tokenizer.json`, a SentencePiece `.model`,
/// a tiktoken ranks file); config files next to a file are used.
public func loadTokenizer(path: String) throws(TokenizerError) -> any Tokenizer {
    try TokenizerLoader.load(path: path)
}

enum TokenizerLoader {
    static func load(path: String) throws(TokenizerError) -> any Tokenizer {
        if PathUtilities.isDirectory(path) {
            if PathUtilities.exists(path + "/tokenizer.json") { return try HFTokenizer(path: path + "/tokenizer.json", configDirectory: path) }
            if PathUtilities.exists(path + "/tokenizer.model") { return try loadModelFile(path + "/tokenizer.model", configDirectory: path) }
            throw .noTokenizer(directory: path)
        }
        guard PathUtilities.exists(path) else { throw .unreadable(path: path, reason: "no such file or directory") }
        let dir = PathUtilities.parentDirectory(of: path)
        if path.hasSuffix(".json") { return try HFTokenizer(path: path, configDirectory: dir) }
        return try loadModelFile(path, configDirectory: dir)
    }

    static func loadModelFile(_ path: String, configDirectory: String) throws(TokenizerError) -> any Tokenizer {
        let bytes = try FileIO.read(path)
        let config = try TokenizerConfig.load(directory: configDirectory)
        if looksLikeTiktoken(bytes) { return try TiktokenTokenizer(path: path, config: config) }
        return try SentencePieceTokenizer(bytes: bytes, path: path, config: config)
    }

    /// First line is `base64 integer`.
    static func looksLikeTiktoken(_ bytes: [UInt8]) -> Bool {
        let line = bytes.prefix(while: { $0 != 0x0A })
        guard let sp = line.firstIndex(of: 0x20), sp > line.startIndex, line.index(after: sp) < line.endIndex else { return false }
        return base64Decode(line[line.startIndex..<sp]) != nil && line[(sp + 1)...].allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }
}
