/// Copy items and chat-format prompts generated from plain text, reproducibly (Documentation/Evaluation.md §3).
///
/// The rule, step by step:
/// 1. Paragraphs: the text split at blank lines; inside a paragraph every run of whitespace becomes
///    one space.
/// 2. Sentences: a paragraph split after `.`, `!`, `?` or `…` (plus any closing `"`, `»`, `)`, `'`,
///    `”`) followed by whitespace.
/// 3. Sentence items: every sentence of `minSentenceCharacters...maxSentenceCharacters` characters
///    (Unicode scalars), first occurrence of each text, in text order; id `<lang>-s<k>` with k the
///    sentence's 1-based index in the text (3 digits).
/// 4. Paragraph items: every run of `paragraphSentences` (2 or 3) consecutive sentences of one paragraph
///    whose sentences are all sentence-sized and whose joined text (one space between sentences) has at
///    most `maxParagraphCharacters` characters; in text order (start, then span); id `<lang>-p<k>x<span>`.
/// 5. Each list shuffled by Fisher–Yates with SplitMix64 (seed `seed` for sentences, `seed + 1` for
///    paragraphs); a per-task limit takes the first N of the shuffled list.
/// The bundled copy texts give 126 sentence and 189 paragraph items per language (EN and RU).
public enum CopyItemGenerator {
    /// Shortest sentence item, in Unicode scalars (rule step 3).
    public static let minSentenceCharacters = 20
    /// Longest sentence item, in Unicode scalars (rule step 3).
    public static let maxSentenceCharacters = 120
    /// Sentences per paragraph item (rule step 4).
    public static let paragraphSentences = [2, 3]
    /// Longest paragraph item, in Unicode scalars, sentences joined with one space.
    public static let maxParagraphCharacters = 240

    /// Paragraphs of `text`, each as its sentences (rule steps 1–2).
    public static func paragraphs(_ text: String) -> [[String]] {
        var out: [[String]] = []
        var current: [String] = []
        func flush() {
            if !current.isEmpty { out.append(sentences(current.joined(separator: " "))) }
            current = []
        }
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = CopyTask.trimWhitespace(String(raw))
            if line.isEmpty { flush() } else { current.append(line) }
        }
        flush()
        return out.filter { !$0.isEmpty }
    }

    /// The sentences of one paragraph (whitespace runs collapsed to one space).
    public static func sentences(_ paragraph: String) -> [String] {
        let enders: Set<Unicode.Scalar> = [".", "!", "?", "…"]
        let closers: Set<Unicode.Scalar> = ["\"", "»", ")", "'", "”"]
        let u = Array(paragraph.unicodeScalars)
        var out: [String] = []
        var cur = String.UnicodeScalarView()
        var i = 0
        func emit() {
            let s = CopyTask.trimWhitespace(String(cur))
            if !s.isEmpty { out.append(s) }
            cur = String.UnicodeScalarView()
        }
        while i < u.count {
            let c = u[i]
            if c.properties.isWhitespace {
                if let last = cur.last, !last.properties.isWhitespace { cur.append(" ") }
                i += 1
                continue
            }
            cur.append(c)
            i += 1
            if enders.contains(c) {
                while i < u.count, enders.contains(u[i]) || closers.contains(u[i]) { cur.append(u[i]); i += 1 }
                if i == u.count || u[i].properties.isWhitespace { emit() }
            }
        }
        emit()
        return out
    }

    static func length(_ s: String) -> Int { s.unicodeScalars.count }

    static func isSentenceSized(_ s: String) -> Bool {
        (minSentenceCharacters...maxSentenceCharacters).contains(length(s))
    }

    /// Sentence and paragraph items of `text` in `language`, each list shuffled with the seed (rule 1–5).
    public static func items(text: String, language: String, seed: UInt64) -> (sentences: [CopyItem], paragraphs: [CopyItem]) {
        var sentences: [CopyItem] = [], paragraphs: [CopyItem] = []
        var seenS = Set<String>(), seenP = Set<String>()
        var index = 0
        func pad(_ k: Int) -> String { let s = String(k); return String(repeating: "0", count: max(0, 3 - s.count)) + s }
        for para in Self.paragraphs(text) {
            let first = index + 1
            for s in para {
                index += 1
                if isSentenceSized(s), seenS.insert(s).inserted {
                    sentences.append(CopyItem(id: "\(language)-s\(pad(index))", language: language, kind: .sentence, text: s))
                }
            }
            for start in 0..<para.count {
                for span in paragraphSentences where start + span <= para.count {
                    let parts = Array(para[start..<(start + span)])
                    guard parts.allSatisfy(isSentenceSized) else { continue }
                    let joined = parts.joined(separator: " ")
                    guard length(joined) <= maxParagraphCharacters, seenP.insert(joined).inserted else { continue }
                    paragraphs.append(CopyItem(id: "\(language)-p\(pad(first + start))x\(span)", language: language, kind: .paragraph, text: joined))
                }
            }
        }
        var r = SplitMix64(seed: seed)
        r.shuffle(&sentences)
        r = SplitMix64(seed: seed &+ 1)
        r.shuffle(&paragraphs)
        return (sentences, paragraphs)
    }

    /// Chat-format prompts for `language`: the first `count` sentence items of `items(text:…)`
    /// shuffled again with `seed + 2`, cycling through three requests (copy the text, name its first
    /// word, continue its first half); ids `<lang>-c<k>`.
    public static func chatPrompts(text: String, language: String, seed: UInt64, count: Int) -> [ChatPromptItem] {
        var pool = items(text: text, language: language, seed: seed).sentences
        var r = SplitMix64(seed: seed &+ 2)
        r.shuffle(&pool)
        var out: [ChatPromptItem] = []
        for (k, item) in pool.prefix(max(0, count)).enumerated() {
            let words = item.text.split(separator: " ").map(String.init)
            let half = words.prefix(max(1, words.count / 2)).joined(separator: " ")
            let ru = language == "ru"
            let prompt: String
            switch k % 3 {
            case 0: prompt = CopyItem(id: item.id, language: language, kind: .sentence, text: item.text).instruction
            case 1: prompt = (ru ? "Какое первое слово в этом тексте?\n\n" : "What is the first word of this text?\n\n") + item.text
            default: prompt = (ru ? "Продолжи текст:\n\n" : "Continue this text:\n\n") + half
            }
            out.append(ChatPromptItem(id: "\(language)-c\(k + 1)", language: language, prompt: prompt))
        }
        return out
    }
}

/// A user message for the chat-format task: does the model's reply end its turn?
public struct ChatPromptItem: Equatable, Sendable {
    /// `<lang>-c<k>`, k from 1.
    public var id: String
    /// The language code; the request is in Russian for "ru", else in English.
    public var language: String
    /// The user message, request and text.
    public var prompt: String

    /// A prompt with every field given.
    public init(id: String, language: String, prompt: String) {
        self.id = id; self.language = language; self.prompt = prompt
    }
}
