/// A tensor to be written: name, dtype and shape (the bytes come later, streamed).
public struct TensorSpec: Equatable, Sendable {
    /// Tensor name.
    public let name: String
    /// Element type.
    public let dtype: DType
    /// Dimensions; empty for a scalar.
    public let shape: [Int]

    /// Creates a spec.
    public init(name: String, dtype: DType, shape: [Int]) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
    }

    /// Number of elements.
    public var elementCount: Int { shape.reduce(1, *) }

    /// Number of data bytes; throws when the shape is invalid or the size overflows.
    public func byteCount() throws(SafeTensorsError) -> Int {
        var n = 1
        for d in shape {
            guard d >= 0 else { throw .invalidTensorSpec(tensor: name, reason: "negative dimension \(d)") }
            let (p, o) = n.multipliedReportingOverflow(by: d)
            guard !o else { throw .invalidTensorSpec(tensor: name, reason: "size overflows") }
            n = p
        }
        guard let b = dtype.byteCount(elements: n) else {
            throw .invalidTensorSpec(tensor: name, reason: "size overflows or is not a whole number of bytes")
        }
        return b
    }
}
