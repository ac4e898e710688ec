import Foundation
import Testing
@testable import TensorMath

/// `GramBF16` (the bfloat16 block Gram kernel of the mixed-precision fit) against float64 sums of the
/// same products, on the AVX512-BF16 path (when the CPU has it, on several threads) and the portable C
/// (the calling thread capped at the scalar level), with sizes off the tile widths (6 and 64) and an odd
/// row count so every edge and the zero-padded last pair are exercised.
@Suite("bfloat16 Gram blocks (GramBF16)", .serialized)
struct GramBF16Tests {
    /// Deterministic bfloat16 bit patterns of values in [-1, 1) with varied exponents.
    static func rows(_ n: Int, _ cols: Int, seed: UInt64) -> [UInt16] {
        var s = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<(n * cols)).map { _ in
            s ^= s << 13; s ^= s >> 7; s ^= s << 17
            let v = Float(Int(s >> 40) - (1 << 23)) / Float(1 << 23) * Float(1 << Int(s & 7)) / 128
            return HalfPrecision.floatToBF16(v)
        }
    }

    /// Runs one block and checks G's strict upper triangle and C against float64 sums (float32 block sums
    /// of n terms: error at most about n·2⁻²⁴·Σ|products|), the rest of G untouched.
    static func check(n: Int, k: Int, m: Int, threads: Int) throws {
        let a = rows(n, k, seed: 1), b = rows(n, m, seed: 2)
        let af = a.map { Double(HalfPrecision.bf16ToFloat($0)) }, bf = b.map { Double(HalfPrecision.bf16ToFloat($0)) }
        let sentinel = 12345.0
        var g = [Double](repeating: sentinel, count: k * k), c = [Double](repeating: 1, count: k * m)
        let gram = GramBF16(k: k, m: m, maxRows: n + 3)
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                let ar = (0..<n).map { ap.baseAddress! + $0 * k }, br = (0..<n).map { bp.baseAddress! + $0 * m }
                g.withUnsafeMutableBufferPointer { gp in
                    c.withUnsafeMutableBufferPointer { cp in gram.add(aRows: ar, bRows: br, g: gp.baseAddress!, c: cp.baseAddress!, threads: threads) }
                }
            }
        }
        func expect(_ x: [Double], _ y: [Double], _ i: Int, _ ly: Int, _ j: Int, _ got: Double, offset: Double, _ what: String) {
            var sum = 0.0, abs = 0.0
            for r in 0..<n {
                let p = x[r * k + i] * y[r * ly + j]
                sum += p
                abs += Swift.abs(p)
            }
            let tol = Double(n) * 0x1p-23 * abs + 1e-300
            #expect(Swift.abs(got - offset - sum) <= tol, "\(what)[\(i), \(j)] n \(n) k \(k) m \(m) threads \(threads): \(got - offset) vs \(sum)")
        }
        for i in 0..<k {
            for j in 0..<k {
                if j > i {
                    expect(af, af, i, k, j, g[i * k + j], offset: sentinel, "G")
                } else {
                    #expect(g[i * k + j] == sentinel, "G[\(i), \(j)] (not strict upper) was written")
                }
            }
            for j in 0..<m { expect(af, bf, i, m, j, c[i * m + j], offset: 1, "C") }
        }
    }

    @Test("AVX512-BF16 kernel: float32 block sums of exact products, added into float64", arguments: [(1, 5, 7), (37, 13, 70), (258, 70, 131)])
    func vectorPath(n: Int, k: Int, m: Int) throws {
        guard GramBF16.available else {
            print("GramBF16Tests: this CPU has no AVX512-BF16; the vector path is not tested here")
            return
        }
        try Self.check(n: n, k: k, m: m, threads: 2)
        try Self.check(n: n, k: k, m: m, threads: 1)
    }

    @Test("portable C path: the same sums")
    func portablePath() throws {
        #expect(Kernels.limitSIMD(0) == 0)
        defer { Kernels.limitSIMD(2) }  // back to the CPU's best
        try Self.check(n: 37, k: 13, m: 70, threads: 1)
    }
}
