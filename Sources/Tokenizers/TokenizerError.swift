/// Everything that can go wrong reading, building or writing a tokenizer; each case names the file,
/// the pipeline stage or the token at fault.
public enum TokenizerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A file could not be read.
    case unreadable(path: String, reason: String)
    /// No tokenizer file was found in a directory.
    case noTokenizer(directory: String)
    /// A JSON file is not valid JSON.
    case invalidJSON(path: String, reason: String)
    /// A JSON file is valid but a key is missing or has the wrong type.
    case invalidField(path: String, key: String, expected: String)
    /// A pipeline stage (`normalizer`, `pre_tokenizer`, `model`, `decoder`, `post_processor`) has a
    /// `type` lep does not implement.
    case unsupportedComponent(stage: String, type: String)
    /// A BPE merge names a token that is not in the vocabulary.
    case mergeMissingToken(merge: String, token: String)
    /// A token or id is used but absent (e.g. a post-processor's special token).
    case unknownToken(String, context: String)
    /// The same token string or id appears twice.
    case duplicateToken(String, context: String)
    /// A SentencePiece `.model` is not a valid ModelProto.
    case invalidSentencePiece(path: String, reason: String)
    /// A tiktoken ranks file has a bad line.
    case invalidTiktoken(path: String, line: Int, reason: String)
    /// A text input is not valid UTF-8; `offset` is the byte offset of the first invalid byte.
    case invalidUTF8(path: String, offset: Int)
    /// Writing an output failed.
    case writeFailed(path: String, reason: String)
    /// The model has several chat templates (`names`) and none called `default`: one must be chosen by name.
    case chatTemplateNotChosen(path: String, names: [String])

    /// What each stage supports (for the message of ``unsupportedComponent(stage:type:)``).
    static let supported: [String: String] = [
        "normalizer": "Sequence, Prepend, Replace (String pattern), Lowercase, Strip, NFC, NFD, NFKC, NFKD",
        "pre_tokenizer": "Sequence, ByteLevel, Split (String, or the LLaMA-3 / Qwen2 / GPT-2 regex), Metaspace, Digits, WhitespaceSplit",
        "model": "BPE (byte_fallback, ignore_merges, fuse_unk, continuing_subword_prefix, end_of_word_suffix), Unigram (byte_fallback)",
        "decoder": "Sequence, ByteLevel, Metaspace, ByteFallback, Fuse, Strip, Replace (String pattern)",
        "post_processor": "TemplateProcessing, ByteLevel, Sequence of those"
    ]

    /// The message shown to the user: the file or component, the problem and, where there is one, the fix.
    public var description: String {
        switch self {
        case .unreadable(let p, let r): return "\(p): cannot read (\(r))"
        case .noTokenizer(let d):
            return "\(d): no tokenizer.json or tokenizer.model found; pass a tokenizer file or a model directory that has one"
        case .invalidJSON(let p, let r): return "\(p): invalid JSON: \(r)"
        case .invalidField(let p, let k, let e): return "\(p): `\(k)` must be \(e)"
        case .unsupportedComponent(let s, let t):
            return
                "tokenizer.json \(s) of type \"\(t)\" is not supported by lep (\(s) types lep reads: \(TokenizerError.supported[s] ?? "see Sources/Tokenizers")); convert the tokenizer or extend lep"
        case .mergeMissingToken(let m, let t): return "merge \"\(m)\" names token \"\(t)\" that is not in the vocabulary"
        case .unknownToken(let t, let c): return "\(c): token \"\(t)\" is not in the vocabulary"
        case .duplicateToken(let t, let c): return "\(c): token \"\(t)\" appears twice"
        case .invalidSentencePiece(let p, let r): return "\(p): not a SentencePiece model (\(r))"
        case .invalidTiktoken(let p, let l, let r): return "\(p):\(l): not a tiktoken ranks line (\(r))"
        case .invalidUTF8(let p, let o): return "\(p): invalid UTF-8 at byte offset \(o)"
        case .writeFailed(let p, let r): return "\(p): cannot write (\(r))"
        case .chatTemplateNotChosen(let p, let names):
            return "\(p): the model has several chat templates and no default (\(names.joined(separator: ", "))); choose one by name"
        }
    }
}
