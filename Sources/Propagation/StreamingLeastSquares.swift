internal import CBLAS
import Merging
import Surgery
import TensorMath
import Vocabulary

/// Least squares `min ‖A·X − B‖_F` for tall `A` `[n, k]`, `B` `[n, m]` without materialising them
/// (Documentation/Propagation.md §5, "Solving the least squares").
///
/// Row blocks are added one at a time; the normal equations `G = AᵀA` (`dsyrk`, upper triangle) and
/// `C = AᵀB` (`dgemm`) are accumulated in float64, together with `‖B‖²`. ``solve()`` factors `G` by
/// Cholesky (`dpotrf`/`dpotrs`) when its reciprocal condition number (`dpocon`) is at least
/// ``choleskyMinRcond``, and otherwise solves `G·X = C` with the SVD-based `dgelsd` (singular values
/// below `svdRcond · σ_max(G)` are dropped: the minimum-norm solution, as `numpy.linalg.lstsq`).
///
/// With ``FitPrecision/mixed`` the block products are computed by `ssyrk`/`sgemm` on the rows rounded
/// to float32 (or, for rows given as bfloat16, by ``TensorMath/GramBF16``'s exact bfloat16 products with
/// float32 block sums) and each block's result is added into the float64 `G` and `C`; the diagonals of `G` and
/// `C` (where float32 rounding errors pile up with one sign: sums of squares, and of products of nearly
/// equal base and instruct values) are summed in float64 from the float64 rows.
/// The blocks whose add-call index is in `checkBlocks` are also computed in float64, and their
/// differences give ``ErrorEstimate``: the change of X those rounding errors cause, scaled to every
/// block (Documentation/Propagation.md §5, "Solving the least squares").
public final class StreamingLeastSquares {
    /// Columns of A (X is `[k, m]`).
    public let k: Int
    /// Columns of B.
    public let m: Int
    /// Rows added so far.
    public private(set) var rows = 0
    /// Smallest rcond(G) for which the Cholesky solution is kept.
    public var choleskyMinRcond = 1e-12
    /// Relative singular-value cut-off of the SVD fallback (on G, so its square root on A).
    public var svdRcond = 1e-13
    /// How the block products are accumulated.
    public let precision: FitPrecision
    /// Mixed precision: indices of the ``add(a:b:count:)`` calls whose products are also computed in float64.
    public let checkBlocks: Set<Int>
    /// `add` calls so far.
    public private(set) var blocks = 0
    /// Mixed precision: blocks whose products came from the bfloat16 kernel (``TensorMath/GramBF16``).
    public private(set) var bfloat16Blocks = 0
    private var checkedBlocks = 0
    private var g: [Double]  // [k, k], upper triangle valid
    private var c: [Double]  // [k, m]
    private var bNorm2 = 0.0
    private let mixed: MixedBuffers?

    /// How the system was solved.
    public enum Method: String, Sendable { case cholesky, svd, gelsy }

    /// The fitted X and how good it is.
    public struct Solution: Sendable {
        /// X, row-major `[k, m]`.
        public let x: [Double]
        /// How X was solved (Cholesky, or the SVD fallback).
        public let method: Method
        /// Reciprocal condition number of G in the 1-norm (LAPACK `dpocon`); 0 when G is not positive definite.
        public let rcond: Double
        /// Numerical rank of G (SVD fallback) or k (Cholesky).
        public let rank: Int
        /// `‖A·X − B‖_F / ‖B‖_F`, from the accumulated moments: `‖B‖² − 2⟨X, C⟩ + ⟨X, G·X⟩`
        /// (accurate to about √(ε·cond(G)) relative; clamped at 0).
        public let relativeResidual: Double
        /// `‖X − I‖_F / ‖I‖_F` (k = m), NaN otherwise.
        public let distanceFromIdentity: Double
        /// Rows fitted.
        public let rows: Int
        /// Why the Cholesky solve was not kept, when it was not.
        public let fallbackReason: String?
        /// How the normal equations were accumulated.
        public var precision: FitPrecision = .float64
        /// The threads OpenBLAS/LAPACK ran the fit with (``TensorMath/BLAS/threadCount``: `LEP_THREADS`).
        public var blasThreads = BLAS.threadCount
        /// Mixed precision with checked blocks and a Cholesky solve: the estimated error of X.
        public var errorEstimate: ErrorEstimate?
    }

