/// SplitMix64, the generator of Vigna's `splitmix64.c`: the state advances by the golden-ratio
/// increment before each output, which is then mixed. Seed 0 gives `0xE220A8397B1DCDAF` first.
public struct SplitMix64: Sendable {
    /// The generator's state (the seed before the first call).
    public var state: UInt64

    /// A generator whose first output is the mix of `seed` plus the increment.
    public init(seed: UInt64) { state = seed }

    /// The next 64-bit output.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in `0..<n` (`next() % n`; the modulo bias, below n / 2⁶⁴, is irrelevant here).
    public mutating func next(below n: Int) -> Int { Int(next() % UInt64(max(1, n))) }

    /// Fisher–Yates shuffle: for i = count−1 down to 1, swap element i with element `next(below: i + 1)`.
    public mutating func shuffle<T>(_ xs: inout [T]) {
        guard xs.count > 1 else { return }
        for i in stride(from: xs.count - 1, through: 1, by: -1) { xs.swapAt(i, next(below: i + 1)) }
    }
}

/// A paired comparison of a model with a reference model on the same items (per-item scores a, b):
/// `d = b − a`, the mean difference with its standard error, and a 95 % percentile bootstrap
/// interval of the mean difference.
///
/// Bootstrap: `resamples` resamples from one SplitMix64 stream seeded with `seed`; each draws n
/// indices `next() % n` in order and averages `d` over them, summed left to right; the interval is the
/// 2.5 % and 97.5 % quantiles of the resample means with numpy's linear interpolation. Checked
/// against scripts/fixtures/gen_paired_bootstrap.py (numpy).
public struct PairedComparison: Equatable, Sendable {
    /// How the candidate compares with the reference.
    public enum Verdict: String, Sendable {
        /// The interval lies entirely on the better side of 0.
        case better
        /// The interval lies entirely on the worse side of 0.
        case worse
        /// The interval contains 0 (and the scores are not all equal).
        case unclear = "no clear difference"
        /// Every item has the same score for both models.
        case same
    }

    /// The candidate model's report name (scores b).
    public var model: String
    /// The reference model's report name (scores a): the report's first model.
    public var reference: String
    /// The task compared, as in ``ReportEntry``.
    public var task: String
    /// The metric compared, as in ``ReportEntry``.
    public var metric: String
    /// Items scored by both models.
    public var n: Int
    /// mean(b − a).
    public var meanDifference: Double
    /// sd(b − a) / √n with n − 1 in the variance (nil for n < 2).
    public var standardError: Double?
    /// The 95 % bootstrap interval of the mean difference.
    public var low: Double, high: Double
    /// Bootstrap resamples behind ``low`` and ``high``.
    public var resamples: Int
    /// Seed of the bootstrap's SplitMix64 stream.
    public var seed: UInt64
    /// The metric's direction (``ReportEntry/higherIsBetter``), which turns the interval into a ``verdict``.
    public var higherIsBetter: Bool

    /// The verdict from the interval and the metric's direction.
    public var verdict: Verdict {
        if low == 0 && high == 0 && meanDifference == 0 { return .same }
        if low > 0 { return higherIsBetter ? .better : .worse }
        if high < 0 { return higherIsBetter ? .worse : .better }
        return .unclear
    }

    /// Mean difference, standard error and bootstrap interval of `candidate − reference`
    /// (same items, same order).
    public static func statistics(reference a: [Double], candidate b: [Double], resamples: Int, seed: UInt64)
        throws(EvaluationError) -> (mean: Double, standardError: Double?, low: Double, high: Double)
    {
        guard a.count == b.count else { throw .metric("paired comparison of \(b.count) scores with \(a.count) reference scores; the items must be the same") }
        guard !a.isEmpty else { throw .metric("paired comparison of an empty sample") }
        guard resamples >= 1 else { throw .metric("the bootstrap needs at least 1 resample, got \(resamples)") }
        let d = zip(b, a).map { $0 - $1 }
        let n = d.count
        var rng = SplitMix64(seed: seed)
        var means = [Double](repeating: 0, count: resamples)
        for r in 0..<resamples {
            var s = 0.0
            for _ in 0..<n { s += d[rng.next(below: n)] }
            means[r] = s / Double(n)
        }
        guard let mean = Statistics.mean(d), let lo = Statistics.quantile(means, 0.025), let hi = Statistics.quantile(means, 0.975) else {
            throw .metric("paired comparison of an empty sample")
        }
        return (mean, Statistics.standardError(d), lo, hi)
    }

    /// Compares every entry that has per-item scores with the same task and metric of the first
    /// model (`models[0]`), when both scored the same items (same ids in the same order).
    public static func againstFirst(models: [String], entries: [ReportEntry], resamples: Int, seed: UInt64) throws(EvaluationError) -> [PairedComparison] {
        guard let reference = models.first else { return [] }
        var out: [PairedComparison] = []
        for model in models.dropFirst() {
            for e in entries where e.model == model {
                guard let items = e.items,
                    let r = entries.first(where: { $0.model == reference && $0.task == e.task && $0.metric == e.metric }),
                    let refItems = r.items, refItems.map(\.id) == items.map(\.id), !items.isEmpty
                else { continue }
                let s = try statistics(reference: refItems.map(\.score), candidate: items.map(\.score), resamples: resamples, seed: seed)
                out.append(
                    PairedComparison(
                        model: model, reference: reference, task: e.task, metric: e.metric, n: items.count,
                        meanDifference: s.mean, standardError: s.standardError, low: s.low, high: s.high,
                        resamples: resamples, seed: seed, higherIsBetter: e.higherIsBetter))
            }
        }
        return out
    }
}
