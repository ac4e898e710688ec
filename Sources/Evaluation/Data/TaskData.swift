#if canImport(Glibc)
import Glibc
#endif
import LEPJSON
import Support

/// Whether a copy item is one sentence (scored mainly by `len`) or a paragraph (by `copy99`).
public enum CopyKind: String, Sendable, CaseIterable {
    case sentence, paragraph
}

/// A text the model is asked to repeat (DaruCopy style).
///
/// JSONL, one object per line: `{"id": "en-s01", "language": "en", "kind": "sentence", "text": "..."}`;
/// `id` and `kind` are optional (default: `<file>:<line>`, `sentence`); an optional `meta` object is ignored.
public struct CopyItem: Equatable, Sendable {
    /// The item's id (default `<file>:<line>`).
    public var id: String
    /// The language code ("en", "ru", ...); "ru" gets the Russian instruction, anything else the English one.
    public var language: String
    /// Sentence or paragraph: which metric represents the item (default sentence).
    public var kind: CopyKind
    /// The text to repeat.
    public var text: String

    /// An item with every field given.
    public init(id: String, language: String, kind: CopyKind, text: String) {
        self.id = id; self.language = language; self.kind = kind; self.text = text
    }

    /// The user message asking for an exact copy, in the item's language ("ru" or anything else = English).
    public var instruction: String {
        language == "ru"
            ? "Повтори следующий текст в точности, ничего не меняя и ничего не добавляя:\n\n" + text
            : "Repeat the following text exactly, without changing or adding anything:\n\n" + text
    }
}

/// A multiple-choice question.
///
/// JSONL, one object per line: `{"id": "...", "prompt": "...", "choices": ["A", "B"], "answer": 0}`
/// plus an optional `answer_prefix` (the start of the unfinished assistant turn in llmtf style, e.g.
/// `"Ответ:"`) and an optional `meta` object. Two scorings use the same items:
/// - llmtf style: chat template with `prompt` as the user message and an unfinished assistant turn
///   `answer_prefix`; compare the next-token log-probabilities of each choice's first token (choices
///   are short: "A".."D", "1"/"2", "Да"/"Нет");
/// - lm-eval style: `prompt` as raw text, score the continuation `" " + choice` (sum of
///   log-probabilities), report `acc` and `acc_norm`.
public struct MultipleChoiceItem: Equatable, Sendable {
    /// The item's id (default `<file>:<line>`).
    public var id: String
    /// The question: the user message (llmtf style) or the raw text context (lm-eval style).
    public var prompt: String
    /// The possible answers, at least two.
    public var choices: [String]
    /// 0-based index of the correct choice in ``choices``.
    public var answer: Int
    /// The start of the open assistant turn in llmtf style (e.g. "Ответ:"); nil: the generation prompt alone.
    public var answerPrefix: String?

    /// An item with every field given; `answer` is not checked against `choices` here (``TaskData`` checks it when reading a file).
    public init(id: String, prompt: String, choices: [String], answer: Int, answerPrefix: String? = nil) {
        self.id = id; self.prompt = prompt; self.choices = choices; self.answer = answer; self.answerPrefix = answerPrefix
    }
}

/// Reads and validates task data files; every error names the file and the line.
public enum TaskData {
    /// Reads a UTF-8 text file (for likelihood tasks); invalid UTF-8 is an error naming the line.
    public static func readText(path: String) throws(EvaluationError) -> String {
        let bytes = try readBytes(path: path)
        return try decodeUTF8(bytes, path: path)
    }

    /// Loads copy items from a JSONL file.
    public static func loadCopyItems(path: String) throws(EvaluationError) -> [CopyItem] {
        try parseCopyItems(try readText(path: path), path: path)
    }

    /// Loads multiple-choice items from a JSONL file.
    public static func loadMultipleChoice(path: String) throws(EvaluationError) -> [MultipleChoiceItem] {
        try parseMultipleChoice(try readText(path: path), path: path)
    }

    /// Parses copy items; `path` is only used in error messages and default ids.
    public static func parseCopyItems(_ text: String, path: String) throws(EvaluationError) -> [CopyItem] {
        var items: [CopyItem] = []
        var ids = Set<String>()
        for (line, object) in try jsonLines(text, path: path) {
            try checkKeys(object, allowed: ["id", "language", "kind", "text", "meta"], path: path, line: line)
            let text = try requiredString(object, "text", path: path, line: line)
            guard !text.isEmpty else { throw .taskFile(path: path, line: line, message: "\"text\" is empty") }
            let language = try requiredString(object, "language", path: path, line: line)
            let id = try optionalString(object, "id", path: path, line: line) ?? "\(path):\(line)"
            var kind = CopyKind.sentence
            if let k = try optionalString(object, "kind", path: path, line: line) {
                guard let parsed = CopyKind(rawValue: k) else {
                    throw .taskFile(path: path, line: line, message: "\"kind\" is '\(k)'; expected \"sentence\" or \"paragraph\"")
                }
                kind = parsed
            }
            guard ids.insert(id).inserted else { throw .taskFile(path: path, line: line, message: "duplicate id '\(id)'") }
            items.append(CopyItem(id: id, language: language, kind: kind, text: text))
        }
        guard !items.isEmpty else { throw .taskFile(path: path, line: 0, message: "no items (expected one JSON object per line)") }
        return items
    }

