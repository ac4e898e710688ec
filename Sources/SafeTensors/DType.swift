/// A safetensors element type, spelled as in the file header.
public enum DType: String, CaseIterable, Sendable, Comparable {
    case BOOL, F4, F6_E2M3, F6_E3M2, U8, I8, F8_E5M2, F8_E4M3, F8_E8M0, F8_E4M3FNUZ, F8_E5M2FNUZ
    case I16, U16, F16, BF16, I32, U32, F32, C64, F64, I64, U64

    /// Bits per element (4 and 6 for the packed micro-float types).
    public var bitWidth: Int {
        switch self {
        case .F4: 4
        case .F6_E2M3, .F6_E3M2: 6
        case .BOOL, .U8, .I8, .F8_E5M2, .F8_E4M3, .F8_E8M0, .F8_E4M3FNUZ, .F8_E5M2FNUZ: 8
        case .I16, .U16, .F16, .BF16: 16
        case .I32, .U32, .F32: 32
        case .C64, .F64, .I64, .U64: 64
        }
    }

    /// Alignment in bytes.
    public var alignment: Int { max(1, bitWidth / 8) }

    /// Rank in the reference implementation's dtype enum (the declaration order above, which groups
    /// dtypes by size); its writer lays tensors out by descending rank, then by name.
    public var referenceRank: Int { DType.allCases.firstIndex(of: self)! }

    /// True for the four floating-point types lep computes with.
    public var isStandardFloat: Bool { self == .F64 || self == .F32 || self == .F16 || self == .BF16 }

    /// Parses a user-facing dtype name: safetensors spelling (`BF16`) or PyTorch-style
    /// (`bfloat16`, `float16`, `float32`, `float64`, `bf16`, `f16`, `f32`, `fp16`...).
    public init?(userName: String) {
        switch userName.lowercased() {
        case "bf16", "bfloat16": self = .BF16
        case "f16", "fp16", "float16", "half": self = .F16
        case "f32", "fp32", "float32", "float": self = .F32
        case "f64", "fp64", "float64", "double": self = .F64
        default:
            guard let d = DType(rawValue: userName.uppercased()) else { return nil }
            self = d
        }
    }

    /// The PyTorch name of a standard float type (`bfloat16`, `float16`, `float32`, `float64`), as
    /// `config.json`'s `torch_dtype` writes it; nil for the other types.
    public var torchName: String? {
        switch self {
        case .BF16: "bfloat16"
        case .F16: "float16"
        case .F32: "float32"
        case .F64: "float64"
        default: nil
        }
    }

    /// Bytes needed for `count` elements, nil on overflow or when packed bits do not fill whole bytes.
    public func byteCount(elements count: Int) -> Int? {
        let (bits, overflow) = count.multipliedReportingOverflow(by: bitWidth)
        guard !overflow, bits % 8 == 0 else { return nil }
        return bits / 8
    }

    /// Order by the reference enum's rank (roughly by size).
    public static func < (a: DType, b: DType) -> Bool { a.referenceRank < b.referenceRank }
}
