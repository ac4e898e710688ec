import TensorMath

/// Dequantisation of GGML blocks to Float32.
///
/// Each kernel follows `gguf.quants` (gguf 0.19.0) operation for operation, in Float32, so the
/// values equal what `gguf.quants.dequantize` returns bit for bit (tests compare against it).
public enum GGUFDequantizer {
    /// Dequantises `count` elements of `type` from `data`; nil for a type lep cannot dequantise.
    /// `data` must hold exactly `type.byteCount(elements: count)` bytes (the reader checks this).
    public static func dequantize(_ data: UnsafeRawBufferPointer, type: GGMLType, count: Int) -> [Float]? {
        guard GGMLType.dequantizable.contains(type), type.byteCount(elements: count) == data.count else { return nil }
        return [Float](unsafeUninitializedCapacity: count) { out, n in
            n = count
            let o = out.baseAddress!
            let (be, bb) = type.blockLayout
            let blocks = count / be
            switch type {
            case .f32: for i in 0..<count { o[i] = Float(bitPattern: load32(data, 4 * i)) }
            case .f16: for i in 0..<count { o[i] = HalfPrecision.f16ToFloat(load16(data, 2 * i)) }
            case .bf16: for i in 0..<count { o[i] = HalfPrecision.bf16ToFloat(load16(data, 2 * i)) }
            case .q8_0:
                for b in 0..<blocks {
                    let base = b * bb, d = half(data, base)
                    for j in 0..<32 { o[b * 32 + j] = Float(Int8(bitPattern: data[base + 2 + j])) * d }
                }
            case .q4_0:
                for b in 0..<blocks {
                    let base = b * bb, d = half(data, base)
                    for j in 0..<16 {
                        let q = data[base + 2 + j]
                        o[b * 32 + j] = d * Float(Int(q & 0x0F) - 8)
                        o[b * 32 + j + 16] = d * Float(Int(q >> 4) - 8)
                    }
                }
            case .q4_1:
                for b in 0..<blocks {
                    let base = b * bb, d = half(data, base), m = half(data, base + 2)
                    for j in 0..<16 {
                        let q = data[base + 4 + j]
                        o[b * 32 + j] = d * Float(q & 0x0F) + m
                        o[b * 32 + j + 16] = d * Float(q >> 4) + m
                    }
                }
            case .q4_K, .q5_K:
                for b in 0..<blocks {
                    let base = b * bb
                    let d = half(data, base), dmin = half(data, base + 2)
                    let (sc, mn) = scaleMin(data, base + 4)
                    let qhBase = base + 16, qsBase = type == .q5_K ? base + 48 : base + 16
                    // 8 sub-blocks of 32: sub-block 2c takes the low nibbles of qs[32c..<32c+32], 2c+1 the high.
                    for s in 0..<8 {
                        let ds = d * Float(sc[s]), ms = dmin * Float(mn[s])
                        let c = s / 2, shift = UInt8((s % 2) * 4)
                        for j in 0..<32 {
                            var q = (data[qsBase + 32 * c + j] >> shift) & 0x0F
                            if type == .q5_K { q |= ((data[qhBase + j] >> UInt8(s)) & 1) << 4 }
                            o[b * 256 + s * 32 + j] = ds * Float(q) - ms
                        }
                    }
                }
            case .q6_K:
                for b in 0..<blocks {
                    let base = b * bb
                    let ql = base, qh = base + 128, scales = base + 192
                    let d = half(data, base + 208)
                    // 8 rows of 32: row r = 4h + t reads ql[64h + 32(t%2) + j] >> 4(t/2) and qh[32h + j] >> 2t.
                    for r in 0..<8 {
                        let h = r / 4, t = r % 4
                        for j in 0..<32 {
                            let lo = (data[ql + 64 * h + 32 * (t % 2) + j] >> UInt8(4 * (t / 2))) & 0x0F
                            let hi = (data[qh + 32 * h + j] >> UInt8(2 * t)) & 0x03
                            let q = Int(lo | (hi << 4)) - 32
                            let e = r * 32 + j
                            let ds = d * Float(Int8(bitPattern: data[scales + e / 16]))
                            o[b * 256 + e] = ds * Float(q)
                        }
                    }
                }
            default: break
            }
        }
    }

    @inline(__always) static func load16(_ d: UnsafeRawBufferPointer, _ o: Int) -> UInt16 {
        UInt16(littleEndian: d.loadUnaligned(fromByteOffset: o, as: UInt16.self))
    }
    @inline(__always) static func load32(_ d: UnsafeRawBufferPointer, _ o: Int) -> UInt32 {
        UInt32(littleEndian: d.loadUnaligned(fromByteOffset: o, as: UInt32.self))
    }
    @inline(__always) static func half(_ d: UnsafeRawBufferPointer, _ o: Int) -> Float { HalfPrecision.f16ToFloat(load16(d, o)) }

    /// The 6-bit scales and mins of a Q4_K/Q5_K block (12 bytes at `o`).
    static func scaleMin(_ d: UnsafeRawBufferPointer, _ o: Int) -> ([UInt8], [UInt8]) {
        var sc = [UInt8](repeating: 0, count: 8), mn = sc
        for i in 0..<4 {
            let dq = d[o + i], mq = d[o + 4 + i], md = d[o + 8 + i]
            sc[i] = dq & 0x3F
            mn[i] = mq & 0x3F
            sc[i + 4] = (md & 0x0F) | ((dq >> 2) & 0x30)
            mn[i + 4] = (md >> 4) | ((mq >> 2) & 0x30)
        }
        return (sc, mn)
    }
}
