/// Jinja lexer: splits a template into text and tags, applies whitespace control, and tokenises
/// the expressions inside tags.
///
/// Whitespace rules follow Jinja 2/3 as configured by `transformers` for chat templates
/// (`trim_blocks=True`, `lstrip_blocks=True`):
/// - `{%-`, `{{-`, `{#-` strip all whitespace before the tag; `-%}`, `-}}`, `-#}` strip all after it;
/// - `trim_blocks`: the first newline after a block or comment tag is removed;
/// - `lstrip_blocks`: spaces and tabs from the start of a line up to a block or comment tag are removed;
/// - `{%+` / `+%}` disable the last two.

/// A 1-based position in the template source (column counts Unicode scalars).
public struct SourceLocation: Equatable, Sendable, CustomStringConvertible {
    /// 1-based line.
    public var line: Int
    /// 1-based column, in Unicode scalars.
    public var column: Int
    /// A position; both values are 1-based.
    public init(line: Int, column: Int) { self.line = line; self.column = column }
    /// "line L, column C", as used in error messages.
    public var description: String { "line \(line), column \(column)" }
}

enum JinjaTokenKind: Equatable {
    case text(String)
    case variableBegin, variableEnd, blockBegin, blockEnd
    case name(String)
    case string(String)
    case integer(Int)
    case float(Double)
    case op(String)
    case eof
}

struct JinjaToken: Equatable {
    var kind: JinjaTokenKind
    var loc: SourceLocation
}

struct JinjaLexer {
    let name: String
    let src: [UInt8]
    private var lineStarts: [Int] = [0]

    init(source: String, name: String) {
        self.name = name
        self.src = Array(source.utf8)
        for (i, b) in src.enumerated() where b == 0x0A { lineStarts.append(i + 1) }
    }

