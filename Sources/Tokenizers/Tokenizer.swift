/// The one tokenizer interface the rest of lep uses.
///
/// Implementations: ``SentencePieceTokenizer`` (a SentencePiece `.model` through libsentencepiece),
/// ``HFTokenizer`` (HF `tokenizer.json`: BPE / Unigram pipelines) and ``TiktokenTokenizer`` (LLaMA-3's
/// `base64 rank` file). ``loadTokenizer(directory:)`` picks one for a model directory.
///
/// Ids are `Int` (vocabularies fit easily); encoding never fails because a Swift `String` is always
/// valid Unicode; decoding is lossy where the ids form invalid UTF-8 (U+FFFD), as upstream does.
public protocol Tokenizer: Sendable {
    /// Number of ids: 1 + the largest id in the base vocabulary and the added tokens.
    var vocabularySize: Int { get }

    /// Encodes `text`. With `addSpecialTokens` the tokenizer's own template is applied (BOS/EOS as
    /// its config says); special tokens written inside `text` are always matched as single ids.
    func encode(_ text: String, addSpecialTokens: Bool) -> [Int]

    /// Encodes `text` as it would be split inside running text: no BOS/EOS, no dummy-prefix space,
    /// no special-token matching (Documentation/Propagation.md §4).
    func encodeContinuation(_ text: String) -> [Int]

    /// Decodes `ids` to text; with `skipSpecialTokens`, special (control) tokens are dropped first.
    func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String

    /// The vocabulary string of `id` (e.g. `▁При`, `ĠThe`, `<0x0A>`), or nil when out of range.
    func token(for id: Int) -> String?

    /// The id of the vocabulary string `token`, or nil when absent.
    func id(for token: String) -> Int?

    /// The bytes a token stands for in text: SentencePiece `▁` → space, byte-level characters →
    /// their bytes, `<0xNN>` → the byte NN; special tokens give their content. Nil when out of range.
    func tokenBytes(_ id: Int) -> [UInt8]?

    /// bos/eos/unk/pad and other special tokens.
    var specialTokens: SpecialTokens { get }

    /// Tokens added on top of the model vocabulary (tokenizer.json `added_tokens`, SentencePiece
    /// control and user-defined pieces), in id order.
    var addedTokens: [AddedToken] { get }
}

extension Tokenizer {
    /// Encodes with the tokenizer's special tokens (BOS etc.) added.
    public func encode(_ text: String) -> [Int] { encode(text, addSpecialTokens: true) }

    /// Decodes keeping special tokens.
    public func decode(_ ids: [Int]) -> String { decode(ids, skipSpecialTokens: false) }

    /// The text a token stands for (``tokenBytes(_:)`` decoded as UTF-8, lossy), nil when out of range.
    public func tokenText(_ id: Int) -> String? { tokenBytes(id).map { String(decoding: $0, as: UTF8.self) } }

    /// True when `id` is one of the special tokens.
    public func isSpecial(_ id: Int) -> Bool { specialTokens.specialIds.contains(id) }
}

/// The special tokens a tokenizer declares, by role.
public struct SpecialTokens: Equatable, Sendable {
    /// Beginning-of-sequence token (id and string), when the tokenizer has one.
    public var bos: (id: Int, token: String)? {
        get { bosPair?.pair }
        set { bosPair = newValue.map(IdToken.init) }
    }
    /// End-of-sequence token.
    public var eos: (id: Int, token: String)? {
        get { eosPair?.pair }
        set { eosPair = newValue.map(IdToken.init) }
    }
    /// Unknown token.
    public var unk: (id: Int, token: String)? {
        get { unkPair?.pair }
        set { unkPair = newValue.map(IdToken.init) }
    }
    /// Padding token.
    public var pad: (id: Int, token: String)? {
        get { padPair?.pair }
        set { padPair = newValue.map(IdToken.init) }
    }
    /// Whether encoding with special tokens prepends BOS.
    public var addBos: Bool
    /// Whether encoding with special tokens appends EOS.
    public var addEos: Bool
    /// Every id that is special (control tokens, added tokens marked `special`).
    public var specialIds: Set<Int>

    struct IdToken: Equatable, Sendable {
        var id: Int, token: String
        init(_ p: (id: Int, token: String)) { id = p.id; token = p.token }
        var pair: (id: Int, token: String) { (id, token) }
    }
    var bosPair: IdToken?, eosPair: IdToken?, unkPair: IdToken?, padPair: IdToken?

    /// No special tokens.
    public init(addBos: Bool = false, addEos: Bool = false, specialIds: Set<Int> = []) {
        self.addBos = addBos
        self.addEos = addEos
        self.specialIds = specialIds
    }
}

/// A token added on top of the model vocabulary (HF `added_tokens` semantics).
public struct AddedToken: Equatable, Sendable {
    /// Its id.
    public var id: Int
    /// The text it matches.
    public var content: String
    /// Special tokens are skipped by `decode(skipSpecialTokens: true)`.
    public var special: Bool
    /// Matched on normalised text (true) or on the raw input (false).
    public var normalized: Bool
    /// Swallows whitespace on its left when matched.
    public var lstrip: Bool
    /// Swallows whitespace on its right when matched.
    public var rstrip: Bool
    /// Only matches as a whole word.
    public var singleWord: Bool

    /// An added token; defaults as HF `AddedToken(content, special=special)`.
    public init(
        id: Int, content: String, special: Bool, normalized: Bool? = nil, lstrip: Bool = false,
        rstrip: Bool = false, singleWord: Bool = false
    ) {
        self.id = id
        self.content = content
        self.special = special
        self.normalized = normalized ?? !special
        self.lstrip = lstrip
        self.rstrip = rstrip
        self.singleWord = singleWord
    }
}
