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
    private var g: [Double]  // [k, k], upper triangle valid
    private var c: [Double]  // [k, m]
    private var bNorm2 = 0.0

    /// How the system was solved.
    public enum Method: String, Sendable { case cholesky, svd, gelsy }

    /// The fitted X and how good it is.
    public struct Solution: Sendable {
        /// X, row-major `[k, m]`.
        public let x: [Double]
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
    }

    /// An empty accumulator for `A [·, k]`, `B [·, m]`.
    public init(k: Int, m: Int) {
        self.k = k
        self.m = m
        g = [Double](repeating: 0, count: k * k)
        c = [Double](repeating: 0, count: k * m)
    }

    /// Adds `count` rows: `a` row-major `[count, k]`, `b` row-major `[count, m]`.
    public func add(a: UnsafePointer<Double>, b: UnsafePointer<Double>, count: Int) {
        guard count > 0 else { return }
        _ = BLAS.configureThreads
        let (k32, m32, n32) = (Int32(k), Int32(m), Int32(count))
        g.withUnsafeMutableBufferPointer { gp in
            // G += Aᵀ·A (upper triangle)
            cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, k32, n32, 1.0, a, k32, 1.0, gp.baseAddress, k32)
        }
        c.withUnsafeMutableBufferPointer { cp in
            // C += Aᵀ·B
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k32, m32, n32, 1.0, a, k32, b, m32, 1.0, cp.baseAddress, m32)
        }
        bNorm2 += cblas_ddot(Int32(count * m), b, 1, b, 1)
        rows += count
    }

    /// Solves the accumulated system.
    public func solve() throws(SurgeryError) -> Solution {
        guard rows > 0 else { throw .propagation(stage: "least squares", reason: "no row pairs to fit X on (the vocabularies share no tokens?)") }
        let (k32, m32) = (Int32(k), Int32(m))
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
            guard rc == 0 else { throw .propagation(stage: "least squares", reason: "the SVD solver dgelsd did not converge (info \(rc))") }
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
        return Solution(x: x, method: method, rcond: rcond, rank: rank, relativeResidual: relRes,
                        distanceFromIdentity: Self.distanceFromIdentity(x, k: k, m: m), rows: rows, fallbackReason: reason)
    }

    /// `torch.linalg.lstsq(A, B, driver="gelsy")` in float64 on dense `a` `[rows, k]`, `b` `[rows, m]`
    /// (row-major): LAPACK `dgelsy` (complete orthogonal factorisation with column pivoting, the
    /// minimum-norm solution of a rank-deficient A) with torch's default `rcond = ε·max(rows, k)`.
    /// What `--compat reference` uses; it needs A and B in memory, as the reference does.
    public static func gelsy(a: [Double], b: [Double], rows n: Int, k: Int, m: Int) throws(SurgeryError) -> Solution {
        guard n > 0 else { throw .propagation(stage: "least squares", reason: "no row pairs to fit X on (the vocabularies share no tokens?)") }
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
        guard info == 0 else { throw .propagation(stage: "least squares", reason: "dgelsy failed (info \(info))") }
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
                        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(c), Int32(m), Int32(k), 1.0,
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
        return Solution(x: x, method: .gelsy, rcond: rcond, rank: Int(rank), relativeResidual: den > 0 ? (num / den).squareRoot() : 0,
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
