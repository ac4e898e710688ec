import CBLAS
import Synchronization

/// Serialises `BLAS.splitLinear` calls.
private let splitLock = Mutex(())

/// Single-precision matrix products through OpenBLAS (row-major).
package enum BLAS {
    /// Sets OpenBLAS's thread count once to `Parallel.threadCount` (so `LEP_THREADS` governs both).
    /// Every BLAS/LAPACK caller (single and double precision, here and in other modules) touches it
    /// first: OpenBLAS's own default (`OPENBLAS_NUM_THREADS` or every core) never applies.
    package static let configureThreads: Void = {
        openblas_set_num_threads(Int32(clamping: Parallel.threadCount))
    }()

    /// The threads OpenBLAS (and LAPACK through it) uses, after ``configureThreads``: `LEP_THREADS`
    /// when set. Recorded with fits so a run shows what it used.
    package static var threadCount: Int {
        _ = configureThreads
        return Int(openblas_get_num_threads())
    }

    /// `C[m, n] = alpha · op(A) · op(B) + beta · C`, row-major, where `op(A)` is `[m, k]` (A stored
    /// `[k, m]` when `transA`) and `op(B)` is `[k, n]` (B stored `[n, k]` when `transB`).
    /// `lda`, `ldb`, `ldc` are the row strides of the stored matrices.
    package static func sgemm(
        transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        _ = configureThreads
        guard m > 0, n > 0 else { return }
        cblas_sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// A linear layer without bias: `y[t, o] = Σᵢ x[t, i] · w[o, i]`, i.e. `y = x · wᵀ`, with
    /// x `[rows, inFeatures]`, w `[outFeatures, inFeatures]` (PyTorch's `nn.Linear` layout) and
    /// y `[rows, outFeatures]` (row stride `ldy`, default `outFeatures`).
    package static func linear(
        _ x: UnsafePointer<Float>, rows: Int, inFeatures: Int, weight w: UnsafePointer<Float>, outFeatures: Int,
        into y: UnsafeMutablePointer<Float>, ldy: Int? = nil
    ) {
        sgemm(
            transB: true, m: rows, n: outFeatures, k: inFeatures, a: x, lda: inFeatures, b: w, ldb: inFeatures,
            c: y, ldc: ldy ?? outFeatures)
    }

    /// `C[m, n] = A[m, k] · B[n, k]ᵀ + beta · C` (B in PyTorch's `nn.Linear` layout) with the n output
    /// columns split over `Parallel.threadCount` threads, each running a single-threaded sgemm on its
    /// slice of B. For the forward pass, whose other loops run on the same threads: OpenBLAS's own
    /// workers spin between calls and take the cores from them. OpenBLAS's thread count is 1 for the
    /// duration of the call (a BLAS call on another thread meanwhile runs on one thread; correct, slower).
    package static func splitLinear(
        m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        _ = configureThreads
        guard m > 0, n > 0 else { return }
        let threads = Parallel.threadCount
        if threads == 1 || n < 32 {
            sgemm(transB: true, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            return
        }
        // One slice per thread: every slice packs all of A again (three per thread cost ~5 % more CPU
        // time on SmolLM-135M shapes).
        let minChunk = max(16, (n / threads + 15) / 16 * 16)
        forChunksSingleThreaded(count: n, minChunk: minChunk) { r in
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(r.count), Int32(k), 1, a, Int32(lda),
                b + r.lowerBound * ldb, Int32(ldb), beta, c + r.lowerBound, Int32(ldc))
        }
    }

    /// `Parallel.forChunks` whose `body` may call ``unthreadedSgemm``: OpenBLAS runs single-threaded
    /// (its thread count is process-wide, so one such loop runs at a time) and the parallelism is lep's.
    package static func forChunksSingleThreaded(count: Int, minChunk: Int, _ body: (Range<Int>) -> Void) {
        _ = configureThreads
        let threads = Parallel.threadCount
        guard threads > 1 else { body(0..<count); return }
        splitLock.withLock { _ in
            openblas_set_num_threads(1)
            Parallel.forChunks(count: count, minChunk: minChunk, body)
            openblas_set_num_threads(Int32(clamping: threads))
        }
    }

    /// ``sgemm`` without touching OpenBLAS's thread configuration: for the body of
    /// ``forChunksSingleThreaded`` (elsewhere it runs on OpenBLAS's configured threads).
    @inline(__always)
    package static func unthreadedSgemm(
        transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        cblas_sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
