import TensorMath

/// A zero-copy view of one tensor's bytes inside a mapped safetensors file.
///
/// The view keeps its file mapped while alive.
public struct TensorView: @unchecked Sendable {
    /// Header entry (name, dtype, shape, offsets relative to the data buffer).
    public let info: TensorInfo
    /// The mapped file holding the data.
    public let file: MappedFile
    /// Absolute byte offset of the data in the file.
    public let fileOffset: Int

    /// The raw little-endian bytes.
    public var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: file.bytes[fileOffset..<(fileOffset + info.byteCount)])
    }

    /// The tensor's name in the header.
    public var name: String { info.name }
    /// The element type.
    public var dtype: DType { info.dtype }
    /// The shape, outermost first (row-major).
    public var shape: [Int] { info.shape }
    /// The product of the shape (1 for a scalar).
    public var elementCount: Int { info.elementCount }
    /// Size of the data in bytes.
    public var byteCount: Int { info.byteCount }
}

extension DType {
    /// The float storage type for F64/F32/F16/BF16, nil for the others.
    public var floatStorage: FloatStorage? {
        switch self {
        case .F64: .f64
        case .F32: .f32
        case .F16: .f16
        case .BF16: .bf16
        default: nil
        }
    }
}

extension TensorView {
    /// Converts elements `range` into `dst` as `to` (F64/F32/F16/BF16 only), rounding to nearest even.
    public func convert(elements range: Range<Int>, into dst: UnsafeMutableRawPointer, as to: DType) throws(SafeTensorsError) {
        guard let s = dtype.floatStorage, let d = to.floatStorage else {
            throw .invalidTensorSpec(tensor: name, reason: "cannot convert \(dtype.rawValue) to \(to.rawValue): only F64/F32/F16/BF16 convert")
        }
        let src = bytes.baseAddress! + range.lowerBound * s.byteSize
        ElementConversion.convert(src, from: s, to: dst, as: d, count: range.count)
    }

    /// All elements as Float (any numeric dtype; F8 formats and packed micro-floats excepted).
    public func floats() throws(SafeTensorsError) -> [Float] {
        let n = elementCount
        if let s = dtype.floatStorage {
            var out = [Float](repeating: 0, count: n)
            guard n > 0 else { return out }
            out.withUnsafeMutableBytes { dst in
                ElementConversion.convert(bytes.baseAddress!, from: s, to: dst.baseAddress!, as: .f32, count: n)
            }
            return out
        }
        let b = bytes
        func ints<T: BinaryInteger>(_: T.Type) -> [Float] {
            (0..<n).map { Float(b.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self)) }
        }
        switch dtype {
        case .BOOL: return (0..<n).map { b[$0] != 0 ? 1 : 0 }
        case .U8: return ints(UInt8.self)
        case .I8: return ints(Int8.self)
        case .I16: return ints(Int16.self)
        case .U16: return ints(UInt16.self)
        case .I32: return ints(Int32.self)
        case .U32: return ints(UInt32.self)
        case .I64: return ints(Int64.self)
        case .U64: return ints(UInt64.self)
        default:
            throw .invalidTensorSpec(tensor: name, reason: "reading \(dtype.rawValue) as float is not supported")
        }
    }
}
