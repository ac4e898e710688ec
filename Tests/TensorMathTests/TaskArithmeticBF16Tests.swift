import Testing
@testable import TensorMath

/// The fused bf16 task-arithmetic kernel (vectorised C) against the same steps written in Swift, one
/// rounded float32 operation at a time, on every instruction set this CPU has: the bits must be equal,
/// NaN and infinities included, and the non-finite count must match.
@Suite("Fused bf16 task arithmetic (CKernels)", .serialized)
struct TaskArithmeticBF16Tests {
    /// bf16 bit patterns: mostly ordinary values of mixed magnitude, plus zeros of both signs, NaN
    /// (signalling and quiet payloads), ±infinity, subnormals and values near the largest finite.
    static func bits(_ n: Int, seed: UInt64) -> [UInt16] {
        var s = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        let specials: [UInt16] = [0x0000, 0x8000, 0x7FC0, 0xFFC1, 0x7F81, 0x7F80, 0xFF80, 0x0001, 0x807F, 0x7F7F, 0xFF7F]
        return (0..<n).map { i in
            s ^= s << 13; s ^= s >> 7; s ^= s << 17
            if i % 97 == 5 { return specials[Int(s % UInt64(specials.count))] }
            // Exponents around 1 (most), with a few large ones so that sums overflow or round to ties.
            let exponent = UInt16(s >> 60 == 0 ? 120 + (s >> 8) % 130 : 118 + (s >> 8) % 14)
            return UInt16(truncatingIfNeeded: s >> 40) & 0x807F | exponent << 7
        }
    }

    static func widen(_ b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }

    /// The reference: the operations `TaskArithmeticMethod.merge` performs, in Swift.
    static func reference(_ base: [UInt16], _ xs: [[UInt16]], _ w: [Float], normalize: Bool, divisor: Float, lambda: Float) -> ([UInt16], [Float], Int) {
        var bad = 0
        var wide: [Float] = []
        let out = base.indices.map { j -> UInt16 in
            var m: Float = 0
            for (i, x) in xs.enumerated() { m += (widen(x[j]) - widen(base[j])) * w[i] }
            if normalize { m /= divisor }
            if lambda != 1 { m *= lambda }
            let y = widen(base[j]) + m
            if !y.isFinite { bad += 1 }
            wide.append(y)
            return HalfPrecision.floatToBF16(y)
        }
        return (out, wide, bad)
    }

    @Test(arguments: [(1, false, Float(1)), (2, false, Float(0.9)), (3, true, Float(1)), (2, true, Float(1.5))])
    func equalsTheSwiftSteps(_ inputs: Int, _ normalize: Bool, _ lambda: Float) {
        let n = 5000 + 37  // several tiles of the kernel and a tail below every vector width
        let base = Self.bits(n, seed: 1)
        let xs = (0..<inputs).map { Self.bits(n, seed: UInt64(2 + $0)) }
        let w: [Float] = [0.6, -0.4, 0.3].prefix(inputs).map { $0 }
        let divisor: Float = normalize ? w.reduce(0, +) : 1
        let offset = 113
        let (expected, expectedWide, expectedBad) = Self.reference(
            Array(base[offset...]), xs.map { Array($0[offset...]) }, w, normalize: normalize, divisor: divisor, lambda: lambda)
        #expect(expectedBad > 0, "the data must exercise the non-finite count")
        let best = Kernels.limitSIMD(2)
        defer { Kernels.limitSIMD(best) }
        for level in 0...best {
            Kernels.limitSIMD(level)
            // Runs the kernel into `output` (bf16 bits or float32).
            func merged(into output: TaskArithmeticBF16.Output) -> Int {
                base.withUnsafeBufferPointer { b in
                    withPointers(xs) { ps in
                        TaskArithmeticBF16.merge(
                            base: b.baseAddress!, inputs: ps, weights: w, offset: offset, count: n - offset, normalize: normalize,
                            divisor: divisor, lambda: lambda, into: output)
                    }
                }
            }
            var out = [UInt16](repeating: 0, count: n - offset)
            let bad = out.withUnsafeMutableBufferPointer { merged(into: .bf16($0.baseAddress!)) }
            #expect(bad == expectedBad, "level \(level)")
            let first = out.indices.first { out[$0] != expected[$0] }
            #expect(first == nil, "level \(level): element \(first ?? -1) is \(String(out[first ?? 0], radix: 16)), expected \(String(expected[first ?? 0], radix: 16))")
            // The float32 output: the same values before rounding (bit for bit, NaN payloads included).
            var wide = [Float](repeating: 0, count: n - offset)
            let badWide = wide.withUnsafeMutableBufferPointer { merged(into: .f32($0.baseAddress!)) }
            #expect(badWide == expectedBad, "level \(level), float32")
            let firstWide = wide.indices.first { wide[$0].bitPattern != expectedWide[$0].bitPattern }
            #expect(firstWide == nil, "level \(level): float32 element \(firstWide ?? -1) differs")
        }
    }

