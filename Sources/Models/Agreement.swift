#if canImport(Glibc)
import Glibc
#endif
import TensorMath

/// Same-vocabulary agreement of a candidate model q with a reference model p on one token stream
/// (llama.cpp `perplexity --kl-divergence` statistics; Documentation/Evaluation.md §2).
///
/// Per scored position t with next token yₜ: `KLₜ = Σᵥ p(v) (ln p(v) − ln q(v))`, same top-1 when
/// `argmax p = argmax q` (first index on ties), `Δpₜ = q(yₜ) − p(yₜ)`, and `ln p(yₜ) − ln q(yₜ)`, whose
/// mean is `ln(PPL_q / PPL_ref)`. Computed in Double from Float32 logits.
public struct Agreement: Sendable {
    private var kl: [Double] = []
    private var deltaP: [Double] = []
    private var lnRatio: [Double] = []
    private var sameTop1 = 0

    /// An empty accumulator.
    public init() {}

    /// Adds one position: `reference` and `candidate` are logit rows of `vocabSize` values.
    public mutating func add(reference: UnsafePointer<Float>, candidate: UnsafePointer<Float>, vocabSize V: Int, target: Int) {
        let lp = Softmax.logSumExp(reference, count: V), lq = Softmax.logSumExp(candidate, count: V)
        var sum = 0.0
        var bestP = 0, bestQ = 0
        for v in 0..<V {
            let a = Double(reference[v]) - lp, b = Double(candidate[v]) - lq
            sum += exp(a) * (a - b)
            if reference[v] > reference[bestP] { bestP = v }
            if candidate[v] > candidate[bestQ] { bestQ = v }
        }
        kl.append(max(0, sum))
        if bestP == bestQ { sameTop1 += 1 }
        let a = Double(reference[target]) - lp, b = Double(candidate[target]) - lq
        deltaP.append(exp(b) - exp(a))
        lnRatio.append(a - b)
    }

    /// Adds the scored rows of a window: logits [n, V] of both models for the same ids (n tokens);
    /// row t predicts ids[t+1].
    public mutating func add(reference: [Float], candidate: [Float], ids: ArraySlice<Int>, vocabSize V: Int) {
        let base = ids.startIndex
        reference.withUnsafeBufferPointer { r in
            candidate.withUnsafeBufferPointer { c in
                for t in 0..<(ids.count - 1) {
                    add(reference: r.baseAddress! + t * V, candidate: c.baseAddress! + t * V, vocabSize: V, target: ids[base + t + 1])
                }
            }
        }
    }

    /// The summary statistics so far.
    public var statistics: AgreementStatistics {
        let n = kl.count
        let sorted = kl.sorted()
        let mean = n == 0 ? Double.nan : kl.reduce(0, +) / Double(n)
        let dMean = n == 0 ? Double.nan : deltaP.reduce(0, +) / Double(n)
        let dRMS = n == 0 ? Double.nan : (deltaP.reduce(0) { $0 + $1 * $1 } / Double(n)).squareRoot()
        return AgreementStatistics(
            positions: n, klMean: mean, klMedian: Agreement.percentile(sorted, 50), klP99: Agreement.percentile(sorted, 99),
            klMax: sorted.last ?? .nan, sameTop1: n == 0 ? .nan : Double(sameTop1) / Double(n),
            deltaPMean: dMean, deltaPRMS: dRMS, lnPPLRatio: n == 0 ? .nan : lnRatio.reduce(0, +) / Double(n),
            klMeanStandardError: Agreement.standardError(kl),
            sameTop1StandardError: n < 2 ? nil : Agreement.standardError(sameTop1, of: n),
            deltaPMeanStandardError: Agreement.standardError(deltaP),
            lnPPLRatioStandardError: Agreement.standardError(lnRatio))
    }

    /// `s / √n` with the sample variance (n − 1); nil below 2 values.
    static func standardError(_ xs: [Double]) -> Double? {
        guard xs.count >= 2 else { return nil }
        let n = Double(xs.count)
        let m = xs.reduce(0, +) / n
        return (xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / (n - 1) / n).squareRoot()
    }

    /// The standard error of a fraction `k / n` of 0/1 values (sample variance, n − 1).
    static func standardError(_ k: Int, of n: Int) -> Double {
        let p = Double(k) / Double(n)
        return (p * (1 - p) * Double(n) / Double(n - 1) / Double(n)).squareRoot()
    }

    /// The q-th percentile of sorted values with linear interpolation (numpy's default).
    public static func percentile(_ sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let pos = q / 100 * Double(sorted.count - 1)
        let lo = Int(pos.rounded(.down)), hi = min(lo + 1, sorted.count - 1)
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - Double(lo))
    }
}

/// Agreement summary (KL in nats).
public struct AgreementStatistics: Equatable, Sendable {
    /// Positions compared.
    public var positions: Int
    /// Mean, median, 99th percentile and maximum of KL(p_ref ‖ q).
    public var klMean: Double, klMedian: Double, klP99: Double, klMax: Double
    /// Fraction of positions where both models rank the same token first.
    public var sameTop1: Double
    /// Mean and root-mean-square of q(y) − p(y) for the actual next token y.
    public var deltaPMean: Double, deltaPRMS: Double
    /// Mean ln(PPL_q / PPL_ref).
    public var lnPPLRatio: Double
    /// Standard errors over positions (`s / √n`, n − 1 in the variance) of the means above; nil
    /// below 2 positions. Positions of one text are not independent: these show the spread, they
    /// are not confidence intervals.
    public var klMeanStandardError: Double?, sameTop1StandardError: Double?
    /// The same for ``deltaPMean`` and ``lnPPLRatio``.
    public var deltaPMeanStandardError: Double?, lnPPLRatioStandardError: Double?
}
