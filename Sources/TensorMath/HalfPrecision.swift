/// Scalar conversions between F64/F32 and the 16-bit float formats, all round-to-nearest-even.
///
/// bf16 is the top half of an IEEE binary32; f16 is IEEE binary16. Conversions from F64 round
/// once, directly (no double rounding through F32). NaN stays NaN (quiet), ±Inf stays ±Inf, values
/// beyond the finite range round to ±Inf as IEEE requires, subnormals are kept.
package enum HalfPrecision {
    /// bf16 bits → Float (exact).
    @inline(__always) package static func bf16ToFloat(_ bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    /// Float → bf16 bits, round to nearest even.
    @inline(__always) package static func floatToBF16(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(truncatingIfNeeded: bits >> 16) | 0x0040 }
        let rounding: UInt32 = 0x7FFF + ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: (bits &+ rounding) >> 16)
    }

    /// Double → bf16 bits, round to nearest even, rounding once.
    package static func doubleToBF16(_ value: Double) -> UInt16 {
        if value.isNaN { return UInt16(truncatingIfNeeded: Float(value).bitPattern >> 16) | 0x0040 }
        // Round to an 8-bit significand directly on the double, then narrow (exact).
        let f = Float(roundToBits(value, significandBits: 8, minExponent: -126, maxExponent: 127))
        return UInt16(truncatingIfNeeded: f.bitPattern >> 16)
    }

    /// f16 bits → Float (exact).
    @inline(__always) package static func f16ToFloat(_ bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = UInt32(bits >> 10) & 0x1F
        let mantissa = UInt32(bits & 0x3FF)
        if exponent == 0x1F {  // Inf / NaN
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        }
        if exponent == 0 {
            if mantissa == 0 { return Float(bitPattern: sign) }
            // Subnormal: value = mantissa × 2^-24.
            let magnitude = Float(mantissa) * 0x1p-24
            return sign != 0 ? -magnitude : magnitude
        }
        return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
    }

    /// Float → f16 bits, round to nearest even.
    @inline(__always) package static func floatToF16(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        let sign = UInt16(truncatingIfNeeded: (bits >> 16) & 0x8000)
        let absBits = bits & 0x7FFF_FFFF
        if absBits >= 0x7F80_0000 {  // Inf or NaN
            return absBits > 0x7F80_0000 ? sign | 0x7E00 | UInt16(truncatingIfNeeded: (absBits >> 13) & 0x3FF) : sign | 0x7C00
        }
        if absBits >= 0x477F_F000 { return sign | 0x7C00 }  // ≥ 65520 rounds to Inf
        if absBits < 0x3880_0000 {  // below the smallest normal f16 (2^-14): subnormal or zero
            // Scale so that one f16 subnormal ulp (2^-24) is 1.0, then round to nearest even (exact in Float).
            let scaled = Float(bitPattern: absBits) * 0x1p24
            let r = scaled.rounded(.toNearestOrEven)
            return sign | UInt16(r)
        }
        // Normal: rebias exponent (127 → 15) and round the 23-bit mantissa to 10 bits.
        let rebased = absBits &- 0x3800_0000  // exponent − 112
        let rounding: UInt32 = 0x0FFF + ((rebased >> 13) & 1)
        return sign | UInt16(truncatingIfNeeded: (rebased &+ rounding) >> 13)
    }

    /// Double → f16 bits, round to nearest even, rounding once.
    package static func doubleToF16(_ value: Double) -> UInt16 {
        if value.isNaN { return floatToF16(Float.nan) | UInt16(truncatingIfNeeded: (value.bitPattern >> 48) & 0x8000) }
        let r = roundToBits(value, significandBits: 11, minExponent: -14, maxExponent: 15)
        return floatToF16(Float(r))  // r is exactly representable in f16, hence in Float
    }

    /// Rounds `x` to a binary float with `significandBits` bits (implicit bit included), normal exponent
    /// range [minExponent, maxExponent], gradual underflow and overflow to ±Inf, ties to even.
    static func roundToBits(_ x: Double, significandBits p: Int, minExponent emin: Int, maxExponent emax: Int) -> Double {
        guard x.isFinite, x != 0 else { return x }
        let e = max(Int(x.exponent), emin)  // exponent of the target's ulp scale
        let ulp = Double(sign: .plus, exponent: e - (p - 1), significand: 1)
        let r = (x / ulp).rounded(.toNearestOrEven) * ulp  // exact: scaling by a power of two
        let maxFinite = Double(sign: .plus, exponent: emax, significand: 2 - Double(sign: .plus, exponent: -(p - 1), significand: 1))
        if abs(r) > maxFinite { return x < 0 ? -.infinity : .infinity }
        return r
    }
}