    /// The sparse kernel (magnitude-selected deltas, TIES' sign consensus) against its formula written
    /// in Swift, on every instruction set this CPU has. One delta in five is exactly 0 and the threshold
    /// of the first input is 0, so groups with values equal to the threshold (the bitmap's fix-up) are
    /// everywhere; the others cover a threshold taken from the data, a NaN threshold, all and none.
    @Test(arguments: [(true, true, Float(1)), (true, false, Float(0.7)), (false, true, Float(1)), (false, false, Float(1))])
    func sparseEqualsItsFormula(_ consensus: Bool, _ normalize: Bool, _ lambda: Float) {
        let n = 5000 + 37, offset = 113
        let base = Self.bits(n, seed: 11)
        let xs = (0..<6).map { i in Self.bits(n, seed: UInt64(12 + i)).enumerated().map { $0.offset % 5 == i % 5 ? base[$0.offset] : $0.element } }
        let allWeights: [Float] = [0.6, -0.4, 0.3, 0.2, -0.1, 0.5]
        var state: UInt64 = 99
        let ties = (0..<(n + 63) / 64).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407; return state
        }
        let middle = abs(Self.widen(xs[1][200]) - Self.widen(base[200]))
        // Six inputs: the kernel keeps four inputs' deltas per tile and computes the others again.
        for sets in [[0, 1, 2], [3, 4, 1], [0, 1, 2, 3, 4, 0]] {
            let w = Array(allWeights.prefix(sets.count))
            // 0: above 0; 1: above a value of the data; 2: all; 3: none; 4: only NaNs (bitmap).
            let thresholds: [Float] = [0, middle, 0, 0, .nan]
            func kept(_ kind: Int, _ d: Float, _ i: Int) -> Bool {
                let bit = ties[i >> 6] >> UInt64(i & 63) & 1 == 1, t = thresholds[kind], m = abs(d)
                switch kind {
                case 2: return true
                case 3: return false
                case 4: return d.isNaN && bit
                default: return m > t || m.isNaN || (m == t && bit)
                }
            }
            let plain = w.reduce(0, +)
            var expected: [UInt16] = [], expectedBad = 0
            for j in offset..<n {
                let b = Self.widen(base[j])
                let u = sets.indices.map { i -> Float in
                    let d = Self.widen(xs[i][j]) - b
                    return (kept(sets[i], d, j) ? d : 0) * w[i]
                }
                var s: Float = 0
                for x in u { s += x }
                var m: Float = 0, divisor: Float = 0
                if consensus {
                    for (i, x) in u.enumerated() where x != 0 && (x > 0) == (s >= 0) { m += x; divisor += w[i] }
                    if divisor == 0 { divisor = 1 }
                } else {
                    m = s; divisor = plain
                }
                if normalize { m /= divisor }
                if lambda != 1 { m *= lambda }
                let y = b + m
                if !y.isFinite { expectedBad += 1 }
                expected.append(HalfPrecision.floatToBF16(y))
            }
            let best = Kernels.limitSIMD(2)
            defer { Kernels.limitSIMD(best) }
            for level in 0...best {
                Kernels.limitSIMD(level)
                var out = [UInt16](repeating: 0, count: n - offset)
                let bad = ties.withUnsafeBufferPointer { t in
                    let keptSets: [TaskArithmeticBF16.KeptSet] = sets.map {
                        $0 == 2 ? .all : $0 == 3 ? .none : .above(thresholds[$0], ties: t.baseAddress!)
                    }
                    return base.withUnsafeBufferPointer { b in
                        withPointers(Array(xs.prefix(sets.count))) { ps in
                            out.withUnsafeMutableBufferPointer { o in
                                TaskArithmeticBF16.mergeSparse(
                                    base: b.baseAddress!, inputs: ps, weights: w, kept: keptSets, offset: offset, count: n - offset,
                                    consensus: consensus, normalize: normalize, divisor: plain, lambda: lambda, into: .bf16(o.baseAddress!))
                            }
                        }
                    }
                }
                #expect(bad == expectedBad, "sets \(sets) level \(level)")
                let first = out.indices.first { out[$0] != expected[$0] }
                #expect(first == nil, "sets \(sets) level \(level): element \(first.map { $0 + offset } ?? -1) differs")
            }
        }
    }

    private func withPointers<R>(_ arrays: [[UInt16]], _ body: ([UnsafePointer<UInt16>]) -> R) -> R {
        var pointers: [UnsafePointer<UInt16>] = []
        var copies: [UnsafeMutableBufferPointer<UInt16>] = []
        for a in arrays {
            let c = UnsafeMutableBufferPointer<UInt16>.allocate(capacity: a.count)
            _ = c.initialize(from: a)
            copies.append(c)
            pointers.append(UnsafePointer(c.baseAddress!))
        }
        defer { for c in copies { c.deallocate() } }
        return body(pointers)
    }
}
