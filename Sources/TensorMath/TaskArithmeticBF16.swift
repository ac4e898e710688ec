import CKernels

/// Plain task arithmetic on bfloat16 tensors (`lep_task_arithmetic_bf16`, vectorised C): for each element,
/// m = 0 + (x₀ − b)·w₀ + (x₁ − b)·w₁ + …, then m ÷ divisor when normalising, m × λ when λ ≠ 1, and
/// y = b + m, every operation rounded to float32 in that order (no fused multiply-add), so the results
/// equal those of the same steps written in Swift. y goes out rounded to bfloat16 (fused with the merge)
/// or as float32 (for other output types, converted by the caller).
package enum TaskArithmeticBF16 {
    /// Where the results go.
    package enum Output {
        /// bfloat16 bits, rounded to nearest even (NaN quietened).
        case bf16(UnsafeMutablePointer<UInt16>)
        /// float32, unrounded.
        case f32(UnsafeMutablePointer<Float>)

        /// The C kernels' two output arguments (the unused one nil).
        var pointers: (UnsafeMutablePointer<UInt16>?, UnsafeMutablePointer<Float>?) {
            switch self {
            case .bf16(let p): (p, nil)
            case .f32(let p): (nil, p)
            }
        }
    }

    /// Merges elements `offset ..< offset + count` of `base` and `inputs` (bfloat16 bits, 2-byte aligned)
    /// into elements `0 ..< count` of `output`; returns how many results were NaN or infinite.
    package static func merge(
        base: UnsafePointer<UInt16>, inputs: [UnsafePointer<UInt16>], weights: [Float], offset: Int, count: Int,
        normalize: Bool, divisor: Float, lambda: Float, into output: Output
    ) -> Int {
        precondition(inputs.count == weights.count)
        let xs = inputs.map { Optional($0) }
        let (bf16, f32) = output.pointers
        return xs.withUnsafeBufferPointer { x in
            weights.withUnsafeBufferPointer { w in
                Int(
                    lep_task_arithmetic_bf16(
                        base, x.baseAddress, w.baseAddress, inputs.count, offset, count, normalize ? 1 : 0, divisor, lambda, bf16, f32))
            }
        }
    }
}

extension TaskArithmeticBF16 {
    /// Which entries of one input's delta are kept (`lep_kept_set`).
    package enum KeptSet {
        /// Every entry.
        case all
        /// No entry.
        case none
        /// |δ| > threshold or NaN, and of the entries equal to it (every NaN when it is NaN, and then
        /// nothing else) those whose bit is set in `ties` (bit i of word i / 64 for element i).
        case above(Float, ties: UnsafePointer<UInt64>)

        /// The C description.
        var c: lep_kept_set {
            switch self {
            case .all: lep_kept_set(rule: Int32(LEP_KEEP_ALL), threshold: 0, ties: nil)
            case .none: lep_kept_set(rule: Int32(LEP_KEEP_NONE), threshold: 0, ties: nil)
            case .above(let t, let ties): lep_kept_set(rule: Int32(LEP_KEEP_ABOVE), threshold: t, ties: ties)
            }
        }

        /// u[j] = (kept(first + j) ? d[j] : 0) · w for j < count, with float32 deltas (`lep_weigh_kept`,
        /// the kernel `mergeSparse` applies to bf16 inputs); `u` may be `d`.
        package func weigh(_ d: UnsafePointer<Float>, count: Int, first: Int, weight w: Float, into u: UnsafeMutablePointer<Float>) {
            var set = c
            lep_weigh_kept(d, count, w, &set, first, u)
        }
    }

    /// `merge` over magnitude-selected deltas, with TIES' sign consensus when `consensus`
    /// (`lep_sparse_task_arithmetic_bf16`): uᵢ = (keptᵢ ? xᵢ − b : 0)·wᵢ; s = 0 + u₀ + u₁ + …; with
    /// consensus m = 0 + (the non-zero uᵢ whose sign, > 0, equals s ≥ 0) and divisor = 0 + (their wᵢ),
    /// 0 → 1; without it m = s and divisor = `divisor`; then ÷ divisor, × λ and b + m as in `merge`.
    package static func mergeSparse(
        base: UnsafePointer<UInt16>, inputs: [UnsafePointer<UInt16>], weights: [Float], kept: [KeptSet], offset: Int, count: Int,
        consensus: Bool, normalize: Bool, divisor: Float, lambda: Float, into output: Output
    ) -> Int {
        precondition(inputs.count == weights.count && kept.count == weights.count)
        let xs = inputs.map { Optional($0) }
        let sets = kept.map(\.c)
        let (bf16, f32) = output.pointers
        return xs.withUnsafeBufferPointer { x in
            weights.withUnsafeBufferPointer { w in
                sets.withUnsafeBufferPointer { k in
                    Int(
                        lep_sparse_task_arithmetic_bf16(
                            base, x.baseAddress, w.baseAddress, k.baseAddress, inputs.count, offset, count, consensus ? 1 : 0, normalize ? 1 : 0,
                            divisor, lambda, bf16, f32))
                }
            }
        }
    }
}