    /// The estimated error of a mixed-precision X on some of its columns: `G⁻¹·(ΔC − ΔG·X)` with ΔG, ΔC the
    /// float32 rounding errors of the checked blocks, times √(blocks / checked blocks) (independent errors
    /// of the unchecked blocks add up like a random walk; the diagonal, where they would not, is exact).
    public struct ErrorEstimate: Sendable {
        /// Columns of X estimated.
        public let columns: [Int]
        /// The error, row-major `[k, columns.count]`.
        public let dx: [Double]
        /// Blocks checked in float64, of `blocks`.
        public let checkedBlocks: Int
        /// Row blocks accumulated.
        public let blocks: Int
    }

    /// An empty accumulator for `A [·, k]`, `B [·, m]`; `checkBlocks` (mixed precision): the `add` calls
    /// also computed in float64 for ``ErrorEstimate`` (``checkBlockIndices(blocks:)``).
    public init(k: Int, m: Int, precision: FitPrecision = .float64, checkBlocks: Set<Int> = []) {
        self.k = k
        self.m = m
        self.precision = precision
        self.checkBlocks = precision == .mixed ? checkBlocks : []
        g = [Double](repeating: 0, count: k * k)
        c = [Double](repeating: 0, count: k * m)
        mixed = precision == .mixed ? MixedBuffers(k: k, m: m, checked: !self.checkBlocks.isEmpty) : nil
    }

    /// Mixed precision: the float32 block products, the float64 diagonal of G, the checked blocks' errors.
    private final class MixedBuffers {
        let g32: UnsafeMutablePointer<Float>, c32: UnsafeMutablePointer<Float>
        /// Σ a_i·a_i and Σ a_i·b_i (i < min(k, m)) in float64.
        let diag: UnsafeMutablePointer<Double>, diagC: UnsafeMutablePointer<Double>
        /// Σ (float32 − float64 products) over the checked blocks: G's strict upper triangle, C.
        let errG: UnsafeMutablePointer<Double>?, errC: UnsafeMutablePointer<Double>?
        var a32: [Float] = [], b32: [Float] = []
        /// The bfloat16 kernel's packing buffers, made on the first bfloat16 block.
        var gram: GramBF16?

        init(k: Int, m: Int, checked: Bool) {
            g32 = .allocate(capacity: k * k)
            c32 = .allocate(capacity: k * m)
            diag = .allocate(capacity: k)
            diag.initialize(repeating: 0, count: k)
            diagC = .allocate(capacity: min(k, m))
            diagC.initialize(repeating: 0, count: min(k, m))
            errG = checked ? .allocate(capacity: k * k) : nil
            errC = checked ? .allocate(capacity: k * m) : nil
            errG?.initialize(repeating: 0, count: k * k)
            errC?.initialize(repeating: 0, count: k * m)
        }

        deinit {
            g32.deallocate(); c32.deallocate(); diag.deallocate(); diagC.deallocate(); errG?.deallocate(); errC?.deallocate()
        }
    }

    /// Mixed precision: the largest block (rows per `add` call) lep propagate uses.
    public static let mixedBlockRows = 1024

    /// Three `add` calls spread over `blocks` (first, middle, last) to check in float64.
    public static func checkBlockIndices(blocks: Int) -> Set<Int> {
        blocks <= 0 ? [] : [0, blocks / 2, blocks - 1]
    }

    /// Adds `count` rows: `a` row-major `[count, k]`, `b` row-major `[count, m]`.
    public func add(a: UnsafePointer<Double>, b: UnsafePointer<Double>, count: Int) {
        add(a: a, b: b, count: count, bf16: nil)
    }

