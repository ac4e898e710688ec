/// DaruCopy-style copy metrics (Documentation/Evaluation.md §3).
///
/// - `len = min(P/S, S/P)`, P = generated tokens, S = tokens of the reference under the model's own
///   tokenizer;
/// - `copy99 = 1` when `matched / max(len(ref), len(pred)) ≥ 0.99` (symmetric: a truncated or an
///   over-long copy fails), matched characters by longest common subsequence;
/// - `symbols_per_token = len(pred) / (1 + P)`.
/// Characters are Unicode scalars (Python's `len(str)`).
public enum CopyMetrics {
    /// `min(P/S, S/P)`; 1 when both are 0, 0 when only one is.
    public static func lengthRatio(generatedTokens p: Int, referenceTokens s: Int) -> Double {
        if p == 0 && s == 0 { return 1 }
        if p <= 0 || s <= 0 { return 0 }
        return min(Double(p) / Double(s), Double(s) / Double(p))
    }

    /// Characters of `a` and `b` matched by a longest common subsequence (O(len a · len b) time,
    /// O(len b) memory).
    public static func matchedCharacters(_ a: String, _ b: String) -> Int {
        let x = Array(a.unicodeScalars), y = Array(b.unicodeScalars)
        guard !x.isEmpty, !y.isEmpty else { return 0 }
        var prev = [Int](repeating: 0, count: y.count + 1)
        var cur = prev
        for i in 1...x.count {
            for j in 1...y.count {
                cur[j] = x[i - 1] == y[j - 1] ? prev[j - 1] + 1 : max(prev[j], cur[j - 1])
            }
            swap(&prev, &cur)
        }
        return prev[y.count]
    }

    /// `matched / max(len(reference), len(prediction))` (1 when both are empty).
    public static func matchRatio(reference: String, prediction: String) -> Double {
        let denominator = max(reference.unicodeScalars.count, prediction.unicodeScalars.count)
        guard denominator > 0 else { return 1 }
        return Double(matchedCharacters(reference, prediction)) / Double(denominator)
    }

    /// 1 when the prediction matches the reference to `threshold` (default 0.99) in both directions, else 0.
    public static func copy99(reference: String, prediction: String, threshold: Double = 0.99) -> Double {
        matchRatio(reference: reference, prediction: prediction) >= threshold ? 1 : 0
    }

    /// Characters written per generated token, `len(pred) / (1 + P)`.
    public static func symbolsPerToken(prediction: String, generatedTokens p: Int) -> Double {
        Double(prediction.unicodeScalars.count) / Double(1 + max(0, p))
    }
}
