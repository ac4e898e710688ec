/// Why a JSON text was rejected, with the byte offset of the problem.
public struct JSONParseError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Byte offset into the input where the problem was found.
    public let offset: Int
    /// What was wrong.
    public let message: String
    /// For a duplicate key: the key, and the nesting depth of its object (1 = the top-level object).
    public var duplicateKey: (key: String, depth: Int)? { duplicate.map { ($0.key, $0.depth) } }
    private let duplicate: Duplicate?

    private struct Duplicate: Equatable, Sendable { let key: String; let depth: Int }

    init(offset: Int, message: String, duplicateKey: String? = nil, depth: Int = 0) {
        self.offset = offset
        self.message = message
        self.duplicate = duplicateKey.map { Duplicate(key: $0, depth: depth) }
    }

    /// "MESSAGE at byte OFFSET".
    public var description: String { "\(message) at byte \(offset)" }
}

/// A strict RFC 8259 JSON parser over UTF-8 bytes.
///
/// Strict means: one value with only whitespace around it, no comments, no trailing commas, no
/// NaN/Infinity, valid UTF-8 and valid escapes (unpaired surrogates rejected), and, unless allowed,
/// no duplicate object keys. Nesting is limited so hostile input cannot overflow the stack.
public struct JSONParser {
    /// What to do with a key that appears twice in one object.
    public enum DuplicateKeys: Sendable { case reject, lastWins }

    /// Maximum nesting depth of arrays and objects.
    public static let maxDepth = 512

    /// Parses `bytes` as one JSON document.
    public static func parse(_ bytes: UnsafeRawBufferPointer, duplicateKeys: DuplicateKeys = .reject) throws(JSONParseError) -> JSONValue {
        var parser = JSONParser(bytes: bytes, duplicateKeys: duplicateKeys)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        if parser.pos != bytes.count { throw parser.error("unexpected data after the JSON value") }
        return value
    }