    func location(_ offset: Int) -> SourceLocation {
        var lo = 0, hi = lineStarts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if lineStarts[mid] <= offset { lo = mid } else { hi = mid - 1 }
        }
        let start = lineStarts[lo]
        let end = min(max(offset, start), src.count)
        let column = String(decoding: src[start..<end], as: UTF8.self).unicodeScalars.count + 1
        return SourceLocation(line: lo + 1, column: column)
    }

    func syntax(_ offset: Int, _ message: String) -> ChatTemplateError {
        let l = location(offset)
        return .templateSyntax(template: name, line: l.line, column: l.column, message: message)
    }

    private enum TagKind { case variable, block, comment }

    private enum Segment {
        case text(start: Int, end: Int)
        case rawText(String)
        case tag(kind: TagKind, start: Int, innerStart: Int, innerEnd: Int, minusLeft: Bool, plusLeft: Bool, minusRight: Bool, plusRight: Bool)
    }

    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D || b == 0x0C || b == 0x0B }

    /// Finds the end of a tag starting its contents at `from`, skipping string literals and nested
    /// brackets; returns the offset of the closing delimiter's first byte.
    private func findTagEnd(from: Int, closer: UInt8, tagStart: Int) throws -> Int {
        var i = from
        var depth = 0
        var quote: UInt8? = nil
        while i < src.count {
            let b = src[i]
            if let q = quote {
                if b == 0x5C { i += 2; continue }
                if b == q { quote = nil }
                i += 1
                continue
            }
            switch b {
            case 0x27, 0x22: quote = b
            case UInt8(ascii: "("), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: ")"), UInt8(ascii: "]"): depth = max(0, depth - 1)
            case UInt8(ascii: "{"): depth += 1
            case UInt8(ascii: "}"):
                if closer == UInt8(ascii: "}") && depth == 0 && i + 1 < src.count && src[i + 1] == UInt8(ascii: "}") { return i }
                depth = max(0, depth - 1)
            case UInt8(ascii: "%"):
                if closer == UInt8(ascii: "%") && depth == 0 && i + 1 < src.count && src[i + 1] == UInt8(ascii: "}") { return i }
            default: break
            }
            i += 1
        }
        throw syntax(tagStart, closer == UInt8(ascii: "}") ? "unclosed '{{' (no matching '}}')" : "unclosed '{%' (no matching '%}')")
    }

    private func find(_ needle: [UInt8], from: Int) -> Int? {
        guard needle.count <= src.count else { return nil }
        var i = from
        while i + needle.count <= src.count {
            if src[i] == needle[0] && Array(src[i..<(i + needle.count)]) == needle { return i }
            i += 1
        }
        return nil
    }

    private func segments() throws -> [Segment] {
        var out: [Segment] = []
        var textStart = 0
        var i = 0
        let n = src.count
        while i < n {
            guard src[i] == UInt8(ascii: "{"), i + 1 < n else { i += 1; continue }
            let second = src[i + 1]
            let kind: TagKind
            switch second {
            case UInt8(ascii: "{"): kind = .variable
            case UInt8(ascii: "%"): kind = .block
            case UInt8(ascii: "#"): kind = .comment
            default: i += 1; continue
            }
            if textStart < i { out.append(.text(start: textStart, end: i)) }
            var j = i + 2
            var minusLeft = false, plusLeft = false
            if j < n && src[j] == UInt8(ascii: "-") { minusLeft = true; j += 1 } else if j < n && src[j] == UInt8(ascii: "+") { plusLeft = true; j += 1 }
            let closeStart: Int
            switch kind {
            case .comment:
                guard let e = find(Array("#}".utf8), from: j) else { throw syntax(i, "unclosed comment '{#' (no matching '#}')") }
                closeStart = e
            case .variable: closeStart = try findTagEnd(from: j, closer: UInt8(ascii: "}"), tagStart: i)
            case .block: closeStart = try findTagEnd(from: j, closer: UInt8(ascii: "%"), tagStart: i)
            }
            var innerEnd = closeStart
            var minusRight = false, plusRight = false
            if innerEnd > j && src[innerEnd - 1] == UInt8(ascii: "-") {
                minusRight = true; innerEnd -= 1
            } else if innerEnd > j && src[innerEnd - 1] == UInt8(ascii: "+") {
                plusRight = true; innerEnd -= 1
            }
            out.append(.tag(kind: kind, start: i, innerStart: j, innerEnd: innerEnd, minusLeft: minusLeft, plusLeft: plusLeft, minusRight: minusRight, plusRight: plusRight))
            i = closeStart + 2
            textStart = i
            // {% raw %} ... {% endraw %}: the content is literal text.
            if kind == .block {
                let inner = String(decoding: src[j..<innerEnd], as: UTF8.self).trimmingASCIIWhitespace()
                if inner == "raw" {
                    var k = i
                    var found: (contentEnd: Int, tagStart: Int, innerStart: Int, innerEnd: Int, close: Int, minusL: Bool, minusR: Bool, plusR: Bool)? = nil
                    while let open = find(Array("{%".utf8), from: k) {
                        var a = open + 2
                        var ml = false
                        if a < n && (src[a] == UInt8(ascii: "-") || src[a] == UInt8(ascii: "+")) { ml = src[a] == UInt8(ascii: "-"); a += 1 }
                        guard let close = find(Array("%}".utf8), from: a) else { break }
                        var b = close
                        var mr = false, pr = false
                        if b > a && src[b - 1] == UInt8(ascii: "-") { mr = true; b -= 1 } else if b > a && src[b - 1] == UInt8(ascii: "+") { pr = true; b -= 1 }
                        if String(decoding: src[a..<b], as: UTF8.self).trimmingASCIIWhitespace() == "endraw" {
                            found = (open, open, a, b, close, ml, mr, pr)
                            break
                        }
                        k = open + 2
                    }
                    guard let f = found else { throw syntax(i, "'{% raw %}' without '{% endraw %}'") }
                    var content = Array(src[i..<f.contentEnd])
                    if minusRight { while let first = content.first, Self.isSpace(first) { content.removeFirst() } }
                    if f.minusL { while let last = content.last, Self.isSpace(last) { content.removeLast() } }
                    // The opening tag stays as an (ignored) tag so the text before it is trimmed as usual.
                    out[out.count - 1] = .tag(kind: .comment, start: i - 2, innerStart: j, innerEnd: j, minusLeft: minusLeft, plusLeft: plusLeft, minusRight: false, plusRight: true)
                    out.append(.rawText(String(decoding: content, as: UTF8.self)))
                    // The closing tag behaves like any block tag towards the text after it.
                    out.append(.tag(kind: .comment, start: f.tagStart, innerStart: f.innerStart, innerEnd: f.innerStart, minusLeft: false, plusLeft: true, minusRight: f.minusR, plusRight: f.plusR))
                    i = f.close + 2
                    textStart = i
                }
            }
        }
        if textStart < n { out.append(.text(start: textStart, end: n)) }
        return out
    }

    /// The token stream of the whole template.
    func tokenize() throws -> [JinjaToken] {
        let segs = try segments()
        var tokens: [JinjaToken] = []
        for (index, seg) in segs.enumerated() {
            switch seg {
            case .rawText(let s):
                if !s.isEmpty { tokens.append(JinjaToken(kind: .text(s), loc: SourceLocation(line: 0, column: 0))) }
            case .text(var start, var end):
                let textLoc = location(start)
                if index > 0, case .tag(let kind, _, _, _, _, _, let minusRight, let plusRight) = segs[index - 1] {
                    if minusRight {
                        while start < end && Self.isSpace(src[start]) { start += 1 }
                    } else if kind != .variable && !plusRight && start < end && src[start] == 0x0A {
                        start += 1  // trim_blocks
                    }
                }
                if index + 1 < segs.count, case .tag(let kind, _, _, _, let minusLeft, let plusLeft, _, _) = segs[index + 1] {
                    if minusLeft {
                        while end > start && Self.isSpace(src[end - 1]) { end -= 1 }
                    } else if kind != .variable && !plusLeft {
                        // lstrip_blocks
                        var lpos = end
                        while lpos > start && src[lpos - 1] != 0x0A { lpos -= 1 }
                        let lineStarting = lpos > start || start == 0 || src[start - 1] == 0x0A
                        if lineStarting && lpos < end && src[lpos..<end].allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0C || $0 == 0x0B || $0 == 0x0D }) {
                            end = lpos
                        }
                    }
                }
                if start < end {
                    var text = String(decoding: src[start..<end], as: UTF8.self)
                    if text.utf8.contains(0x0D) { text = text.normalizingNewlines() }
                    tokens.append(JinjaToken(kind: .text(text), loc: textLoc))
                }
            case .tag(let kind, let start, let innerStart, let innerEnd, _, _, _, _):
                let loc = location(start)
                switch kind {
                case .comment: continue
                case .variable:
                    tokens.append(JinjaToken(kind: .variableBegin, loc: loc))
                    try tokenizeExpression(innerStart, innerEnd, into: &tokens)
                    tokens.append(JinjaToken(kind: .variableEnd, loc: location(innerEnd)))
                case .block:
                    tokens.append(JinjaToken(kind: .blockBegin, loc: loc))
                    try tokenizeExpression(innerStart, innerEnd, into: &tokens)
                    tokens.append(JinjaToken(kind: .blockEnd, loc: location(innerEnd)))
                }
            }
        }
        tokens.append(JinjaToken(kind: .eof, loc: location(src.count)))
        return tokens
    }

    private static let operators: [String] = ["//", "**", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<", ">", "=", "(", ")", "[", "]", "{", "}", ".", ",", ":", "|"]

    private func tokenizeExpression(_ from: Int, _ to: Int, into tokens: inout [JinjaToken]) throws {
        var i = from
        while i < to {
            let b = src[i]
            if Self.isSpace(b) { i += 1; continue }
            let loc = location(i)
            if b == UInt8(ascii: "_") || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) {
                var j = i + 1
                while j < to, src[j] == UInt8(ascii: "_") || (src[j] >= 0x41 && src[j] <= 0x5A) || (src[j] >= 0x61 && src[j] <= 0x7A) || (src[j] >= 0x30 && src[j] <= 0x39) { j += 1 }
                tokens.append(JinjaToken(kind: .name(String(decoding: src[i..<j], as: UTF8.self)), loc: loc))
                i = j
            } else if b >= 0x30 && b <= 0x39 {
                var j = i
                var isFloat = false
                while j < to, (src[j] >= 0x30 && src[j] <= 0x39) || src[j] == UInt8(ascii: "_") { j += 1 }
                if j + 1 < to, src[j] == UInt8(ascii: "."), src[j + 1] >= 0x30 && src[j + 1] <= 0x39 {
                    isFloat = true
                    j += 1
                    while j < to, (src[j] >= 0x30 && src[j] <= 0x39) || src[j] == UInt8(ascii: "_") { j += 1 }
                }
                if j < to, src[j] == UInt8(ascii: "e") || src[j] == UInt8(ascii: "E") {
                    var k = j + 1
                    if k < to, src[k] == UInt8(ascii: "+") || src[k] == UInt8(ascii: "-") { k += 1 }
                    if k < to, src[k] >= 0x30 && src[k] <= 0x39 {
                        isFloat = true
                        j = k
                        while j < to, src[j] >= 0x30 && src[j] <= 0x39 { j += 1 }
                    }
                }
                let text = String(decoding: src[i..<j], as: UTF8.self).filter { $0 != "_" }
                if isFloat {
                    guard let d = Double(text) else { throw syntax(i, "bad number '\(text)'") }
                    tokens.append(JinjaToken(kind: .float(d), loc: loc))
                } else {
                    guard let v = Int(text) else { throw syntax(i, "integer '\(text)' out of range") }
                    tokens.append(JinjaToken(kind: .integer(v), loc: loc))
                }
                i = j
            } else if b == 0x27 || b == 0x22 {
                var bytes: [UInt8] = []
                var j = i + 1
                var closed = false
                while j < to {
                    let c = src[j]
                    if c == b { closed = true; j += 1; break }
                    if c == 0x5C, j + 1 < to {
                        let e = src[j + 1]
                        j += 2
                        switch e {
                        case UInt8(ascii: "n"): bytes.append(0x0A)
                        case UInt8(ascii: "t"): bytes.append(0x09)
                        case UInt8(ascii: "r"): bytes.append(0x0D)
                        case UInt8(ascii: "0"): bytes.append(0x00)
                        case UInt8(ascii: "b"): bytes.append(0x08)
                        case UInt8(ascii: "f"): bytes.append(0x0C)
                        case UInt8(ascii: "v"): bytes.append(0x0B)
                        case UInt8(ascii: "a"): bytes.append(0x07)
                        case 0x5C, 0x27, 0x22: bytes.append(e)
                        case 0x0A: break  // line continuation
                        case UInt8(ascii: "u"), UInt8(ascii: "x"), UInt8(ascii: "U"):
                            let count = e == UInt8(ascii: "x") ? 2 : (e == UInt8(ascii: "u") ? 4 : 8)
                            guard j + count <= to, let v = UInt32(String(decoding: src[j..<(j + count)], as: UTF8.self), radix: 16),
                                let scalar = Unicode.Scalar(v)
                            else { throw syntax(j - 2, "bad escape in string literal") }
                            bytes.append(contentsOf: Array(String(Character(scalar)).utf8))
                            j += count
                        default: bytes.append(0x5C); bytes.append(e)  // Python keeps unknown escapes
                        }
                        continue
                    }
                    bytes.append(c)
                    j += 1
                }
                guard closed else { throw syntax(i, "unterminated string literal") }
                tokens.append(JinjaToken(kind: .string(String(decoding: bytes, as: UTF8.self)), loc: loc))
                i = j
            } else {
                var matched: String? = nil
                for op in Self.operators {
                    let u = Array(op.utf8)
                    if i + u.count <= to && Array(src[i..<(i + u.count)]) == u { matched = op; break }
                }
                guard let op = matched else {
                    let scalar = String(decoding: src[i..<min(to, i + 4)], as: UTF8.self).unicodeScalars.first.map { String($0) } ?? "?"
                    throw syntax(i, "unexpected character '\(scalar)'")
                }
                tokens.append(JinjaToken(kind: .op(op), loc: loc))
                i += op.utf8.count
            }
        }
    }
}

extension String {
    /// The string without leading and trailing ASCII whitespace.
    package func trimmingASCIIWhitespace() -> String {
        var u = Substring(self).utf8[...]
        while let f = u.first, f == 0x20 || f == 0x09 || f == 0x0A || f == 0x0D { u = u.dropFirst() }
        while let l = u.last, l == 0x20 || l == 0x09 || l == 0x0A || l == 0x0D { u = u.dropLast() }
        return String(decoding: Array(u), as: UTF8.self)
    }

    /// `\r\n` and `\r` replaced by `\n` (Jinja normalises newlines in template text).
    func normalizingNewlines() -> String {
        var out: [UInt8] = []
        let u = Array(utf8)
        var i = 0
        while i < u.count {
            if u[i] == 0x0D {
                out.append(0x0A)
                if i + 1 < u.count && u[i + 1] == 0x0A { i += 1 }
            } else {
                out.append(u[i])
            }
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}
