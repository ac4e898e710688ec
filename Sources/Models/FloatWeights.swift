import SafeTensors
import TensorMath

/// A weight tensor as contiguous Float32 values: borrowed in place from an aligned F32 mapping, or
/// converted (BF16/F16/F64 → F32, exact widening for the 16-bit types) into a buffer it owns or
/// into a caller's reused buffer.
public final class FloatWeights: @unchecked Sendable {
    /// The values, row-major in the checkpoint's shape.
    public let pointer: UnsafePointer<Float>
    /// Number of values.
    public let count: Int
    /// True when the values are read in place from the mapping (F32, aligned).
    public let isBorrowed: Bool
    private let owned: UnsafeMutablePointer<Float>?
    private let source: TensorView?

    /// Rows `rows` of `view` (a 1-D tensor counts as one row), converted or borrowed. A conversion
    /// goes into `buffer` when given (at least as many floats as the rows hold; the caller keeps it
    /// alive), else into a buffer this object allocates.
    init(_ view: TensorView, rows: Range<Int>? = nil, into buffer: UnsafeMutablePointer<Float>? = nil) throws(ModelError) {
        let rowLength = view.shape.count >= 2 ? view.shape.dropFirst().reduce(1, *) : view.elementCount
        let r = rows ?? 0..<(view.shape.count >= 2 ? view.shape[0] : 1)
        let elements = (r.lowerBound * rowLength)..<(r.upperBound * rowLength)
        count = elements.count
        source = view
        if view.dtype == .F32, let base = view.bytes.baseAddress,
            Int(bitPattern: base + elements.lowerBound * 4) % MemoryLayout<Float>.alignment == 0
        {
            pointer = UnsafePointer((base + elements.lowerBound * 4).assumingMemoryBound(to: Float.self))
            owned = nil
            isBorrowed = true
            return
        }
        let target = buffer ?? UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
        if let storage = view.dtype.floatStorage, storage == .bf16 || storage == .f16, let base = view.bytes.baseAddress {
            // Exact widening by the vector kernels, in parallel.
            Kernels.widen(base + elements.lowerBound * 2, storage: storage, into: target, count: count)
        } else {
            do {
                try view.convert(elements: elements, into: UnsafeMutableRawPointer(target), as: .F32)
            } catch {
                if buffer == nil { target.deallocate() }
                throw .unsupportedDType(path: view.file.path, tensor: view.name, dtype: view.dtype.rawValue)
            }
        }
        owned = buffer == nil ? target : nil
        pointer = UnsafePointer(target)
        isBorrowed = false
    }

    deinit { owned?.deallocate() }

    /// Bytes of Float32 memory this object allocated (0 when borrowed or converted into a caller's buffer).
    public var ownedBytes: Int { owned == nil ? 0 : count * 4 }

    /// Floats a conversion of `view` needs (0 when it is borrowed in place).
    static func conversionCount(_ view: TensorView) -> Int {
        guard view.dtype == .F32, let base = view.bytes.baseAddress, Int(bitPattern: base) % MemoryLayout<Float>.alignment == 0 else {
            return view.elementCount
        }
        return 0
    }

    /// Tells the kernel the source pages of a converted tensor are no longer needed in this process
    /// (they stay in the page cache), so streaming an 8B model does not keep 16 GB resident.
    func releaseSourcePages() {
        guard !isBorrowed, let v = source else { return }
        v.file.dropPages(v.fileOffset..<(v.fileOffset + v.byteCount))
    }
}
