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
    }

    /// Merges elements `offset ..< offset + count` of `base` and `inputs` (bfloat16 bits, 2-byte aligned)
    /// into elements `0 ..< count` of `output`; returns how many results were NaN or infinite.
    package static func merge(
        base: UnsafePointer<UInt16>, inputs: [UnsafePointer<UInt16>], weights: [Float], offset: Int, count: Int,
        normalize: Bool, divisor: Float, lambda: Float, into output: Output
    ) -> Int {
        precondition(inputs.count == weights.count)
        let xs = inputs.map { Optional($0) }
        var bf16: UnsafeMutablePointer<UInt16>?, f32: UnsafeMutablePointer<Float>?
        switch output {
        case .bf16(let p): bf16 = p
        case .f32(let p): f32 = p
        }
        return xs.withUnsafeBufferPointer { x in
            weights.withUnsafeBufferPointer { w in
                Int(
                    lep_task_arithmetic_bf16(
                        base, x.baseAddress, w.baseAddress, inputs.count, offset, count, normalize ? 1 : 0, divisor, lambda, bf16, f32))
            }
        }
    }
}
