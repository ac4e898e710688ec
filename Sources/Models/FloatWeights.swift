import SafeTensors
import TensorMath

/// A weight tensor as contiguous Float32 values: borrowed in place from an aligned F32 mapping, or
/// converted (BF16/F16/F64 → F32, exact widening for the 16-bit types) into a buffer it owns.
public final class FloatWeights: @unchecked Sendable {
    /// The values, row-major in the checkpoint's shape.
    public let pointer: UnsafePointer<Float>
    /// Number of values.
    public let count: Int
    private let owned: UnsafeMutablePointer<Float>?
    private let source: TensorView?

    /// Rows `rows` of `view` (a 1-D tensor counts as one row), converted or borrowed.
    init(_ view: TensorView, rows: Range<Int>? = nil) throws(ModelError) {
        let rowLength = view.shape.count >= 2 ? view.shape.dropFirst().reduce(1, *) : view.elementCount
        let r = rows ?? 0..<(view.shape.count >= 2 ? view.shape[0] : 1)
        let elements = (r.lowerBound * rowLength)..<(r.upperBound * rowLength)
        count = elements.count
        source = view
        if view.dtype == .F32, let base = view.bytes.baseAddress,
           Int(bitPattern: base + elements.lowerBound * 4) % MemoryLayout<Float>.alignment == 0 {
            pointer = UnsafePointer((base + elements.lowerBound * 4).assumingMemoryBound(to: Float.self))
            owned = nil
            return
        }
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
        if let storage = view.dtype.floatStorage, storage == .bf16 || storage == .f16, let base = view.bytes.baseAddress {
            // Exact widening by the vector kernels, in parallel.
            Kernels.widen(base + elements.lowerBound * 2, storage: storage, into: buffer, count: count)
            owned = buffer
            pointer = UnsafePointer(buffer)
            return
        }
        do {
            try view.convert(elements: elements, into: UnsafeMutableRawPointer(buffer), as: .F32)
        } catch {
            buffer.deallocate()
            throw .unsupportedDType(path: view.file.path, tensor: view.name, dtype: view.dtype.rawValue)
        }
        owned = buffer
        pointer = UnsafePointer(buffer)
    }

    deinit { owned?.deallocate() }

    /// True when the values are read in place from the mapping (F32, aligned).
    public var isBorrowed: Bool { owned == nil }

    /// Bytes of Float32 memory this object allocated (0 when borrowed).
    public var ownedBytes: Int { owned == nil ? 0 : count * 4 }

    /// Tells the kernel the source pages of a converted tensor are no longer needed in this process
    /// (they stay in the page cache), so streaming an 8B model does not keep 16 GB resident.
    func releaseSourcePages() {
        guard owned != nil, let v = source else { return }
        v.file.dropPages(v.fileOffset..<(v.fileOffset + v.byteCount))
    }
}
