import Merging
import SafeTensors
import Surgery
import TensorMath
import Vocabulary

/// One `[V, h]` embedding tensor (embed_tokens or lm_head) of a checkpoint, read row by row from the
/// mapped file in any float dtype.
public struct EmbeddingMatrix: Sendable {
    /// The zero-copy view.
    public let view: TensorView
    /// Which model it belongs to ("base", "instruct", "donor") for messages.
    public let role: String
    /// Rows V.
    public var rows: Int { view.shape[0] }
    /// Columns h.
    public var hidden: Int { view.shape[1] }

    /// Wraps `view`, which must be a 2-D float tensor.
    public init(view: TensorView, role: String) throws(SurgeryError) {
        guard view.shape.count == 2, view.shape[0] > 0, view.shape[1] > 0 else {
            throw .notAnEmbedding(role: role, tensor: view.name, shape: view.shape)
        }
        guard view.dtype.floatStorage != nil else {
            throw .unsupportedDType(tensor: view.name, model: role, dtype: view.dtype.rawValue)
        }
        self.view = view
        self.role = role
    }

    /// Writes row `i` as float64 into `dst[0..<h]`.
    @inline(__always)
    public func row(_ i: Int, into dst: UnsafeMutablePointer<Double>) {
        let h = hidden
        let s = view.dtype.floatStorage!
        ElementConversion.convert(view.bytes.baseAddress! + i * h * s.byteSize, from: s, to: UnsafeMutableRawPointer(dst), as: .f64, count: h)
    }

    /// Writes rows `range` as float32 into `dst` (`range.count · h` values).
    public func rows(_ range: Range<Int>, into dst: UnsafeMutablePointer<Float>) {
        let h = hidden
        let s = view.dtype.floatStorage!
        ElementConversion.convert(
            view.bytes.baseAddress! + range.lowerBound * h * s.byteSize, from: s,
            to: UnsafeMutableRawPointer(dst), as: .f32, count: range.count * h)
    }
}
