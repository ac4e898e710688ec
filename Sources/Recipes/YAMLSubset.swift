import LEPJSON
import Surgery

/// A small YAML subset, enough for mergekit recipes, parsed into a `JSONValue` tree.
///
/// Supported: block mappings and sequences by indentation (including `key:` followed by a `- item`
/// list at the same indentation, and `- key: value` items), flow sequences `[a, b]` and flow mappings
/// `{a: 1}` on one line, plain / single-quoted / double-quoted scalars, `#` comments, a leading `---`.
/// Plain scalars become null (`null`, `~`, empty), Booleans (`true`/`false`), numbers (including
/// `1e-3`), or strings. Anchors, tags, multi-line scalars and multi-document files are errors naming
/// the line.
public enum YAMLSubset {
    struct Line { let indent: Int; let text: String; let number: Int }

    /// Parses a document.
    public static func parse(_ text: String, path: String) throws(SurgeryError) -> JSONValue {
        var lines: [Line] = []
        var number = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            var s = String(raw)
            if s.hasSuffix("\r") { s.removeLast() }
            if s.contains("\t") && s.prefix(while: { $0 == " " || $0 == "\t" }).contains("\t") {
                throw .recipeSyntax(path: path, line: number, message: "tab in indentation (YAML indents with spaces)")
            }
            let stripped = try stripComment(s, path: path, line: number)
            let indent = stripped.prefix(while: { $0 == " " }).count
            let body = String(stripped.dropFirst(indent))
            let trimmed = trimTrailing(body)
            if trimmed.isEmpty { continue }
            if trimmed == "---" && lines.isEmpty { continue }
            if trimmed == "---" || trimmed == "..." {
                throw .recipeSyntax(path: path, line: number, message: "only one YAML document per recipe")
            }
            lines.append(Line(indent: indent, text: trimmed, number: number))
        }
        guard !lines.isEmpty else { throw .recipeSyntax(path: path, line: 1, message: "empty recipe") }
        var p = Parser(lines: lines, path: path)
        let v = try p.block(indent: lines[0].indent)
        if p.pos < lines.count {
            throw .recipeSyntax(path: path, line: lines[p.pos].number, message: "unexpected indentation")
        }
        return v
    }

    static func trimTrailing(_ s: String) -> String {
        var t = Substring(s)
        while let l = t.last, l == " " { t.removeLast() }
        return String(t)
    }

    /// Removes a `#` comment (one at the start or after a space, outside quotes).
    static func stripComment(_ s: String, path: String, line: Int) throws(SurgeryError) -> String {
        var out = ""
        var quote: Character?
        var prev: Character = " "
        for c in s {
            if let q = quote {
                if c == q { quote = nil }
                out.append(c); prev = c; continue
            }
            if c == "#" && (prev == " " || prev == "\t") { break }
            if (c == "\"" || c == "'") && (prev == " " || prev == "[" || prev == "," || prev == ":" || prev == "{" || prev == "-") { quote = c }
            out.append(c); prev = c
        }
        return out
    }

    /// Deepest nesting of block collections (flow collections have the same bound): deeper input is
    /// refused, never allowed to exhaust the stack.
    static let maxDepth = 64

    struct Parser {
        var lines: [Line]
        let path: String
        var pos = 0
        var depth = 0

        func fail(_ message: String, _ line: Int) -> SurgeryError { .recipeSyntax(path: path, line: line, message: message) }

        mutating func block(indent: Int) throws(SurgeryError) -> JSONValue {
            let first = lines[pos]
            depth += 1
            defer { depth -= 1 }
            guard depth <= YAMLSubset.maxDepth else { throw fail("nesting deeper than \(YAMLSubset.maxDepth) levels", first.number) }
            if first.text == "-" || first.text.hasPrefix("- ") { return try sequence(indent: indent) }
            return try mapping(indent: indent)
        }

        mutating func sequence(indent: Int) throws(SurgeryError) -> JSONValue {
            var items: [JSONValue] = []
            while pos < lines.count, lines[pos].indent == indent, lines[pos].text == "-" || lines[pos].text.hasPrefix("- ") {
                let line = lines[pos]
                let rest = String(line.text.dropFirst(1).drop(while: { $0 == " " }))
                if rest.isEmpty {
                    pos += 1
                    guard pos < lines.count, lines[pos].indent > indent else { items.append(.null); continue }
                    items.append(try block(indent: lines[pos].indent))
                    continue
                }
                let column = indent + (line.text.count - rest.count)
                if splitKey(rest) != nil {
                    // "- key: value": a mapping whose first line starts at `column` (the line is
                    // rewritten in place; parsing only moves forward, so it is not read again).
                    lines[pos] = Line(indent: column, text: rest, number: line.number)
                    items.append(try mapping(indent: column))
                } else {
                    items.append(try scalarOrFlow(rest, line: line.number))
                    pos += 1
                }
            }
            if pos < lines.count, lines[pos].indent > indent {
                throw fail("unexpected indentation in a list", lines[pos].number)
            }
            return .array(items)
        }

        mutating func mapping(indent: Int) throws(SurgeryError) -> JSONValue {
            var object = JSONObject()
            while pos < lines.count, lines[pos].indent == indent {
                let line = lines[pos]
                if line.text == "-" || line.text.hasPrefix("- ") { throw fail("a list item where a 'key: value' was expected", line.number) }
                guard let (key, value) = splitKey(line.text) else {
                    throw fail("expected 'key: value', found '\(line.text)'", line.number)
                }
                if object[key] != nil { throw fail("duplicate key '\(key)'", line.number) }
                pos += 1
                if value.isEmpty {
                    if pos < lines.count, lines[pos].indent > indent {
                        object[key] = try block(indent: lines[pos].indent)
                    } else if pos < lines.count, lines[pos].indent == indent, lines[pos].text == "-" || lines[pos].text.hasPrefix("- ") {
                        object[key] = try sequence(indent: indent)
                    } else {
                        object[key] = .null
                    }
                } else {
                    object[key] = try scalarOrFlow(value, line: line.number)
                    if pos < lines.count, lines[pos].indent > indent {
                        throw fail("unexpected indentation after '\(key): \(value)' (multi-line values are not supported)", lines[pos].number)
                    }
                }
            }
            if pos < lines.count, lines[pos].indent > indent {
                throw fail("unexpected indentation", lines[pos].number)
            }
            return .object(object)
        }

        /// Splits `key: value` (or `key:`) outside quotes and brackets; nil when there is no such colon.
        func splitKey(_ s: String) -> (String, String)? {
            let chars = Array(s)
            if let f = chars.first, f == "[" || f == "{" { return nil }
            var quote: Character?
            var i = 0
            if let f = chars.first, f == "\"" || f == "'" {
                quote = f; i = 1
                while i < chars.count, chars[i] != f { i += 1 }
                quote = nil; i += 1
            }
            while i < chars.count {
                let c = chars[i]
                if quote == nil, c == ":", i + 1 == chars.count || chars[i + 1] == " " {
                    var key = String(chars[0..<i])
                    while key.last == " " { key.removeLast() }
                    if key.count >= 2, let f = key.first, (f == "\"" || f == "'"), key.last == f { key = String(key.dropFirst().dropLast()) }
                    let value = String(chars[(i + 1)...]).drop(while: { $0 == " " })
                    return (key, String(value))
                }
                i += 1
            }
            return nil
        }

        func scalarOrFlow(_ s: String, line: Int) throws(SurgeryError) -> JSONValue {
            var reader = FlowReader(chars: Array(s), line: line, path: path)
            let v = try reader.value(depth: 0)
            reader.skipSpaces()
            if reader.i < reader.chars.count { throw fail("unexpected text after a value: '\(String(reader.chars[reader.i...]))'", line) }
            return v
        }
    }

    /// Reads one-line flow values: `[…]`, `{…}`, quoted and plain scalars.
    struct FlowReader {
        let chars: [Character]
        let line: Int
        let path: String
        var i = 0

        init(chars: [Character], line: Int, path: String) { self.chars = chars; self.line = line; self.path = path }

        func fail(_ m: String) -> SurgeryError { .recipeSyntax(path: path, line: line, message: m) }

        mutating func skipSpaces() { while i < chars.count, chars[i] == " " { i += 1 } }

        mutating func value(depth: Int) throws(SurgeryError) -> JSONValue {
            skipSpaces()
            guard i < chars.count else { return .null }
            guard depth < 64 else { throw fail("nesting too deep") }
            switch chars[i] {
            case "[":
                i += 1
                var items: [JSONValue] = []
                skipSpaces()
                if i < chars.count, chars[i] == "]" { i += 1; return .array([]) }
                while true {
                    items.append(try value(depth: depth + 1))
                    skipSpaces()
                    guard i < chars.count else { throw fail("unterminated '[' (flow lists must fit on one line)") }
                    if chars[i] == "," { i += 1; continue }
                    if chars[i] == "]" { i += 1; return .array(items) }
                    throw fail("expected ',' or ']' in a flow list")
                }
            case "{":
                i += 1
                var object = JSONObject()
                skipSpaces()
                if i < chars.count, chars[i] == "}" { i += 1; return .object(object) }
                while true {
                    skipSpaces()
                    let keyValue = try plainOrQuoted(stopAtColon: true, inFlow: true)
                    skipSpaces()
                    guard i < chars.count, chars[i] == ":" else { throw fail("expected ':' in a flow mapping") }
                    i += 1
                    guard case .string(let key) = keyValue ?? .null else { throw fail("flow mapping keys must be strings") }
                    object[key] = try value(depth: depth + 1)
                    skipSpaces()
                    guard i < chars.count else { throw fail("unterminated '{'") }
                    if chars[i] == "," { i += 1; continue }
                    if chars[i] == "}" { i += 1; return .object(object) }
                    throw fail("expected ',' or '}' in a flow mapping")
                }
            case "&", "*", "!", "|", ">", "%", "@", "`":
                throw fail("YAML feature '\(chars[i])' (anchors, tags, block scalars) is not supported in recipes")
            default:
                return try plainOrQuoted(stopAtColon: false, inFlow: depth > 0) ?? .null
            }
        }

        /// A plain scalar ends at `,`, `]` or `}` only inside a flow collection (`path: ${WORK}/x,y` is one string).
        mutating func plainOrQuoted(stopAtColon: Bool, inFlow: Bool) throws(SurgeryError) -> JSONValue? {
            guard i < chars.count else { return nil }
            let q = chars[i]
            if q == "\"" || q == "'" {
                i += 1
                var out = ""
                while true {
                    guard i < chars.count else { throw fail("unterminated quoted string") }
                    let c = chars[i]
                    if q == "'" {
                        if c == "'" {
                            if i + 1 < chars.count, chars[i + 1] == "'" { out.append("'"); i += 2; continue }
                            i += 1; break
                        }
                        out.append(c); i += 1; continue
                    }
                    if c == "\"" { i += 1; break }
                    if c == "\\" {
                        guard i + 1 < chars.count else { throw fail("unterminated escape") }
                        let e = chars[i + 1]
                        switch e {
                        case "n": out.append("\n")
                        case "t": out.append("\t")
                        case "\\": out.append("\\")
                        case "\"": out.append("\"")
                        case "/": out.append("/")
                        case "0": out.append("\0")
                        default: throw fail("unsupported escape '\\\(e)'")
                        }
                        i += 2; continue
                    }
                    out.append(c); i += 1
                }
                return .string(out)
            }
            var s = ""
            while i < chars.count {
                let c = chars[i]
                if inFlow, c == "," || c == "]" || c == "}" { break }
                if stopAtColon, c == ":" { break }
                s.append(c); i += 1
            }
            while s.last == " " { s.removeLast() }
            return YAMLSubset.plainScalar(s)
        }
    }

    /// The typed value of a plain scalar.
    static func plainScalar(_ s: String) -> JSONValue {
        switch s {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        default: break
        }
        if let n = number(s) { return .number(n) }
        return .string(s)
    }

    static func number(_ s: String) -> JSONNumber? {
        var t = Substring(s)
        var negative = false
        if t.first == "+" || t.first == "-" { negative = t.first == "-"; t = t.dropFirst() }
        guard let f = t.first, f.isNumber || f == "." else { return nil }
        guard t.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "." || $0 == "e" || $0 == "E" || $0 == "+" || $0 == "-" || $0 == "_") }) else { return nil }
        let cleaned = t.replacingOccurrences("_", "")
        if cleaned.allSatisfy({ $0.isNumber }) {
            let digits = String(cleaned.drop(while: { $0 == "0" }))
            return JSONNumber(text: (negative ? "-" : "") + (digits.isEmpty ? "0" : digits))
        }
        guard let d = Double(cleaned), d.isFinite else { return nil }
        return JSONNumber(negative ? -d : d)
    }
}

extension Substring {
    func replacingOccurrences(_ a: Character, _ b: String) -> String {
        var out = ""
        for c in self { if c == a { out += b } else { out.append(c) } }
        return out
    }
}
