import Foundation
import Testing
@testable import TensorMath

/// The vector kernels against the same mathematics in Double, on every instruction set this CPU
/// has (AVX-512, AVX2 and the portable C are separate code paths), with lengths around the vector
/// widths so every tail is exercised. The instruction-set cap applies to the test's own thread, so
/// the sizes stay below the kernels' parallel thresholds where a level is chosen.
@Suite("Vector kernels (CKernels)", .serialized)
struct KernelsTests {
    /// The levels to test: the portable C and every vector level up to the CPU's best.
    static var levels: [Int] {
        let best = Kernels.limitSIMD(2)
        return Array(0...best)
    }

    /// Deterministic values in [-1, 1).
    static func values(_ n: Int, seed: UInt64) -> [Float] {
        var s = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<n).map { _ in
            s ^= s << 13; s ^= s >> 7; s ^= s << 17
            return Float(Int(s >> 40) - (1 << 23)) / Float(1 << 23)
        }
    }

    /// Bytes of `v` in `storage` (bf16/f16 rounded to nearest even; the kernels widen them exactly).
    static func stored(_ v: [Float], _ storage: FloatStorage) -> (bytes: [UInt8], widened: [Float]) {
        var bytes = [UInt8](repeating: 0, count: v.count * storage.byteSize)
        v.withUnsafeBytes { src in
            bytes.withUnsafeMutableBytes { dst in
                ElementConversion.convert(src.baseAddress!, from: .f32, to: dst.baseAddress!, as: storage, count: v.count)
            }
        }
        var widened = [Float](repeating: 0, count: v.count)
        bytes.withUnsafeBytes { src in
            widened.withUnsafeMutableBytes { dst in
                ElementConversion.convert(src.baseAddress!, from: storage, to: dst.baseAddress!, as: .f32, count: v.count)
            }
        }
        return (bytes, widened)
    }

    @Test("linear on few rows equals x·Wᵀ in Double (f32, bf16, f16 weights; every tail)")
    func linearRows() {
        defer { Kernels.limitSIMD(2) }
        for level in Self.levels {
            Kernels.limitSIMD(level)
            for storage in [FloatStorage.f32, .bf16, .f16] {
                for (inF, outF, rows) in [(1, 1, 1), (7, 5, 2), (15, 9, 1), (16, 4, 3), (17, 13, 1), (33, 6, 2), (64, 130, 1), (100, 7, 8)] {
                    let x = Self.values(rows * (inF + 3), seed: UInt64(inF * 31 + outF))
                    let (wBytes, w) = Self.stored(Self.values(outF * inF, seed: UInt64(inF + 7 * outF)), storage)
                    for accumulate in [false, true] {
                        let start = Self.values(rows * (outF + 2), seed: 99)
                        var y = start
                        wBytes.withUnsafeBytes { wb in
                            let m = StoredMatrix(base: wb.baseAddress!, storage: storage, rows: outF, columns: inF)!
                            y.withUnsafeMutableBufferPointer { yb in
                                Kernels.linear(
                                    x, rows: rows, ldx: inF + 3,
                                    [.init(weight: m, output: yb.baseAddress!, ldy: outF + 2, accumulate: accumulate)])
                            }
                        }
                        var worst = 0.0
                        for t in 0..<rows {
                            for o in 0..<outF {
                                var ref = accumulate ? Double(start[t * (outF + 2) + o]) : 0, scale = abs(ref)
                                for i in 0..<inF {
                                    ref += Double(x[t * (inF + 3) + i]) * Double(w[o * inF + i])
                                    scale += abs(Double(x[t * (inF + 3) + i]) * Double(w[o * inF + i]))
                                }
                                worst = max(worst, abs(Double(y[t * (outF + 2) + o]) - ref) / max(scale, 1e-30))
                            }
                            // Columns past outF (the row stride's padding) are untouched.
                            for o in outF..<(outF + 2) { #expect(y[t * (outF + 2) + o] == start[t * (outF + 2) + o]) }
                        }
                        #expect(worst <= 1e-6, "level \(level) \(storage) in \(inF) out \(outF) rows \(rows): relative error \(worst)")
                    }
                }
            }
        }
    }

    @Test("gemm on many rows equals x·Wᵀ in Double (f32, bf16, f16 weights; row, panel and k tails, k blocks, a row stride copied to avoid cache aliasing)")
    func gemmRows() {
        for storage in [FloatStorage.f32, .bf16, .f16] {
            for (inF, outF, rows) in [(1, 1, 9), (2, 31, 13), (7, 32, 14), (16, 33, 15), (33, 70, 29), (64, 64, 40), (65, 100, 28), (4100, 33, 15), (1021, 40, 20)] {
                let x = Self.values(rows * (inF + 3), seed: UInt64(inF * 17 + outF))
                let (wBytes, w) = Self.stored(Self.values(outF * inF, seed: UInt64(3 * inF + outF)), storage)
                let (vBytes, v) = Self.stored(Self.values(5 * inF, seed: UInt64(inF + 11)), storage)
                for accumulate in [false, true] {
                    let start = Self.values(rows * (outF + 2), seed: 98), startV = Self.values(rows * 5, seed: 97)
                    var y = start, yv = startV
                    wBytes.withUnsafeBytes { wb in
                        vBytes.withUnsafeBytes { vb in
                            y.withUnsafeMutableBufferPointer { yb in
                                yv.withUnsafeMutableBufferPointer { yvb in
                                    Kernels.gemm(
                                        x, rows: rows, ldx: inF + 3,
                                        [
                                            .init(
                                                weight: StoredMatrix(base: wb.baseAddress!, storage: storage, rows: outF, columns: inF)!,
                                                output: yb.baseAddress!, ldy: outF + 2, accumulate: accumulate),
                                            .init(
                                                weight: StoredMatrix(base: vb.baseAddress!, storage: storage, rows: 5, columns: inF)!,
                                                output: yvb.baseAddress!, accumulate: accumulate)
                                        ])
                                }
                            }
                        }
                    }
                    for (out, ldy, before, weights, features) in [(y, outF + 2, start, w, outF), (yv, 5, startV, v, 5)] {
                        var worst = 0.0
                        for t in 0..<rows {
                            for o in 0..<features {
                                var ref = accumulate ? Double(before[t * ldy + o]) : 0, scale = abs(ref)
                                for i in 0..<inF {
                                    ref += Double(x[t * (inF + 3) + i]) * Double(weights[o * inF + i])
                                    scale += abs(Double(x[t * (inF + 3) + i]) * Double(weights[o * inF + i]))
                                }
                                worst = max(worst, abs(Double(out[t * ldy + o]) - ref) / max(scale, 1e-30))
                            }
                            // Columns past the features (the row stride's padding) are untouched.
                            for o in features..<ldy { #expect(out[t * ldy + o] == before[t * ldy + o]) }
                        }
                        #expect(worst <= 1e-6, "\(storage) in \(inF) out \(features) rows \(rows): relative error \(worst)")
                    }
                }
            }
        }
    }

    @Test("the fused gate/up GEMM equals the two products followed by SwiGLU (bit for bit with AVX-512)")
    func gemmSwiGLU() {
        for storage in [FloatStorage.f32, .bf16, .f16] {
            for (inF, outF, rows) in [(7, 31, 9), (16, 33, 15), (33, 70, 29), (64, 64, 40)] {
                let x = Self.values(rows * inF, seed: UInt64(inF + outF))
                let (gBytes, _) = Self.stored(Self.values(outF * inF, seed: 41), storage)
                let (uBytes, _) = Self.stored(Self.values(outF * inF, seed: 42), .bf16)  // types may differ
                var fused = [Float](repeating: .nan, count: rows * outF), gate = fused, up = fused
                gBytes.withUnsafeBytes { gb in
                    uBytes.withUnsafeBytes { ub in
                        let g = StoredMatrix(base: gb.baseAddress!, storage: storage, rows: outF, columns: inF)!
                        let u = StoredMatrix(base: ub.baseAddress!, storage: .bf16, rows: outF, columns: inF)!
                        fused.withUnsafeMutableBufferPointer { Kernels.gemmSwiGLU(x, rows: rows, ldx: inF, gate: g, up: u, into: $0.baseAddress!, ldy: outF) }
                        gate.withUnsafeMutableBufferPointer { gp in
                            up.withUnsafeMutableBufferPointer { upp in
                                Kernels.gemm(x, rows: rows, ldx: inF, [.init(weight: g, output: gp.baseAddress!), .init(weight: u, output: upp.baseAddress!)])
                                SwiGLU.apply(gate: gp.baseAddress!, up: upp.baseAddress!, count: rows * outF)
                            }
                        }
                    }
                }
                if Kernels.hasGEMM {
                    #expect(fused == gate, "\(storage) in \(inF) out \(outF) rows \(rows)")
                } else {  // the portable loops: the activation's exponential may take another code path
                    #expect(zip(fused, gate).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) })
                }
            }
        }
    }

    @Test("RMSNorm equals its Double definition (every tail)")
    func rmsNorm() {
        defer { Kernels.limitSIMD(2) }
        for level in Self.levels {
            Kernels.limitSIMD(level)
            for width in [1, 15, 16, 17, 33, 64, 576] {
                let rows = 3, x = Self.values(rows * width, seed: UInt64(width)), w = Self.values(width, seed: 77)
                var y = [Float](repeating: .nan, count: rows * width)
                y.withUnsafeMutableBufferPointer { RMSNorm.apply(x, weight: w, eps: 1e-5, rows: rows, width: width, into: $0.baseAddress!) }
                for t in 0..<rows {
                    let r = 1 / ((0..<width).reduce(0.0) { $0 + Double(x[t * width + $1]) * Double(x[t * width + $1]) } / Double(width) + 1e-5).squareRoot()
                    for i in 0..<width {
                        let ref = Double(w[i]) * Double(x[t * width + i]) * r
                        #expect(abs(Double(y[t * width + i]) - ref) <= 1e-6 * max(abs(ref), 1e-3), "level \(level) width \(width)")
                    }
                }
            }
        }
    }

    @Test("several products in one parallel region, each into its own output")
    func linearJobs() {
        let inF = 48, x = Self.values(inF, seed: 5)
        let (aBytes, a) = Self.stored(Self.values(700 * inF, seed: 6), .bf16)
        let (bBytes, b) = Self.stored(Self.values(300 * inF, seed: 7), .bf16)
        var ya = [Float](repeating: 0, count: 700), yb = [Float](repeating: 0, count: 300)
        aBytes.withUnsafeBytes { ab in
            bBytes.withUnsafeBytes { bb in
                ya.withUnsafeMutableBufferPointer { pa in
                    yb.withUnsafeMutableBufferPointer { pb in
                        Kernels.linear(
                            x, rows: 1, ldx: inF,
                            [
                                .init(weight: StoredMatrix(base: ab.baseAddress!, storage: .bf16, rows: 700, columns: inF)!, output: pa.baseAddress!),
                                .init(weight: StoredMatrix(base: bb.baseAddress!, storage: .bf16, rows: 300, columns: inF)!, output: pb.baseAddress!)
                            ])
                    }
                }
            }
        }
        func dot(_ w: [Float], _ o: Int) -> Double { (0..<inF).reduce(0.0) { $0 + Double(x[$1]) * Double(w[o * inF + $1]) } }
        #expect((0..<700).allSatisfy { abs(Double(ya[$0]) - dot(a, $0)) <= 1e-5 })
        #expect((0..<300).allSatisfy { abs(Double(yb[$0]) - dot(b, $0)) <= 1e-5 })
    }

    @Test("widening bf16 and f16 is exact")
    func widen() {
        defer { Kernels.limitSIMD(2) }
        for level in Self.levels {
            Kernels.limitSIMD(level)
            for storage in [FloatStorage.bf16, .f16] {
                for n in [0, 1, 15, 16, 17, 1000, 65_535] {
                    let (bytes, exact) = Self.stored(Self.values(n, seed: UInt64(n)).map { $0 * 1000 }, storage)
                    var out = [Float](repeating: .nan, count: n)
                    bytes.withUnsafeBytes { b in
                        out.withUnsafeMutableBufferPointer { o in
                            if n > 0 { Kernels.widen(b.baseAddress!, storage: storage, into: o.baseAddress!, count: n) }
                        }
                    }
                    #expect(out.map(\.bitPattern) == exact.map(\.bitPattern), "level \(level) \(storage) n \(n)")
                }
            }
        }
    }

    @Test("exp within 2 ulp of the Double exponential over the whole float range; NaN stays NaN")
    func exponential() {
        defer { Kernels.limitSIMD(2) }
        var x: [Float] = stride(from: -87.0 as Float, through: 88.0, by: 0.0137).map { $0 }
        x += [0, -0.0, 1e-30, -1e-30, 1, -1, 0.5, 88.7, -87.3]
        for level in Self.levels {
            Kernels.limitSIMD(level)
            var y = [Float](repeating: 0, count: x.count)
            y.withUnsafeMutableBufferPointer { Kernels.exp(x, into: $0.baseAddress!, count: x.count) }
            var worst = 0.0
            for (a, b) in zip(x, y) {
                let ref = Foundation.exp(Double(a))
                worst = max(worst, abs(Double(b) - ref) / ref)
            }
            #expect(worst <= 2.4e-7, "level \(level): worst relative error \(worst)")  // 2 ulp = 2.4e-7
            var n: [Float] = [.nan, 1]
            n.withUnsafeMutableBufferPointer { Kernels.exp($0.baseAddress!, into: $0.baseAddress!, count: 2) }
            #expect(n[0].isNaN && abs(n[1] - Float(M_E)) <= 1e-6)
        }
    }

    @Test("softmax, SwiGLU and one-row attention equal their Double definitions")
    func softmaxSwigluAttend() {
        defer { Kernels.limitSIMD(2) }
        for level in Self.levels {
            Kernels.limitSIMD(level)
            for n in [1, 7, 16, 17, 40, 513] {
                let v = Self.values(n, seed: UInt64(n)).map { $0 * 20 }
                var s = v
                s.withUnsafeMutableBufferPointer { Kernels.softmax($0.baseAddress!, count: n) }
                let m = Double(v.max()!)
                let e = v.map { Foundation.exp(Double($0) - m) }, total = e.reduce(0, +)
                #expect(
                    zip(s, e).allSatisfy { abs(Double($0) - $1 / total) <= 1e-6 * max($1 / total, 1e-3) },
                    "softmax level \(level) n \(n)")

                var g = v
                let u = Self.values(n, seed: 3)
                g.withUnsafeMutableBufferPointer { SwiGLU.apply(gate: $0.baseAddress!, up: u, count: n) }
                for i in 0..<n {
                    let z = Double(v[i]), ref = z / (1 + Foundation.exp(-z)) * Double(u[i])
                    #expect(abs(Double(g[i]) - ref) <= 1e-6 * max(abs(ref), 1e-3), "swiglu level \(level) \(z)")
                }

                for d in [8, 16, 64, 20] {
                    let ld = d + 5
                    let q = Self.values(d, seed: 11), k = Self.values(n * ld, seed: 12), vv = Self.values(n * ld, seed: 13)
                    var out = [Float](repeating: 0, count: d), scores = [Float](repeating: 0, count: n)
                    let scale = Float(1 / Double(d).squareRoot())
                    out.withUnsafeMutableBufferPointer { o in
                        scores.withUnsafeMutableBufferPointer { sc in
                            Kernels.attend(
                                q: q, keys: k, values: vv, count: n, ld: ld, d: d, scale: scale,
                                scores: sc.baseAddress!, into: o.baseAddress!)
                        }
                    }
                    // The transposed-keys kernel on the same keys ([d, n + 3]: padded rows).
                    let ldk = n + 3
                    var kt = [Float](repeating: .nan, count: d * ldk)
                    for s in 0..<n { for i in 0..<d { kt[i * ldk + s] = k[s * ld + i] } }
                    var outT = [Float](repeating: 0, count: d)
                    outT.withUnsafeMutableBufferPointer { o in
                        scores.withUnsafeMutableBufferPointer { sc in
                            Kernels.attendTransposed(
                                q: q, keysT: kt, ldk: ldk, values: vv, count: n, ld: ld, d: d, scale: scale,
                                scores: sc.baseAddress!, into: o.baseAddress!)
                        }
                    }
                    let logits = (0..<n).map { s in Double(scale) * (0..<d).reduce(0.0) { $0 + Double(q[$1]) * Double(k[s * ld + $1]) } }
                    let mx = logits.max()!, w = logits.map { Foundation.exp($0 - mx) }, z = w.reduce(0, +)
                    for i in 0..<d {
                        let ref = (0..<n).reduce(0.0) { $0 + w[$1] / z * Double(vv[$1 * ld + i]) }
                        #expect(abs(Double(out[i]) - ref) <= 1e-5, "attend level \(level) n \(n) d \(d)")
                        #expect(abs(Double(outT[i]) - ref) <= 1e-5, "attend (transposed keys) level \(level) n \(n) d \(d)")
                    }
                }
            }
        }
    }
}
