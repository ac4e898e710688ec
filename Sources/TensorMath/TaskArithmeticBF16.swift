import CKernels

/// Plain task arithmetic on bfloat16 tensors fused with the rounding of the result (`lep_task_arithmetic_bf16`,
/// vectorised C): for each element, m = 0 + (x₀ − b)·w₀ + (x₁ − b)·w₁ + …, then m ÷ divisor when
/// normalising, m × λ when λ ≠ 1, and y = b + m rounded to bfloat16, every operation rounded to float32 in
/// that order (no fused multiply-add), so the bytes equal those of the same steps written in Swift.
package enum TaskArithmeticBF16 {
    /// Merges elements `offset ..< offset + count` of `base` and `inputs` (bfloat16 bits, 2-byte aligned)
    /// into `out[0 ..< count]`; returns how many results were NaN or infinite.
    package static func merge(
        base: UnsafePointer<UInt16>, inputs: [UnsafePointer<UInt16>], weights: [Float], offset: Int, count: Int,
        normalize: Bool, divisor: Float, lambda: Float, out: UnsafeMutablePointer<UInt16>
    ) -> Int {
        precondition(inputs.count == weights.count)
        let xs = inputs.map { Optional($0) }
        return xs.withUnsafeBufferPointer { x in
            weights.withUnsafeBufferPointer { w in
                Int(
                    lep_task_arithmetic_bf16(
                        base, x.baseAddress, w.baseAddress, inputs.count, offset, count, normalize ? 1 : 0, divisor, lambda, out))
            }
        }
    }
}