    /// Parses a byte array as one JSON document.
    public static func parse(_ bytes: [UInt8], duplicateKeys: DuplicateKeys = .reject) throws(JSONParseError) -> JSONValue {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(JSONParseError) -> JSONValue in try parse(raw, duplicateKeys: duplicateKeys) }
        }
        return try result.get()
    }

    /// Parses a string as one JSON document.
    public static func parse(_ text: String, duplicateKeys: DuplicateKeys = .reject) throws(JSONParseError) -> JSONValue {
        try parse(Array(text.utf8), duplicateKeys: duplicateKeys)
    }

    private let bytes: UnsafeRawBufferPointer
    private let duplicateKeys: DuplicateKeys
    private var pos = 0

    private init(bytes: UnsafeRawBufferPointer, duplicateKeys: DuplicateKeys) {
        self.bytes = bytes
        self.duplicateKeys = duplicateKeys
    }

    private func error(_ message: String, at offset: Int? = nil) -> JSONParseError {
        JSONParseError(offset: offset ?? pos, message: message)
    }

    private var atEnd: Bool { pos >= bytes.count }
    private func peek() -> UInt8? { pos < bytes.count ? bytes[pos] : nil }

    private mutating func skipWhitespace() {
        while pos < bytes.count {
            switch bytes[pos] {
            case 0x20, 0x09, 0x0A, 0x0D: pos += 1
            default: return
            }
        }
    }

    private mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
        guard let c = peek() else { throw error("unexpected end of input, expected a value") }
        switch c {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw error("unexpected character '\(printable(c))', expected a value")
        }
    }

    private func printable(_ c: UInt8) -> String {
        (0x20..<0x7F).contains(c) ? String(UnicodeScalar(c)) : "\\x" + String(c, radix: 16)
    }

    private mutating func expectLiteral(_ word: StaticString) throws(JSONParseError) {
        let start = pos
        let n = word.utf8CodeUnitCount
        guard pos + n <= bytes.count else { throw error("invalid literal", at: start) }
        let w = word.utf8Start
        for i in 0..<n where bytes[pos + i] != w[i] { throw error("invalid literal", at: start) }
        pos += n
    }

    private mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONValue {
        if depth > JSONParser.maxDepth { throw error("nesting deeper than \(JSONParser.maxDepth)") }
        pos += 1  // {
        var object = JSONObject()
        skipWhitespace()
        if peek() == UInt8(ascii: "}") { pos += 1; return .object(object) }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let keyOffset = pos
            let key = try parseString()
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else { throw error("expected ':' after key") }
            pos += 1
            skipWhitespace()
            let value = try parseValue(depth: depth)
            if object[key] != nil, duplicateKeys == .reject {
                throw JSONParseError(offset: keyOffset, message: "duplicate key \"\(key)\"", duplicateKey: key, depth: depth)
            }
            object[key] = value
            skipWhitespace()
            guard let c = peek() else { throw error("unexpected end of input in object") }
            pos += 1
            if c == UInt8(ascii: "}") { return .object(object) }
            if c != UInt8(ascii: ",") { throw error("expected ',' or '}' in object", at: pos - 1) }
        }
    }

    private mutating func parseArray(depth: Int) throws(JSONParseError) -> JSONValue {
        if depth > JSONParser.maxDepth { throw error("nesting deeper than \(JSONParser.maxDepth)") }
        pos += 1  // [
        var items: [JSONValue] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") { pos += 1; return .array(items) }
        while true {
            skipWhitespace()
            items.append(try parseValue(depth: depth))
            skipWhitespace()
            guard let c = peek() else { throw error("unexpected end of input in array") }
            pos += 1
            if c == UInt8(ascii: "]") { return .array(items) }
            if c != UInt8(ascii: ",") { throw error("expected ',' or ']' in array", at: pos - 1) }
        }
    }

    private mutating func parseNumber() throws(JSONParseError) -> JSONNumber {
        let start = pos
        if peek() == UInt8(ascii: "-") { pos += 1 }
        guard let first = peek(), isDigit(first) else { throw error("invalid number", at: start) }
        if first == UInt8(ascii: "0") {
            pos += 1
            if let c = peek(), isDigit(c) { throw error("leading zero in number", at: start) }
        } else {
            while let c = peek(), isDigit(c) { pos += 1 }
        }
        if peek() == UInt8(ascii: ".") {
            pos += 1
            guard let c = peek(), isDigit(c) else { throw error("invalid fraction in number", at: start) }
            while let c = peek(), isDigit(c) { pos += 1 }
        }
        if let e = peek(), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            pos += 1
            if let s = peek(), s == UInt8(ascii: "+") || s == UInt8(ascii: "-") { pos += 1 }
            guard let c = peek(), isDigit(c) else { throw error("invalid exponent in number", at: start) }
            while let c = peek(), isDigit(c) { pos += 1 }
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<pos]), as: UTF8.self)
        return JSONNumber(text: text)
    }

    @inline(__always) private func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

    private mutating func parseString() throws(JSONParseError) -> String {
        let start = pos
        pos += 1  // opening quote
        // Fast path: no escapes, ASCII or valid UTF-8 copied in one go.
        var runStart = pos
        var out: [UInt8] = []
        var usedBuffer = false
        while true {
            guard pos < bytes.count else { throw error("unterminated string", at: start) }
            let c = bytes[pos]
            if c == UInt8(ascii: "\"") {
                let run = UnsafeRawBufferPointer(rebasing: bytes[runStart..<pos])
                pos += 1
                if !usedBuffer { return try validatedString(run, at: runStart) }
                out.append(contentsOf: run)
                return try validatedString(out, at: start)
            } else if c == UInt8(ascii: "\\") {
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart..<pos]))
                usedBuffer = true
                try parseEscape(into: &out)
                runStart = pos
            } else if c < 0x20 {
                throw error("unescaped control character in string")
            } else {
                pos += 1
            }
        }
    }

    private func validatedString<C: Collection>(_ raw: C, at offset: Int) throws(JSONParseError) -> String where C.Element == UInt8 {
        guard let s = String(validating: raw, as: UTF8.self) else { throw error("invalid UTF-8 in string", at: offset) }
        return s
    }

    private mutating func parseHex4() throws(JSONParseError) -> UInt32 {
        guard pos + 4 <= bytes.count else { throw error("truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[pos]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: throw error("invalid hex digit in \\u escape")
            }
            v = v << 4 | d
            pos += 1
        }
        return v
    }

    private mutating func parseEscape(into out: inout [UInt8]) throws(JSONParseError) {
        let escapeStart = pos
        pos += 1  // backslash
        guard let c = peek() else { throw error("unterminated escape") }
        pos += 1
        switch c {
        case UInt8(ascii: "\""): out.append(0x22)
        case UInt8(ascii: "\\"): out.append(0x5C)
        case UInt8(ascii: "/"): out.append(0x2F)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try parseHex4()
            if (0xD800...0xDBFF).contains(scalar) {
                guard pos + 6 <= bytes.count, bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u") else {
                    throw error("unpaired surrogate in \\u escape", at: escapeStart)
                }
                pos += 2
                let low = try parseHex4()
                guard (0xDC00...0xDFFF).contains(low) else { throw error("unpaired surrogate in \\u escape", at: escapeStart) }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalar) {
                throw error("unpaired surrogate in \\u escape", at: escapeStart)
            }
            guard let u = Unicode.Scalar(scalar) else { throw error("invalid \\u escape", at: escapeStart) }
            out.append(contentsOf: UTF8.encode(u)!)
        default:
            throw error("invalid escape '\\\(printable(c))'", at: escapeStart)
        }
    }
}
