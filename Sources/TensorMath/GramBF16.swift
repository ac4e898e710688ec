import CKernels

/// Block Gram products of bfloat16 rows, `G += AᵀA` (strict upper triangle) and `C += AᵀB`, with AVX512-BF16
/// dot products (`lep_gram_bf16_*` in CKernels): every product of two bfloat16 values is exact in float32,
/// the block's sums are float32 (as a float32 BLAS product of the same rows), and each finished sum is
/// added into the float64 accumulator. About twice the float32 BLAS speed where the CPU has the instructions.
///
/// One instance holds the packed copies of a block (A twice, in both tile widths, and B) for blocks of up
/// to `maxRows` rows of `k` and `m` values.
public final class GramBF16 {
    /// Whether this CPU has AVX512-BF16 (without it the kernel is a slow portable loop: use float32 BLAS).
    public static let available = lep_gram_bf16_available() != 0

    /// Columns of A.
    public let k: Int
    /// Columns of B.
    public let m: Int
    /// Largest block.
    public let maxRows: Int
    private let aNarrow: UnsafeMutablePointer<UInt32>, aWide: UnsafeMutablePointer<UInt32>, bWide: UnsafeMutablePointer<UInt32>
    private static let narrow = Int(LEP_GRAM_BF16_A_WIDTH), wide = Int(LEP_GRAM_BF16_B_WIDTH)

    /// Buffers for blocks of up to `maxRows` rows, A `[·, k]`, B `[·, m]`.
    public init(k: Int, m: Int, maxRows: Int) {
        self.k = k
        self.m = m
        self.maxRows = maxRows
        aNarrow = .allocate(capacity: lep_gram_bf16_packed_words(maxRows, k, Self.narrow))
        aWide = .allocate(capacity: lep_gram_bf16_packed_words(maxRows, k, Self.wide))
        bWide = .allocate(capacity: lep_gram_bf16_packed_words(maxRows, m, Self.wide))
    }

    deinit {
        aNarrow.deallocate(); aWide.deallocate(); bWide.deallocate()
    }

    /// Adds one block of `aRows.count` rows (≤ `maxRows`; `aRows[r]` points at row r's `k` bfloat16 values,
    /// `bRows[r]` at its `m` values): `g[i·k + j] += Σ_r a_r[i]·a_r[j]` for j > i (the diagonal and lower
    /// triangle are left alone) and `c[i·m + j] += Σ_r a_r[i]·b_r[j]`, on `threads` threads (nil: `LEP_THREADS`,
    /// else every core).
    public func add(
        aRows: [UnsafePointer<UInt16>], bRows: [UnsafePointer<UInt16>], g: UnsafeMutablePointer<Double>, c: UnsafeMutablePointer<Double>,
        threads: Int? = nil
    ) {
        let threads = threads ?? Parallel.threadCount
        let n = aRows.count
        precondition(n == bRows.count && n <= maxRows, "GramBF16.add: \(n) rows for a block of at most \(maxRows)")
        guard n > 0 else { return }
        let (k, m) = (self.k, self.m)
        let (narrow, wide) = (Self.narrow, Self.wide)
        let bufs = UncheckedSendable((aNarrow, aWide, bWide, g, c))
        aRows.withUnsafeBufferPointer { ar in
            bRows.withUnsafeBufferPointer { br in
                // `const uint16_t *const *` in C: the same layout as non-optional pointers.
                let rows = UncheckedSendable(
                    (
                        UnsafeRawPointer(ar.baseAddress!).assumingMemoryBound(to: UnsafePointer<UInt16>?.self),
                        UnsafeRawPointer(br.baseAddress!).assumingMemoryBound(to: UnsafePointer<UInt16>?.self)
                    ))
                // Pack: the tiles of the three copies, as one index range.
                let (t1, t2, t3) = ((k + narrow - 1) / narrow, (k + wide - 1) / wide, (m + wide - 1) / wide)
                Self.run(count: t1 + t2 + t3, threads: threads) { range in
                    let (an, aw, bw, _, _) = bufs.value
                    let (a, b) = rows.value
                    let r1 = range.clamped(to: 0..<t1), r2 = range.clamped(to: t1..<(t1 + t2)), r3 = range.clamped(to: (t1 + t2)..<(t1 + t2 + t3))
                    if !r1.isEmpty { lep_gram_bf16_pack(a, n, k, narrow, r1.lowerBound, r1.upperBound, an) }
                    if !r2.isEmpty { lep_gram_bf16_pack(a, n, k, wide, r2.lowerBound - t1, r2.upperBound - t1, aw) }
                    if !r3.isEmpty { lep_gram_bf16_pack(b, n, m, wide, r3.lowerBound - t1 - t2, r3.upperBound - t1 - t2, bw) }
                }
            }
        }
        // Products: interleaved panel sets (parts) for G, then for C.
        let pairs = (n + 1) / 2
        let parts = threads <= 1 ? 1 : 4 * threads
        Self.run(count: 2 * parts, threads: threads) { range in
            let (an, aw, bw, g, c) = bufs.value
            for q in range {
                if q < parts {
                    lep_gram_bf16_panels(an, k, aw, k, pairs, g, k, 1, q, parts)
                } else {
                    lep_gram_bf16_panels(an, k, bw, m, pairs, c, m, 0, q - parts, parts)
                }
            }
        }
    }

    /// `body` over `0..<count` in one call per index range: inline with one thread, else on `Parallel`'s threads.
    private static func run(count: Int, threads: Int, _ body: (Range<Int>) -> Void) {
        if threads <= 1 { body(0..<count) } else { Parallel.forChunks(count: count, minChunk: 1, body) }
    }
}
