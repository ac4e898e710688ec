import Foundation
import Testing
@testable import SafeTensors
import Support
import TensorMath
import TestSupport

/// Float conversions against numpy / torch and exact rational rounding (fixtures/safetensors/conversions.json).
@Suite struct ConversionTests {
    nonisolated(unsafe) static let table: [String: Any] = (try? readJSON(SharedData.fixtures + "/safetensors/conversions.json") as? [String: Any]) ?? [:]

    func ints(_ key: String) -> [UInt64] { (Self.table[key] as! [NSNumber]).map { $0.uint64Value } }

    /// Compares two bit patterns, treating any two NaNs as equal (payloads may differ between libraries).
    func sameF16(_ a: UInt16, _ b: UInt16, bf16: Bool) -> Bool {
        let expMask: UInt16 = bf16 ? 0x7F80 : 0x7C00
        let manMask: UInt16 = bf16 ? 0x007F : 0x03FF
        let nanA = a & expMask == expMask && a & manMask != 0
        let nanB = b & expMask == expMask && b & manMask != 0
        return nanA && nanB || a == b
    }

    @Test func float32ToBF16MatchesTorch() {
        let bits = ints("f32_bits"), want = ints("f32_to_bf16")
        #expect(bits.count > 5000)
        var bad = 0
        for (b, w) in zip(bits, want) {
            let got = HalfPrecision.floatToBF16(Float(bitPattern: UInt32(b)))
            if !sameF16(got, UInt16(w), bf16: true) {
                bad += 1
                if bad < 5 { Issue.record("f32 0x\(String(b, radix: 16)) → bf16 0x\(String(got, radix: 16)), torch 0x\(String(w, radix: 16))") }
            }
        }
        #expect(bad == 0)
    }

    @Test func float32ToF16MatchesNumpy() {
        let bits = ints("f32_bits"), want = ints("f32_to_f16")
        var bad = 0
        for (b, w) in zip(bits, want) {
            let got = HalfPrecision.floatToF16(Float(bitPattern: UInt32(b)))
            if !sameF16(got, UInt16(w), bf16: false) {
                bad += 1
                if bad < 5 { Issue.record("f32 0x\(String(b, radix: 16)) → f16 0x\(String(got, radix: 16)), numpy 0x\(String(w, radix: 16))") }
            }
        }
        #expect(bad == 0)
    }

    @Test func float64ToF16AndBF16RoundOnce() {
        let bits = ints("f64_bits"), f16 = ints("f64_to_f16"), bf16 = ints("f64_to_bf16")
        var bad = 0
        for i in bits.indices {
            let x = Double(bitPattern: bits[i])
            let a = HalfPrecision.doubleToF16(x), b = HalfPrecision.doubleToBF16(x)
            if !sameF16(a, UInt16(f16[i]), bf16: false) {
                bad += 1; Issue.record("f64 \(x) → f16 0x\(String(a, radix: 16)), numpy 0x\(String(f16[i], radix: 16))")
            }
            if !sameF16(b, UInt16(bf16[i]), bf16: true) {
                bad += 1; Issue.record("f64 \(x) → bf16 0x\(String(b, radix: 16)), exact 0x\(String(bf16[i], radix: 16))")
            }
            if bad > 10 { break }
        }
        #expect(bad == 0)
    }

    @Test func sixteenBitToFloat32IsExactForAllPatterns() {
        var f16 = SHA256(), bf16 = SHA256()
        var f16Table: [UInt32] = [], bf16Table: [UInt32] = []
        for p in 0...0xFFFF {
            let a = HalfPrecision.f16ToFloat(UInt16(p)).bitPattern
            let b = HalfPrecision.bf16ToFloat(UInt16(p)).bitPattern
            f16Table.append(a); bf16Table.append(b)
            withUnsafeBytes(of: a.littleEndian) { f16.update($0) }
            withUnsafeBytes(of: b.littleEndian) { bf16.update($0) }
        }
        let step = (Self.table["sample_step"] as! NSNumber).intValue
        for (k, w) in ints("f16_to_f32_sample").enumerated() where UInt64(f16Table[k * step]) != w {
            Issue.record("f16 0x\(String(k * step, radix: 16)) → 0x\(String(f16Table[k * step], radix: 16)), numpy 0x\(String(w, radix: 16))")
        }
        for (k, w) in ints("bf16_to_f32_sample").enumerated() where UInt64(bf16Table[k * step]) != w {
            Issue.record("bf16 0x\(String(k * step, radix: 16)) → 0x\(String(bf16Table[k * step], radix: 16)), expected 0x\(String(w, radix: 16))")
        }
        #expect(f16.finalizeHex() == Self.table["f16_to_f32_sha256"] as? String)
        #expect(bf16.finalizeHex() == Self.table["bf16_to_f32_sha256"] as? String)
    }

    @Test func bulkConversionMatchesScalarPath() throws {
        // A tensor view converts F32 → BF16 → F32 through ElementConversion in parallel chunks.
        let n = 300_000
        var src = [Float](repeating: 0, count: n)
        for i in 0..<n { src[i] = Float(i) * 1.0001e-3 - 7 }
        var mid = [UInt16](repeating: 0, count: n)
        src.withUnsafeBytes { s in mid.withUnsafeMutableBytes { d in ElementConversion.convert(s.baseAddress!, from: .f32, to: d.baseAddress!, as: .bf16, count: n) } }
        for i in stride(from: 0, to: n, by: 997) { #expect(mid[i] == HalfPrecision.floatToBF16(src[i])) }
    }
}