    /// Adds `count` rows as ``add(a:b:count:)``; with ``FitPrecision/mixed`` and `bf16` given, the same rows
    /// as bfloat16 values (`bf16.a[r]` points at the `k` values of row r of `a`, equal to them exactly;
    /// `bf16.b[r]` at the `m` of `b`), the block products come from ``TensorMath/GramBF16`` (exact products,
    /// float32 block sums, as the float32 BLAS path) where the CPU has AVX512-BF16.
    public func add(
        a: UnsafePointer<Double>, b: UnsafePointer<Double>, count: Int, bf16: (a: [UnsafePointer<UInt16>], b: [UnsafePointer<UInt16>])?
    ) {
        guard count > 0 else { return }
        _ = BLAS.configureThreads
        let (k32, m32, n32) = (Int32(k), Int32(m), Int32(count))
        switch precision {
        case .float64:
            g.withUnsafeMutableBufferPointer { gp in
                // G += Aᵀ·A (upper triangle)
                cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, k32, n32, 1.0, a, k32, 1.0, gp.baseAddress, k32)
            }
            c.withUnsafeMutableBufferPointer { cp in
                // C += Aᵀ·B
                cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k32, m32, n32, 1.0, a, k32, b, m32, 1.0, cp.baseAddress, m32)
            }
            bNorm2 += cblas_ddot(Int32(count * m), b, 1, b, 1)
        case .mixed:
            addMixed(a: a, b: b, count: count, bf16: bf16)
            bNorm2 += Self.sumOfSquares(b, count: count * m)
        }
        rows += count
        blocks += 1
    }

    /// One block in float32 products (float32 BLAS, or bfloat16 dot products when `bf16` rows are given), added
    /// into the float64 accumulators (diagonals of G and C in float64).
    private func addMixed(a: UnsafePointer<Double>, b: UnsafePointer<Double>, count n: Int, bf16: (a: [UnsafePointer<UInt16>], b: [UnsafePointer<UInt16>])?) {
        guard let mx = mixed else { return }
        let (k, m) = (self.k, self.m)
        let (k32, m32, n32) = (Int32(k), Int32(m), Int32(n))
        // A checked block: its float64 products, to record the float32 rounding errors.
        var exactG: UnsafeMutablePointer<Double>?, exactC: UnsafeMutablePointer<Double>?
        if checkBlocks.contains(blocks), mx.errG != nil {
            let eg = UnsafeMutablePointer<Double>.allocate(capacity: k * k), ec = UnsafeMutablePointer<Double>.allocate(capacity: k * m)
            cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, k32, n32, 1.0, a, k32, 0.0, eg, k32)
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k32, m32, n32, 1.0, a, k32, b, m32, 0.0, ec, m32)
            (exactG, exactC) = (eg, ec)
            checkedBlocks += 1
        }
        defer { exactG?.deallocate(); exactC?.deallocate() }
        if let rows = bf16, GramBF16.available, rows.a.count == n, rows.b.count == n {
            if mx.gram == nil || mx.gram!.maxRows < n { mx.gram = GramBF16(k: k, m: m, maxRows: max(n, Self.mixedBlockRows)) }
            let gram = mx.gram!
            bfloat16Blocks += 1
            guard exactG != nil else {
                // Straight into the float64 sums; then the diagonals.
                g.withUnsafeMutableBufferPointer { gb in c.withUnsafeMutableBufferPointer { gram.add(aRows: rows.a, bRows: rows.b, g: gb.baseAddress!, c: $0.baseAddress!) } }
                accumulate(blockG: nil as UnsafePointer<Double>?, blockC: nil, exactG: nil, exactC: nil, a: a, b: b, count: n, mx: mx)
                return
            }
            // Checked: the block alone (float64 temporaries), then as the float32 path.
            let tg = UnsafeMutablePointer<Double>.allocate(capacity: k * k), tc = UnsafeMutablePointer<Double>.allocate(capacity: k * m)
            defer { tg.deallocate(); tc.deallocate() }
            tg.initialize(repeating: 0, count: k * k)
            tc.initialize(repeating: 0, count: k * m)
            gram.add(aRows: rows.a, bRows: rows.b, g: tg, c: tc)
            accumulate(blockG: UnsafePointer(tg), blockC: UnsafePointer(tc), exactG: exactG, exactC: exactC, a: a, b: b, count: n, mx: mx)
            return
        }
        if mx.a32.count < n * k { mx.a32 = [Float](repeating: 0, count: n * k) }
        if mx.b32.count < n * m { mx.b32 = [Float](repeating: 0, count: n * m) }
        mx.a32.withUnsafeMutableBytes { ElementConversion.convert(UnsafeRawPointer(a), from: .f64, to: $0.baseAddress!, as: .f32, count: n * k) }
        mx.b32.withUnsafeMutableBytes { ElementConversion.convert(UnsafeRawPointer(b), from: .f64, to: $0.baseAddress!, as: .f32, count: n * m) }
        mx.a32.withUnsafeBufferPointer { ap in
            mx.b32.withUnsafeBufferPointer { bp in
                cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, k32, n32, 1, ap.baseAddress, k32, 0, mx.g32, k32)
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k32, m32, n32, 1, ap.baseAddress, k32, bp.baseAddress, m32, 0, mx.c32, m32)
            }
        }
        accumulate(blockG: UnsafePointer(mx.g32), blockC: UnsafePointer(mx.c32), exactG: exactG, exactC: exactC, a: a, b: b, count: n, mx: mx)
    }

    /// Adds a block's products `blockG` (strict upper triangle) and `blockC` into G and C (none: already added),
    /// its rounding errors against `exactG`/`exactC` (a checked block) into the error sums, and the block's
    /// diagonals of G and C, from the float64 rows, into their float64 sums.
    private func accumulate<F: BinaryFloatingPoint>(
        blockG: UnsafePointer<F>?, blockC: UnsafePointer<F>?, exactG: UnsafeMutablePointer<Double>?, exactC: UnsafeMutablePointer<Double>?,
        a: UnsafePointer<Double>, b: UnsafePointer<Double>, count n: Int, mx: MixedBuffers
    ) {
        let (k, m) = (self.k, self.m)
        let block = UncheckedSendable((blockG, blockC))
        let exact = UncheckedSendable((exactG, exactC))
        let input = UncheckedSendable((a, b))
        g.withUnsafeMutableBufferPointer { gb in
            c.withUnsafeMutableBufferPointer { cb in
                let acc = UncheckedSendable((gb.baseAddress!, cb.baseAddress!))
                Parallel.forChunks(count: k, minChunk: 16) { range in
                    let (g, c) = acc.value
                    if let g32 = block.value.0, let c32 = block.value.1 {
                        for i in range {
                            // G's strict upper triangle and C: the float32 block products.
                            for j in (i + 1)..<max(i + 1, k) { g[i * k + j] += Double(g32[i * k + j]) }
                            for j in 0..<m { c[i * m + j] += Double(c32[i * m + j]) }
                            if let xg = exact.value.0, let xc = exact.value.1, let eg = mx.errG, let ec = mx.errC {
                                for j in (i + 1)..<max(i + 1, k) { eg[i * k + j] += Double(g32[i * k + j]) - xg[i * k + j] }
                                for j in 0..<m where j != i { ec[i * m + j] += Double(c32[i * m + j]) - xc[i * m + j] }
                            }
                        }
                    }
                    // The diagonals of G and C in float64, row by row over this chunk of columns.
                    let (ap, bp) = input.value
                    let mc = range.clamped(to: 0..<m)
                    for p in 0..<n {
                        let ar = ap + p * k, br = bp + p * m
                        for i in range { mx.diag[i] += ar[i] * ar[i] }
                        for i in mc { mx.diagC[i] += ar[i] * br[i] }
                    }
                }
            }
        }
    }

    /// `Σ v[i]²` on lep's threads, in a fixed order (eight partial sums): OpenBLAS's threaded `ddot` would wake
    /// its worker, which then spins beside the bfloat16 kernel's threads after every block.
    static func sumOfSquares(_ v: UnsafePointer<Double>, count: Int) -> Double {
        let parts = 8
        var partial = [Double](repeating: 0, count: parts)
        partial.withUnsafeMutableBufferPointer { pp in
            let out = UncheckedSendable(pp.baseAddress!)
            Parallel.forChunks(count: parts, minChunk: 1) { range in
                for q in range {
                    // Four running sums (independent additions), then the tail.
                    var (s0, s1, s2, s3) = (0.0, 0.0, 0.0, 0.0)
                    let lo = q * count / parts, hi = (q + 1) * count / parts
                    var i = lo
                    while i + 4 <= hi {
                        s0 += v[i] * v[i]; s1 += v[i + 1] * v[i + 1]; s2 += v[i + 2] * v[i + 2]; s3 += v[i + 3] * v[i + 3]
                        i += 4
                    }
                    while i < hi { s0 += v[i] * v[i]; i += 1 }
                    out.value[q] = (s0 + s1) + (s2 + s3)
                }
            }
        }
        return partial.reduce(0, +)
    }

    /// Solves the accumulated system.
    public func solve() throws(SurgeryError) -> Solution {
        _ = BLAS.configureThreads
        guard rows > 0 else { throw .fitFailed(tensor: nil, reason: "no row pairs to fit X on (the vocabularies share no tokens?)") }
        let (k32, m32) = (Int32(k), Int32(m))
        if let mx = mixed {
            for i in 0..<k { g[i * k + i] = mx.diag[i] }
            for i in 0..<min(k, m) { c[i * m + i] = mx.diagC[i] }
        }
        var factor = g
        let anorm = factor.withUnsafeBufferPointer { LAPACKE_dlansy(LAPACK_ROW_MAJOR, 49 /* '1' */, 85 /* 'U' */, k32, $0.baseAddress, k32) }
        var rcond = 0.0
        var method = Method.cholesky
        var reason: String?
        var rank = k
        var x = c
        let info = factor.withUnsafeMutableBufferPointer { LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 85, k32, $0.baseAddress, k32) }
        if info == 0 {
            _ = factor.withUnsafeBufferPointer { LAPACKE_dpocon(LAPACK_ROW_MAJOR, 85, k32, $0.baseAddress, k32, anorm, &rcond) }
            if rcond < choleskyMinRcond { reason = "G = AᵀA is ill-conditioned (rcond \(rcond) < \(choleskyMinRcond))" }
        } else {
            reason = "G = AᵀA is not positive definite (dpotrf info \(info); fewer independent rows than columns?)"
        }
        if reason == nil {
            let rc = factor.withUnsafeBufferPointer { f in
                x.withUnsafeMutableBufferPointer { LAPACKE_dpotrs(LAPACK_ROW_MAJOR, 85, k32, m32, f.baseAddress, k32, $0.baseAddress, m32) }
            }
            if rc != 0 { reason = "dpotrs failed (info \(rc))" }
        }
        if reason != nil {
            method = .svd
            var full = g
            for i in 0..<k { for j in 0..<i { full[i * k + j] = full[j * k + i] } }
            x = c
            var s = [Double](repeating: 0, count: k)
            var r: Int32 = 0
            let rc = full.withUnsafeMutableBufferPointer { fp in
                x.withUnsafeMutableBufferPointer { xp in
                    s.withUnsafeMutableBufferPointer { sp in
                        LAPACKE_dgelsd(LAPACK_ROW_MAJOR, k32, k32, m32, fp.baseAddress, k32, xp.baseAddress, m32, sp.baseAddress, svdRcond, &r)
                    }
                }
            }
            guard rc == 0 else { throw .fitFailed(tensor: nil, reason: "the SVD solver dgelsd did not converge (info \(rc))") }
            rank = Int(r)
        }
        // Residual from the moments: ‖AX − B‖² = ‖B‖² − 2⟨X, C⟩ + ⟨X, G·X⟩.
        var gx = [Double](repeating: 0, count: k * m)
        g.withUnsafeBufferPointer { gp in
            x.withUnsafeBufferPointer { xp in
                gx.withUnsafeMutableBufferPointer { op in
                    cblas_dsymm(CblasRowMajor, CblasLeft, CblasUpper, k32, m32, 1.0, gp.baseAddress, k32, xp.baseAddress, m32, 0.0, op.baseAddress, m32)
                }
            }
        }
        let xc = cblas_ddot(Int32(k * m), x, 1, c, 1)
        let xgx = cblas_ddot(Int32(k * m), x, 1, gx, 1)
        let res2 = max(0, bNorm2 - 2 * xc + xgx)
        let relRes = bNorm2 > 0 ? (res2 / bNorm2).squareRoot() : 0
        var solution = Solution(
            x: x, method: method, rcond: rcond, rank: rank, relativeResidual: relRes,
            distanceFromIdentity: Self.distanceFromIdentity(x, k: k, m: m), rows: rows, fallbackReason: reason)
        solution.precision = precision
        if let mx = mixed, let eg = mx.errG, let ec = mx.errC, method == .cholesky, checkedBlocks > 0 {
            solution.errorEstimate = errorEstimate(x: x, factor: factor, errG: eg, errC: ec)
        }
        return solution
    }

    /// ``ErrorEstimate`` on up to 512 evenly spaced columns of X, with the Cholesky `factor` of G.
    private func errorEstimate(x: [Double], factor: [Double], errG: UnsafePointer<Double>, errC: UnsafePointer<Double>) -> ErrorEstimate {
        let step = max(1, m / 512)
        let cols = Array(stride(from: 0, to: m, by: step).prefix(512))
        let nc = cols.count
        var xc = [Double](repeating: 0, count: k * nc)
        var r = [Double](repeating: 0, count: k * nc)
        for i in 0..<k {
            for (q, j) in cols.enumerated() {
                xc[i * nc + q] = x[i * m + j]
                r[i * nc + q] = errC[i * m + j]
            }
        }
        // r = ΔC − ΔG·X (ΔG symmetric, upper triangle, zero diagonal)
        xc.withUnsafeBufferPointer { xp in
            r.withUnsafeMutableBufferPointer { rp in
                cblas_dsymm(CblasRowMajor, CblasLeft, CblasUpper, Int32(k), Int32(nc), -1.0, errG, Int32(k), xp.baseAddress, Int32(nc), 1.0, rp.baseAddress, Int32(nc))
            }
        }
        _ = factor.withUnsafeBufferPointer { f in
            r.withUnsafeMutableBufferPointer { LAPACKE_dpotrs(LAPACK_ROW_MAJOR, 85, Int32(k), Int32(nc), f.baseAddress, Int32(k), $0.baseAddress, Int32(nc)) }
        }
        let scale = (Double(blocks) / Double(checkedBlocks)).squareRoot()
        for q in r.indices { r[q] *= scale }
        return ErrorEstimate(columns: cols, dx: r, checkedBlocks: checkedBlocks, blocks: blocks)
    }

    /// `torch.linalg.lstsq(A, B, driver="gelsy")` in float64 on dense `a` `[rows, k]`, `b` `[rows, m]`
    /// (row-major): LAPACK `dgelsy` (complete orthogonal factorisation with column pivoting, the
    /// minimum-norm solution of a rank-deficient A) with torch's default `rcond = ε·max(rows, k)`.
    /// What `--compat reference` uses; it needs A and B in memory, as the reference does.
    public static func gelsy(a: [Double], b: [Double], rows n: Int, k: Int, m: Int) throws(SurgeryError) -> Solution {
        _ = BLAS.configureThreads
        guard n > 0 else { throw .fitFailed(tensor: nil, reason: "no row pairs to fit X on (the vocabularies share no tokens?)") }
        var am = a
        let ld = max(n, k)
        var bm = [Double](repeating: 0, count: ld * m)
        for i in 0..<(n * m) { bm[i] = b[i] }
        var jpvt = [Int32](repeating: 0, count: k)
        var rank: Int32 = 0
        let rcond = Double.ulpOfOne * Double(max(n, k))
        let info = am.withUnsafeMutableBufferPointer { ap in
            bm.withUnsafeMutableBufferPointer { bp in
                jpvt.withUnsafeMutableBufferPointer { jp in
                    LAPACKE_dgelsy(LAPACK_ROW_MAJOR, Int32(n), Int32(k), Int32(m), ap.baseAddress, Int32(k), bp.baseAddress, Int32(m), jp.baseAddress, rcond, &rank)
                }
            }
        }
        guard info == 0 else { throw .fitFailed(tensor: nil, reason: "dgelsy failed (info \(info))") }
        let x = Array(bm[0..<(k * m)])
        // ‖A·X − B‖ / ‖B‖ in row blocks.
        var num = 0.0, den = 0.0
        let block = 4096
        var r = [Double](repeating: 0, count: min(block, n) * m)
        var lo = 0
        while lo < n {
            let c = min(block, n - lo)
            a.withUnsafeBufferPointer { ap in
                x.withUnsafeBufferPointer { xp in
                    r.withUnsafeMutableBufferPointer { rp in
                        cblas_dgemm(
                            CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(c), Int32(m), Int32(k), 1.0,
                            ap.baseAddress! + lo * k, Int32(k), xp.baseAddress, Int32(m), 0.0, rp.baseAddress, Int32(m))
                    }
                }
            }
            for q in 0..<(c * m) {
                let bv = b[lo * m + q], d = r[q] - bv
                num += d * d
                den += bv * bv
            }
            lo += c
        }
        return Solution(
            x: x, method: .gelsy, rcond: rcond, rank: Int(rank), relativeResidual: den > 0 ? (num / den).squareRoot() : 0,
            distanceFromIdentity: distanceFromIdentity(x, k: k, m: m), rows: n, fallbackReason: nil)
    }

    /// `‖X − I‖_F / ‖I‖_F` for square X, NaN otherwise.
    static func distanceFromIdentity(_ x: [Double], k: Int, m: Int) -> Double {
        guard k == m else { return .nan }
        var d2 = 0.0
        for i in 0..<k { for j in 0..<m { let v = x[i * m + j] - (i == j ? 1 : 0); d2 += v * v } }
        return (d2 / Double(k)).squareRoot()
    }
}
