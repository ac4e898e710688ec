/// Bulk conversions of raw element buffers between the float storage types.
///
/// Storage codes: f64, f32, f16, bf16 (little-endian, as in safetensors). All narrowing is round to
/// nearest even (see `HalfPrecision`). Buffers may be unaligned (mmapped tensors need not be aligned).
public enum FloatStorage: Sendable, Equatable {
    case f64, f32, f16, bf16

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .f64: 8;
        case .f32: 4;
        case .f16, .bf16: 2
        }
    }
}

/// Converts element buffers between float storage types.
package enum ElementConversion {
    /// Converts `count` elements from `src` (type `from`) into `dst` (type `to`).
    /// Runs in parallel for large buffers.
    package static func convert(_ src: UnsafeRawPointer, from: FloatStorage, to dst: UnsafeMutableRawPointer, as to: FloatStorage, count: Int) {
        if from == to {
            dst.copyMemory(from: src, byteCount: count * from.byteSize)
            return
        }
        Parallel.forChunks(count: count, minChunk: 1 << 15) { range in
            convertSerial(src, from: from, to: dst, as: to, range: range)
        }
    }

    @inline(__always) static func load<T>(_ p: UnsafeRawPointer, _ i: Int, _: T.Type) -> T {
        p.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self)
    }

    @inline(__always) static func store<T>(_ p: UnsafeMutableRawPointer, _ i: Int, _ v: T) {
        p.storeBytes(of: v, toByteOffset: i * MemoryLayout<T>.size, as: T.self)
    }

    /// Converts elements `range` of `s` into the same positions of `d`, on the calling thread (for
    /// callers that already split the work between threads).
    package static func convertSerial(_ s: UnsafeRawPointer, from: FloatStorage, to d: UnsafeMutableRawPointer, as to: FloatStorage, range: Range<Int>) {
        if (from, to) == (.bf16, .f32), Int(bitPattern: s) & 1 == 0, Int(bitPattern: d) & 3 == 0 {
            // Aligned: typed pointers, so the loop vectorises.
            let x = s.assumingMemoryBound(to: UInt16.self), y = d.assumingMemoryBound(to: UInt32.self)
            for i in range { y[i] = UInt32(x[i]) << 16 }
            return
        }
        if (from, to) == (.f32, .bf16), Int(bitPattern: s) & 3 == 0, Int(bitPattern: d) & 1 == 0 {
            // Aligned: round to nearest even without a branch (NaN quietened as floatToBF16 does).
            let x = s.assumingMemoryBound(to: UInt32.self), y = d.assumingMemoryBound(to: UInt16.self)
            for i in range {
                let bits = x[i]
                let rounded = (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16
                let nan = (bits >> 16 | 0x0040) & 0xFFFF
                y[i] = UInt16(truncatingIfNeeded: bits & 0x7FFF_FFFF > 0x7F80_0000 ? nan : rounded)
            }
            return
        }
        switch (from, to) {
        case (.bf16, .f32):
            for i in range { store(d, i, HalfPrecision.bf16ToFloat(load(s, i, UInt16.self))) }
        case (.f16, .f32):
            for i in range { store(d, i, HalfPrecision.f16ToFloat(load(s, i, UInt16.self))) }
        case (.f32, .bf16):
            for i in range { store(d, i, HalfPrecision.floatToBF16(load(s, i, Float.self))) }
        case (.f32, .f16):
            for i in range { store(d, i, HalfPrecision.floatToF16(load(s, i, Float.self))) }
        case (.f64, .f32):
            for i in range { store(d, i, Float(load(s, i, Double.self))) }
        case (.f32, .f64):
            for i in range { store(d, i, Double(load(s, i, Float.self))) }
        case (.f64, .bf16):
            for i in range { store(d, i, HalfPrecision.doubleToBF16(load(s, i, Double.self))) }
        case (.f64, .f16):
            for i in range { store(d, i, HalfPrecision.doubleToF16(load(s, i, Double.self))) }
        case (.bf16, .f64):
            for i in range { store(d, i, Double(HalfPrecision.bf16ToFloat(load(s, i, UInt16.self)))) }
        case (.f16, .f64):
            for i in range { store(d, i, Double(HalfPrecision.f16ToFloat(load(s, i, UInt16.self)))) }
        case (.bf16, .f16):  // exact widening then one rounding
            for i in range { store(d, i, HalfPrecision.floatToF16(HalfPrecision.bf16ToFloat(load(s, i, UInt16.self)))) }
        case (.f16, .bf16):
            for i in range { store(d, i, HalfPrecision.floatToBF16(HalfPrecision.f16ToFloat(load(s, i, UInt16.self)))) }
        case (.f64, .f64), (.f32, .f32), (.f16, .f16), (.bf16, .bf16):
            d.advanced(by: range.lowerBound * from.byteSize)
                .copyMemory(from: s.advanced(by: range.lowerBound * from.byteSize), byteCount: range.count * from.byteSize)
        }
    }
}
