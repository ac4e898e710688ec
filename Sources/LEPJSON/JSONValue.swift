/// A JSON document tree that keeps object key order and exact number text.
///
/// lep reads safetensors headers, `config.json`, indexes and tokenizer files with it. Key order is
/// kept so that files lep rewrites stay diff-friendly; number text is kept so that integers beyond
/// 2^53 and floats round-trip exactly.
public enum JSONValue: Equatable, Sendable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number, with its text as written.
    case number(JSONNumber)
    /// A string, escapes decoded.
    case string(String)
    /// An array, in order.
    case array([JSONValue])
    /// An object, keys in document order.
    case object(JSONObject)
}

/// A JSON number, kept as its source text with parsed views.
public struct JSONNumber: Equatable, Sendable, CustomStringConvertible {
    /// The number exactly as written (or as lep formatted it).
    public let text: String
    /// True when the text has no fraction and no exponent.
    public let isIntegerLiteral: Bool

    /// Creates a number from its JSON text (assumed valid JSON number syntax).
    public init(text: String) {
        self.text = text
        self.isIntegerLiteral = !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" })
    }

    /// An integer number.
    public init<I: BinaryInteger>(_ value: I) { self.init(text: String(value)) }

    /// A floating-point number, written with the shortest text that round-trips.
    public init(_ value: Double) {
        if value.isFinite, value == value.rounded(), abs(value) < 1e16 {
            self.init(text: String(Int64(value)) + ".0")
        } else {
            self.init(text: "\(value)")
        }
    }

    /// The value as a signed 64-bit integer, when it is an integer literal in range.
    public var int64: Int64? { isIntegerLiteral ? Int64(text) : nil }
    /// The value as an unsigned 64-bit integer, when it is an integer literal in range.
    public var uint64: UInt64? { isIntegerLiteral ? UInt64(text) : nil }
    /// The value as a Double (nearest).
    public var double: Double { Double(text) ?? .nan }
    /// The number's text, unchanged.
    public var description: String { text }
}

/// A JSON object: string keys in document order with unique names.
public struct JSONObject: Equatable, Sendable {
    /// Keys in document (insertion) order.
    public private(set) var keys: [String] = []
    private var storage: [String: JSONValue] = [:]

    /// An empty object.
    public init() {}

    /// An object from ordered pairs; a later duplicate replaces the earlier value.
    public init(_ pairs: [(String, JSONValue)]) {
        for (k, v) in pairs { self[k] = v }
    }

    /// Number of members.
    public var count: Int { keys.count }
    /// True when the object has no member.
    public var isEmpty: Bool { keys.isEmpty }

    /// The member named `key`; setting nil removes it, setting a new key appends it.
    public subscript(key: String) -> JSONValue? {
        get { storage[key] }
        set {
            if let newValue {
                if storage.updateValue(newValue, forKey: key) == nil { keys.append(key) }
            } else if storage.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    /// Members in order.
    public var members: [(key: String, value: JSONValue)] { keys.map { ($0, storage[$0]!) } }

    /// Equal when both have the same keys in the same order with equal values.
    public static func == (a: JSONObject, b: JSONObject) -> Bool { a.keys == b.keys && a.storage == b.storage }
}

extension JSONValue {
    /// The object, if this is an object.
    public var object: JSONObject? { if case .object(let o) = self { o } else { nil } }
    /// The array, if this is an array.
    public var array: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
    /// The string, if this is a string.
    public var string: String? { if case .string(let s) = self { s } else { nil } }
    /// The number, if this is a number.
    public var number: JSONNumber? { if case .number(let n) = self { n } else { nil } }
    /// The Boolean, if this is a Boolean.
    public var bool: Bool? { if case .bool(let b) = self { b } else { nil } }
    /// True for `null`.
    public var isNull: Bool { self == .null }
    /// A member of an object (nil for other values).
    public subscript(key: String) -> JSONValue? { object?[key] }

    /// A short name of the value's kind for error messages ("string", "array", ...).
    public var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number(let n): n.isIntegerLiteral ? "integer" : "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}
