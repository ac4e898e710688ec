/// The tensor types of GGML (`ggml_type`), with their block layout.
///
/// Codes, block sizes and byte sizes follow `gguf.constants.GGML_QUANT_SIZES` (gguf 0.19.0).
public enum GGMLType: UInt32, CaseIterable, Sendable {
    case f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7, q8_0 = 8, q8_1 = 9
    case q2_K = 10, q3_K = 11, q4_K = 12, q5_K = 13, q6_K = 14, q8_K = 15
    case iq2_XXS = 16, iq2_XS = 17, iq3_XXS = 18, iq1_S = 19, iq4_NL = 20, iq3_S = 21, iq2_S = 22, iq4_XS = 23
    case i8 = 24, i16 = 25, i32 = 26, i64 = 27, f64 = 28, iq1_M = 29, bf16 = 30
    case tq1_0 = 34, tq2_0 = 35, mxfp4 = 39

    /// The name llama.cpp prints (`Q8_0`, `BF16`, ...).
    public var name: String {
        switch self {
        case .f32: "F32"
        case .f16: "F16"
        case .bf16: "BF16"
        case .f64: "F64"
        case .i8: "I8"
        case .i16: "I16"
        case .i32: "I32"
        case .i64: "I64"
        case .mxfp4: "MXFP4"
        default: String(describing: self).uppercased()
        }
    }

    /// Elements per block and bytes per block.
    public var blockLayout: (elements: Int, bytes: Int) {
        switch self {
        case .f32: (1, 4)
        case .f16, .bf16: (1, 2)
        case .f64: (1, 8)
        case .i8: (1, 1)
        case .i16: (1, 2)
        case .i32: (1, 4)
        case .i64: (1, 8)
        case .q4_0: (32, 18)
        case .q4_1: (32, 20)
        case .q5_0: (32, 22)
        case .q5_1: (32, 24)
        case .q8_0: (32, 34)
        case .q8_1: (32, 36)
        case .q2_K: (256, 84)
        case .q3_K: (256, 110)
        case .q4_K: (256, 144)
        case .q5_K: (256, 176)
        case .q6_K: (256, 210)
        case .q8_K: (256, 292)
        case .iq2_XXS: (256, 66)
        case .iq2_XS: (256, 74)
        case .iq3_XXS: (256, 98)
        case .iq1_S: (256, 50)
        case .iq4_NL: (32, 18)
        case .iq3_S: (256, 110)
        case .iq2_S: (256, 82)
        case .iq4_XS: (256, 136)
        case .iq1_M: (256, 56)
        case .tq1_0: (256, 54)
        case .tq2_0: (256, 66)
        case .mxfp4: (32, 17)
        }
    }

    /// The types lep converts to floating point.
    public static let dequantizable: [GGMLType] = [.f32, .f16, .bf16, .q8_0, .q4_0, .q4_1, .q4_K, .q5_K, .q6_K]

    /// Bytes needed for `elements` elements (a whole number of blocks), nil on overflow or a partial block.
    public func byteCount(elements: Int) -> Int? {
        let (n, b) = blockLayout
        guard elements >= 0, elements % n == 0 else { return nil }
        let (r, o) = (elements / n).multipliedReportingOverflow(by: b)
        return o ? nil : r
    }
}

/// The metadata value types of GGUF (`gguf_type`).
public enum GGUFValueType: UInt32, Sendable {
    case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6, bool = 7, string = 8, array = 9
    case uint64 = 10, int64 = 11, float64 = 12

    /// Encoded size of a scalar (nil for strings and arrays).
    var scalarSize: Int? {
        switch self {
        case .uint8, .int8, .bool: 1
        case .uint16, .int16: 2
        case .uint32, .int32, .float32: 4
        case .uint64, .int64, .float64: 8
        case .string, .array: nil
        }
    }
}
