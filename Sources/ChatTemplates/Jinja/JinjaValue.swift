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

    /// Python `str(value)` (Jinja's output of `{{ value }}`; undefined prints as empty).
    var pythonStr: String {
        switch self {
        case .undefined: ""
        case .string(let s): s
        default: pythonRepr
        }
    }

    /// Python `repr(value)`.
    var pythonRepr: String {
        switch self {
        case .undefined: ""
        case .none: "None"
        case .bool(let b): b ? "True" : "False"
        case .int(let i): String(i)
        case .double(let d): JinjaValue.pythonFloat(d)
        case .string(let s): JinjaValue.pythonStringRepr(s)
        case .list(let l): "[" + l.map(\.pythonRepr).joined(separator: ", ") + "]"
        case .dict(let d): "{" + d.pairs.map { JinjaValue.pythonStringRepr($0.key) + ": " + $0.value.pythonRepr }.joined(separator: ", ") + "}"
        case .namespace(let ns): "<Namespace " + ns.values.pairs.map { "\($0.key)=\($0.value.pythonRepr)" }.joined(separator: ", ") + ">"
        case .function(let n): "<function \(n)>"
        case .method(_, let n): "<built-in method \(n)>"
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
