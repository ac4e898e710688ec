import TensorMath

/// Quantisation of Float32 rows into the GGML types lep writes.
///
/// Follows `gguf.quants` (gguf 0.19.0), which is bit-exact with ggml's reference C code:
/// Q8_0 uses d = max|x| / 127, q = round-half-away(x / d), d stored as f16.
public enum GGUFQuantizer {
    /// The types lep can write.
    public static let writable: [GGMLType] = [.f32, .f16, .bf16, .q8_0]

    /// Encodes `values` as `type` (Q8_0 needs a multiple of 32 values).
    public static func encode(_ values: [Float], as type: GGMLType) -> [UInt8]? {
        guard writable.contains(type), let size = type.byteCount(elements: values.count) else { return nil }
        var out = [UInt8](repeating: 0, count: size)
        out.withUnsafeMutableBytes { o in
            switch type {
            case .f32: for (i, v) in values.enumerated() { o.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self) }
            case .f16: for (i, v) in values.enumerated() { o.storeBytes(of: HalfPrecision.floatToF16(v).littleEndian, toByteOffset: 2 * i, as: UInt16.self) }
            case .bf16: for (i, v) in values.enumerated() { o.storeBytes(of: HalfPrecision.floatToBF16(v).littleEndian, toByteOffset: 2 * i, as: UInt16.self) }
            case .q8_0:
                for b in 0..<(values.count / 32) {
                    var amax: Float = 0
                    for j in 0..<32 { amax = max(amax, abs(values[b * 32 + j])) }
                    let d = amax / 127
                    let id: Float = d == 0 ? 0 : 1 / d
                    o.storeBytes(of: HalfPrecision.floatToF16(d).littleEndian, toByteOffset: b * 34, as: UInt16.self)
                    for j in 0..<32 {
                        let q = roundHalfAway(values[b * 32 + j] * id)
                        o[b * 34 + 2 + j] = UInt8(bitPattern: Int8(clamping: Int(q)))
                    }
                }
            default: break
            }
        }
        return out
    }

    /// numpy `np_roundf` of gguf.quants: round half away from zero.
    @inline(__always) static func roundHalfAway(_ n: Float) -> Float {
        let a = abs(n), f = a.rounded(.down)
        let b = f + (2 * (a - f)).rounded(.down)
        return n < 0 ? -b : (n > 0 ? b : 0)
    }
}
