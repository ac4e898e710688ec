#if canImport(Glibc)
import Glibc
#endif

/// Summary statistics used by every task, with lm-evaluation-harness conventions.
public enum Statistics {
    /// Arithmetic mean (nil for an empty sample).
    public static func mean(_ xs: [Double]) -> Double? {
        guard !xs.isEmpty else { return nil }
        return xs.reduce(0, +) / Double(xs.count)
    }

    /// Sample standard deviation with Bessel's correction (n − 1), as lm-eval's `sample_stddev`.
    public static func sampleStandardDeviation(_ xs: [Double]) -> Double? {
        guard xs.count >= 2, let m = mean(xs) else { return nil }
        return sqrt(xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(xs.count - 1))
    }

    /// Standard error of the mean, `s / sqrt(n)` (lm-eval's `mean_stderr`); nil for n < 2.
    public static func standardError(_ xs: [Double]) -> Double? {
        sampleStandardDeviation(xs).map { $0 / sqrt(Double(xs.count)) }
    }

    /// The q-quantile (0...1) with linear interpolation between order statistics (numpy's default).
    public static func quantile(_ xs: [Double], _ q: Double) -> Double? {
        guard !xs.isEmpty, q >= 0, q <= 1 else { return nil }
        let s = xs.sorted()
        let pos = q * Double(s.count - 1)
        let lo = Int(pos.rounded(.down)), hi = min(lo + 1, s.count - 1)
        return s[lo] + (s[hi] - s[lo]) * (pos - Double(lo))
    }

    /// The median (numpy's `median`).
    public static func median(_ xs: [Double]) -> Double? { quantile(xs, 0.5) }
}

/// A metric value over a sample: the mean, its standard error, and the sample size.
public struct MetricSummary: Equatable, Sendable {
    /// The mean of the per-item scores.
    public var value: Double
    /// Sample standard deviation (n − 1) over √n; nil for fewer than 2 items.
    public var standardError: Double?
    /// Items in the sample.
    public var n: Int

    /// A summary from values already computed.
    public init(value: Double, standardError: Double?, n: Int) {
        self.value = value; self.standardError = standardError; self.n = n
    }

    /// The mean of per-item scores with its standard error.
    public static func mean(of scores: [Double]) throws(EvaluationError) -> MetricSummary {
        guard let m = Statistics.mean(scores) else { throw .metric("no items to average") }
        return MetricSummary(value: m, standardError: Statistics.standardError(scores), n: scores.count)
    }
}
