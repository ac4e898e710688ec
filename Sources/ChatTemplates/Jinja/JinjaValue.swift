import LEPJSON

/// A value inside the Jinja interpreter, with Python's semantics (truthiness, `str()`, `repr()`,
/// equality) because chat templates are written against Python's Jinja.
enum JinjaValue {
    /// A missing variable or member; the name says which (for error messages).
    case undefined(String)
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    /// Lists and tuples.
    case list([JinjaValue])
    case dict(JinjaDict)
    /// `namespace(...)`: the one mutable object, shared by reference.
    case namespace(JinjaNamespace)
    /// A global function (`raise_exception`, `namespace`, `range`, ...).
    case function(String)
    /// A method bound to its receiver (`s.strip`, `d.items`).
    case method(JinjaBox, String)

    var isUndefined: Bool { if case .undefined = self { true } else { false } }

    /// Python truthiness.
    var truthy: Bool {
        switch self {
        case .undefined, .none: false
        case .bool(let b): b
        case .int(let i): i != 0
        case .double(let d): d != 0
        case .string(let s): !s.isEmpty
        case .list(let l): !l.isEmpty
        case .dict(let d): !d.isEmpty
        case .namespace, .function, .method: true
        }
    }

    /// The Python type name, for error messages.
    var typeName: String {
        switch self {
        case .undefined: "undefined"
        case .none: "NoneType"
        case .bool: "bool"
        case .int: "int"
        case .double: "float"
        case .string: "str"
        case .list: "list"
        case .dict: "dict"
        case .namespace: "Namespace"
        case .function, .method: "function"
        }
    }

    /// Python `str(value)` (Jinja's output of `{{ value }}`; undefined prints as empty). Fails when
    /// the text would break ``JinjaLimits`` (a value nested too deep, or too long a text).
    var pythonStr: String {
        get throws {
            switch self {
            case .undefined: return ""
            case .string(let s): return s
            default: return try pythonRepr
            }
        }
    }

    /// Python `repr(value)`, bounded like ``pythonStr``.
    var pythonRepr: String {
        get throws {
            var out = ""
            try appendRepr(to: &out, depth: 0)
            return out
        }
    }

    /// How deep containers (lists, dicts, namespaces) nest inside this value, counted up to `cap`
    /// (a namespace that contains itself counts as `cap`); `visits` grows by the items looked at.
    func nesting(cap: Int, visits: inout Int) -> Int {
        func deepest(_ items: [JinjaValue], _ visits: inout Int) -> Int {
            visits += items.count
            var d = 0
            for item in items where d < cap - 1 {
                switch item {
                case .list, .dict, .namespace: d = max(d, item.nesting(cap: cap - 1, visits: &visits))
                default: break
                }
            }
            return d
        }
        guard cap > 0 else { return 0 }
        switch self {
        case .list(let l): return 1 + deepest(l, &visits)
        case .dict(let d): return 1 + deepest(d.pairs.map(\.value), &visits)
        case .namespace(let ns): return 1 + deepest(ns.values.pairs.map(\.value), &visits)
        default: return 0
        }
    }

    /// `repr(value)` for error messages (the type when it cannot be printed within the limits).
    var reprForError: String { (try? pythonRepr) ?? "a \(typeName)" }

    /// Appends `repr(value)` to `out`; `depth` is the nesting of containers around this value.
    private func appendRepr(to out: inout String, depth: Int) throws {
        guard depth < JinjaLimits.maxNesting else {
            throw JinjaFailure("a value nested more than \(JinjaLimits.maxNesting) deep cannot be printed (a template's limit)")
        }
        switch self {
        case .undefined: break
        case .none: out += "None"
        case .bool(let b): out += b ? "True" : "False"
        case .int(let i): out += String(i)
        case .double(let d): out += JinjaValue.pythonFloat(d)
        case .string(let s): out += JinjaValue.pythonStringRepr(s)
        case .list(let l):
            out += "["
            for (i, item) in l.enumerated() {
                if i > 0 { out += ", " }
                try item.appendRepr(to: &out, depth: depth + 1)
                try JinjaLimits.checkText(out.utf8.count, "the printed value")
            }
            out += "]"
        case .dict(let d):
            out += "{"
            for (i, p) in d.pairs.enumerated() {
                if i > 0 { out += ", " }
                out += JinjaValue.pythonStringRepr(p.key) + ": "
                try p.value.appendRepr(to: &out, depth: depth + 1)
                try JinjaLimits.checkText(out.utf8.count, "the printed value")
            }
            out += "}"
        case .namespace(let ns):
            out += "<Namespace "
            for (i, p) in ns.values.pairs.enumerated() {
                if i > 0 { out += ", " }
                out += p.key + "="
                try p.value.appendRepr(to: &out, depth: depth + 1)
                try JinjaLimits.checkText(out.utf8.count, "the printed value")
            }
            out += ">"
        case .function(let n): out += "<function \(n)>"
        case .method(_, let n): out += "<built-in method \(n)>"
        }
    }