    /// Parses multiple-choice items; `path` is only used in error messages and default ids.
    public static func parseMultipleChoice(_ text: String, path: String) throws(EvaluationError) -> [MultipleChoiceItem] {
        var items: [MultipleChoiceItem] = []
        var ids = Set<String>()
        for (line, object) in try jsonLines(text, path: path) {
            try checkKeys(object, allowed: ["id", "prompt", "choices", "answer", "answer_prefix", "meta"], path: path, line: line)
            let prompt = try requiredString(object, "prompt", path: path, line: line)
            guard case .array(let rawChoices)? = object["choices"] else {
                throw .taskFile(path: path, line: line, message: "\"choices\" must be an array of strings")
            }
            var choices: [String] = []
            for (i, c) in rawChoices.enumerated() {
                guard case .string(let s) = c, !s.isEmpty else {
                    throw .taskFile(path: path, line: line, message: "choices[\(i)] must be a non-empty string, found \(c.kindName)")
                }
                choices.append(s)
            }
            guard choices.count >= 2 else { throw .taskFile(path: path, line: line, message: "need at least 2 choices, found \(choices.count)") }
            guard Set(choices).count == choices.count else { throw .taskFile(path: path, line: line, message: "choices repeat a value") }
            guard case .number(let n)? = object["answer"], let a = n.int64, a >= 0, a < Int64(choices.count) else {
                throw .taskFile(path: path, line: line, message: "\"answer\" must be an integer index in 0..<\(choices.count)")
            }
            let id = try optionalString(object, "id", path: path, line: line) ?? "\(path):\(line)"
            guard ids.insert(id).inserted else { throw .taskFile(path: path, line: line, message: "duplicate id '\(id)'") }
            let prefix = try optionalString(object, "answer_prefix", path: path, line: line)
            items.append(MultipleChoiceItem(id: id, prompt: prompt, choices: choices, answer: Int(a), answerPrefix: prefix))
        }
        guard !items.isEmpty else { throw .taskFile(path: path, line: 0, message: "no items (expected one JSON object per line)") }
        return items
    }

    // MARK: helpers

    static func readBytes(path: String) throws(EvaluationError) -> [UInt8] {
        switch WholeFile.read(path) {
        case .success(let bytes): return bytes
        case .failure(let f): throw .taskFile(path: path, line: 0, message: "cannot read: \(f.reason)")
        }
    }

    static func decodeUTF8(_ bytes: [UInt8], path: String) throws(EvaluationError) -> String {
        if let s = String(validating: bytes, as: UTF8.self) { return s }
        // Find the first bad line for the message.
        var line = 1, start = 0
        for i in 0...bytes.count where i == bytes.count || bytes[i] == 0x0A {
            if String(validating: bytes[start..<i], as: UTF8.self) == nil {
                throw .taskFile(path: path, line: line, message: "invalid UTF-8")
            }
            line += 1
            start = i + 1
        }
        throw .taskFile(path: path, line: 0, message: "invalid UTF-8")
    }

    static func jsonLines(_ text: String, path: String) throws(EvaluationError) -> [(Int, JSONObject)] {
        var out: [(Int, JSONObject)] = []
        var lineNumber = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = String(raw).trimmingASCIIWhitespace()
            if line.isEmpty { continue }
            let value: JSONValue
            do { value = try JSONParser.parse(line) } catch {
                throw .taskFile(path: path, line: lineNumber, message: "not valid JSON: \(error)")
            }
            guard case .object(let o) = value else {
                throw .taskFile(path: path, line: lineNumber, message: "expected a JSON object, found \(value.kindName)")
            }
            out.append((lineNumber, o))
        }
        return out
    }

    static func checkKeys(_ o: JSONObject, allowed: Set<String>, path: String, line: Int) throws(EvaluationError) {
        for k in o.keys where !allowed.contains(k) {
            throw .taskFile(path: path, line: line, message: "unknown key \"\(k)\" (allowed: \(allowed.sorted().joined(separator: ", ")))")
        }
    }

    static func requiredString(_ o: JSONObject, _ key: String, path: String, line: Int) throws(EvaluationError) -> String {
        guard let v = o[key] else { throw .taskFile(path: path, line: line, message: "missing \"\(key)\"") }
        guard case .string(let s) = v else { throw .taskFile(path: path, line: line, message: "\"\(key)\" must be a string, found \(v.kindName)") }
        return s
    }

    static func optionalString(_ o: JSONObject, _ key: String, path: String, line: Int) throws(EvaluationError) -> String? {
        guard let v = o[key] else { return nil }
        guard case .string(let s) = v else { throw .taskFile(path: path, line: line, message: "\"\(key)\" must be a string, found \(v.kindName)") }
        return s
    }
}
