/// One tensor's entry in a safetensors header.
public struct TensorInfo: Equatable, Sendable {
    /// Tensor name, as in the header.
    public let name: String
    /// Element type.
    public let dtype: DType
    /// Dimensions; empty for a scalar.
    public let shape: [Int]
    /// Byte range of the data, relative to the start of the data buffer.
    public let dataOffsets: Range<Int>

    /// Number of elements (1 for a scalar, 0 when any dimension is 0).
    public var elementCount: Int { shape.reduce(1, *) }
    /// Number of data bytes.
    public var byteCount: Int { dataOffsets.count }

    /// Creates an entry.
    public init(name: String, dtype: DType, shape: [Int], dataOffsets: Range<Int>) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.dataOffsets = dataOffsets
    }
}
