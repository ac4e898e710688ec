/// A GGUF metadata value.
public indirect enum GGUFValue: Equatable, Sendable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case uint64(UInt64), int64(Int64), float32(Float), float64(Double), bool(Bool), string(String)
    /// An array: its element type and values (all of that type).
    case array(GGUFValueType, [GGUFValue])

    /// The type code.
    public var type: GGUFValueType {
        switch self {
        case .uint8: .uint8
        case .int8: .int8
        case .uint16: .uint16
        case .int16: .int16
        case .uint32: .uint32
        case .int32: .int32
        case .uint64: .uint64
        case .int64: .int64
        case .float32: .float32
        case .float64: .float64
        case .bool: .bool
        case .string: .string
        case .array: .array
        }
    }

    /// An integer value of any integer type (nil for other types or values beyond Int).
    public var int: Int? {
        switch self {
        case .uint8(let v): Int(v)
        case .int8(let v): Int(v)
        case .uint16(let v): Int(v)
        case .int16(let v): Int(v)
        case .uint32(let v): Int(v)
        case .int32(let v): Int(v)
        case .uint64(let v): Int(exactly: v)
        case .int64(let v): Int(v)
        default: nil
        }
    }

    /// A float or integer value as Double; a float32 is written as its shortest decimal (1e-05 stays 1e-05).
    public var double: Double? {
        switch self {
        case .float32(let v): Double(v.description) ?? Double(v)
        case .float64(let v): v
        default: int.map(Double.init)
        }
    }

    /// The string, when this is a string value.
    public var string: String? { if case .string(let s) = self { s } else { nil } }
    /// The Boolean, when this is a Boolean value.
    public var bool: Bool? { if case .bool(let b) = self { b } else { nil } }
    /// The elements, when this is an array value.
    public var array: [GGUFValue]? { if case .array(_, let a) = self { a } else { nil } }

    /// A short description for messages: the type and, for arrays, the length.
    public var kindName: String {
        switch self {
        case .array(let t, let a): "array of \(a.count) \(t)"
        default: "\(type)"
        }
    }
}