    /// Python's `repr(float)`: shortest round-trip digits, exponent outside 1e-4 ..< 1e16.
    static func pythonFloat(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d < 0 ? "-inf" : "inf" }
        var s = d.description  // Swift prints the shortest round-trip digits too
        if let e = s.firstIndex(of: "e") {
            // Swift: 1e-05 / 1e+16 (same as Python); make sure a mantissa like "1.0e-05" reads "1e-05"
            let mantissa = s[..<e], exponent = s[s.index(after: e)...]
            var m = String(mantissa)
            if m.hasSuffix(".0") { m.removeLast(2) }
            var exp = String(exponent)
            let sign = exp.hasPrefix("-") ? "-" : "+"
            if exp.hasPrefix("-") || exp.hasPrefix("+") { exp.removeFirst() }
            if exp.count < 2 { exp = "0" + exp }
            s = m + "e" + sign + exp
        }
        return s
    }

    /// Python's `repr(str)`: single quotes unless the text has `'` and no `"`.
    static func pythonStringRepr(_ s: String) -> String {
        let useDouble = s.contains("'") && !s.contains("\"")
        let q: Character = useDouble ? "\"" : "'"
        var out = String(q)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if Character(scalar) == q { out += "\\" + String(q); continue }
                if scalar.value < 0x20 || scalar.value == 0x7F || (scalar.value >= 0x80 && scalar.value < 0xA0) {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\x" + String(repeating: "0", count: max(0, 2 - hex.count)) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out.append(q)
        return out
    }

    /// Converts JSON (messages, extra variables) to a Jinja value.
    init(json: JSONValue) {
        switch json {
        case .null: self = .none
        case .bool(let b): self = .bool(b)
        case .number(let n):
            if let i = n.int64, let v = Int(exactly: i) { self = .int(v) } else { self = .double(n.double) }
        case .string(let s): self = .string(s)
        case .array(let a): self = .list(a.map { JinjaValue(json: $0) })
        case .object(let o):
            var d = JinjaDict()
            for m in o.members { d[m.key] = JinjaValue(json: m.value) }
            self = .dict(d)
        }
    }
}

/// Holds a value behind a reference so that the recursive enum stays small.
final class JinjaBox {
    let value: JinjaValue
    init(_ value: JinjaValue) { self.value = value }
}

/// The mutable object behind `namespace()`.
final class JinjaNamespace {
    var values = JinjaDict()
}

/// An insertion-ordered dictionary with string keys (Python 3.7+ dict order).
struct JinjaDict {
    private(set) var keys: [String] = []
    private var storage: [String: JinjaValue] = [:]

    var isEmpty: Bool { keys.isEmpty }
    var count: Int { keys.count }

    subscript(key: String) -> JinjaValue? {
        get { storage[key] }
        set {
            if let newValue {
                if storage.updateValue(newValue, forKey: key) == nil { keys.append(key) }
            } else if storage.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    var pairs: [(key: String, value: JinjaValue)] { keys.compactMap { k in storage[k].map { (k, $0) } } }
}

extension JinjaValue {
    /// Python `==` (numbers compare across int/float/bool; containers compare structurally).
    static func pyEqual(_ a: JinjaValue, _ b: JinjaValue) -> Bool {
        switch (a, b) {
        case (.undefined, .undefined), (.none, .none): return true
        case (.string(let x), .string(let y)): return x.unicodeScalars.elementsEqual(y.unicodeScalars)
        case (.list(let x), .list(let y)): return x.count == y.count && zip(x, y).allSatisfy { pyEqual($0, $1) }
        case (.dict(let x), .dict(let y)):
            return x.count == y.count && x.pairs.allSatisfy { p in y[p.key].map { pyEqual(p.value, $0) } ?? false }
        case (.namespace(let x), .namespace(let y)): return x === y
        default:
            if let x = a.numeric, let y = b.numeric { return x == y }
            return false
        }
    }

    /// The value as a number for arithmetic and comparisons (bools count as 0/1, like Python).
    var numeric: Double? {
        switch self {
        case .int(let i): Double(i)
        case .double(let d): d
        case .bool(let b): b ? 1 : 0
        default: nil
        }
    }

    /// The value as an integer (ints and bools only).
    var integer: Int? {
        switch self {
        case .int(let i): i
        case .bool(let b): b ? 1 : 0
        default: nil
        }
    }
}

/// Python's `repr` of a float (shortest round-trip digits, `1e-05`, `inf`, `nan`), as Jinja prints it.
package func pythonFloatText(_ d: Double) -> String { JinjaValue.pythonFloat(d) }
