import LEPJSON
import Surgery

/// Turns recipe text (lep's JSON with comments, or mergekit's YAML) into a `JSONValue` tree.
///
/// JSON recipes may contain `//` line comments and `/* */` block comments; they are replaced by
/// spaces (so byte offsets, hence line numbers, are kept) and the result goes through the strict
/// parser. The strict parser itself is unchanged: comments are only accepted here.
public enum RecipeText {
    /// Parses `text`; a text whose first non-blank, non-comment character is `{` is JSON, else YAML.
    public static func parse(_ text: String, path: String) throws(SurgeryError) -> JSONValue {
        let bytes = Array(text.utf8)
        if firstSignificant(bytes) == UInt8(ascii: "{") { return try parseJSON(bytes, path: path) }
        return try YAMLSubset.parse(text, path: path)
    }

    static func firstSignificant(_ b: [UInt8]) -> UInt8? {
        var i = 0
        while i < b.count {
            let c = b[i]
            if c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { i += 1; continue }
            if c == UInt8(ascii: "#") { while i < b.count && b[i] != 0x0A { i += 1 }; continue }
            if c == UInt8(ascii: "/"), i + 1 < b.count, b[i + 1] == UInt8(ascii: "/") { while i < b.count && b[i] != 0x0A { i += 1 }; continue }
            if c == UInt8(ascii: "/"), i + 1 < b.count, b[i + 1] == UInt8(ascii: "*") {
                i += 2
                while i + 1 < b.count && !(b[i] == UInt8(ascii: "*") && b[i + 1] == UInt8(ascii: "/")) { i += 1 }
                i += 2; continue
            }
            return c
        }
        return nil
    }

    /// JSON with comments: comments become spaces, then the strict parser runs.
    public static func parseJSON(_ input: [UInt8], path: String) throws(SurgeryError) -> JSONValue {
        let b = try stripComments(input, path: path)
        do {
            return try JSONParser.parse(b)
        } catch {
            throw .recipeSyntax(path: path, line: line(of: error.offset, in: b), message: error.message)
        }
    }

    /// Replaces `//…` and `/*…*/` outside strings with spaces (newlines kept).
    public static func stripComments(_ input: [UInt8], path: String) throws(SurgeryError) -> [UInt8] {
        var b = input
        var i = 0
        var inString = false
        while i < b.count {
            let c = b[i]
            if inString {
                if c == UInt8(ascii: "\\") { i += 2; continue }
                if c == UInt8(ascii: "\"") { inString = false }
                i += 1
                continue
            }
            if c == UInt8(ascii: "\"") { inString = true; i += 1; continue }
            if c == UInt8(ascii: "/"), i + 1 < b.count, b[i + 1] == UInt8(ascii: "/") {
                while i < b.count && b[i] != 0x0A { b[i] = 0x20; i += 1 }
                continue
            }
            if c == UInt8(ascii: "/"), i + 1 < b.count, b[i + 1] == UInt8(ascii: "*") {
                let start = i
                b[i] = 0x20; b[i + 1] = 0x20; i += 2
                var closed = false
                while i < b.count {
                    if b[i] == UInt8(ascii: "*"), i + 1 < b.count, b[i + 1] == UInt8(ascii: "/") {
                        b[i] = 0x20; b[i + 1] = 0x20; i += 2; closed = true; break
                    }
                    if b[i] != 0x0A { b[i] = 0x20 }
                    i += 1
                }
                if !closed { throw .recipeSyntax(path: path, line: line(of: start, in: input), message: "unterminated /* comment") }
                continue
            }
            i += 1
        }
        return b
    }

    static func line(of offset: Int, in b: [UInt8]) -> Int {
        var n = 1
        for k in 0..<min(offset, b.count) where b[k] == 0x0A { n += 1 }
        return n
    }
}
