#if canImport(Glibc)
import Glibc
#endif
import TensorMath

/// Negative log-likelihood of a token stream, scored in windows of the context.
///
/// Scheme (lm-evaluation-harness "rolling" windows): windows of at most `context` tokens start at
/// positions 0, context−1, 2(context−1), …, each overlapping the previous one by one token, and
/// window w scores all its tokens but the first from the tokens before them in w. Every token after
/// the first is scored exactly once; the context restarts at each window.
public struct Likelihood: Equatable, Sendable {
    /// Σ −ln p(token), nats.
    public var totalNLL: Double = 0
    /// Σ (−ln p(token))², for the standard error of the mean NLL.
    public var totalSquaredNLL: Double = 0
    /// Tokens scored.
    public var tokens = 0
    /// Windows run.
    public var windows = 0

    /// Nothing scored yet.
    public init() {}

    /// Mean NLL per token (nats): transformers' `loss` with labels = input ids for one window.
    public var meanNLL: Double { tokens == 0 ? .nan : totalNLL / Double(tokens) }
    /// The standard error of the mean NLL over tokens, `s / √n` (sample variance with n − 1); nil
    /// below 2 tokens. Tokens of one text are not independent, so this understates the uncertainty
    /// of a text's score; it is the spread of the per-token losses, not a confidence interval.
    public var meanNLLStandardError: Double? {
        guard tokens >= 2 else { return nil }
        let n = Double(tokens)
        let variance = max(0, (totalSquaredNLL - totalNLL * totalNLL / n) / (n - 1))
        return (variance / n).squareRoot()
    }
    /// exp(mean NLL).
    public var perplexity: Double { exp(meanNLL) }
    /// `Σ NLL / (bytes · ln 2)`: bits per UTF-8 byte of the text the ids encode.
    public func bitsPerByte(textBytes: Int) -> Double { totalNLL / (Double(textBytes) * log(2.0)) }

    /// The windows for `count` tokens and `context` ≥ 2.
    public static func windows(count: Int, context: Int) -> [Range<Int>] {
        guard count >= 2 else { return [] }
        var out: [Range<Int>] = []
        var start = 0
        while start < count - 1 {
            out.append(start..<min(count, start + context))
            start += context - 1
        }
        return out
    }

    /// Adds the scores of the rows of `logits` [n, V] for the window `ids` (n tokens): row t predicts
    /// `ids[t+1]`. Calls `each(t, row)` for every scored row.
    public mutating func add(logits: [Float], ids: ArraySlice<Int>, vocabSize V: Int) {
        let n = ids.count
        let base = ids.startIndex
        logits.withUnsafeBufferPointer { l in
            for t in 0..<(n - 1) {
                let row = l.baseAddress! + t * V
                let nll = Softmax.logSumExp(row, count: V) - Double(row[ids[base + t + 1]])
                totalNLL += nll
                totalSquaredNLL += nll * nll
            }
        }
        tokens += n - 1
        windows += 1
    }
}

extension Likelihood {
    /// The rolling-window scoring loop, the one implementation (``Transformer/likelihood(of:context:onWindow:)``
    /// and the evaluator's likelihood task use it): for each window of ``windows(count:context:)``,
    /// resets `cache`, gets the window's logits [n, V] from `forward(window, cache)`, scores them and
    /// passes them to `onWindow`. `ids` holds at least 2 tokens and `context` ≥ 2 (the callers check
    /// and word the refusal).
    public static func score<E: Error>(
        _ ids: [Int], context: Int, vocabSize: Int, cache: KVCache,
        forward: (_ window: [Int], _ cache: KVCache) throws(E) -> [Float],
        onWindow: (ArraySlice<Int>, [Float]) throws(E) -> Void = { _, _ in }
    ) throws(E) -> Likelihood {
        var result = Likelihood()
        for w in windows(count: ids.count, context: context) {
            cache.reset()
            let logits = try forward(Array(ids[w]), cache)
            result.add(logits: logits, ids: ids[w], vocabSize: vocabSize)
            try onWindow(ids[w], logits)
        }
        return result
    }
}

extension Transformer {
    /// Scores `ids` in windows of `context` tokens (see ``Likelihood``). `onWindow(ids, logits)` sees
    /// each window's logits [n, V] (e.g. for agreement statistics).
    public func likelihood(
        of ids: [Int], context: Int, onWindow: (ArraySlice<Int>, [Float]) throws(ModelError) -> Void = { _, _ in }
    ) throws(ModelError) -> Likelihood {
        guard ids.count >= 2 else { throw .sequenceLength(reason: "scoring needs at least 2 tokens, got \(ids.count)") }
        guard context >= 2 else { throw .sequenceLength(reason: "the context must be at least 2 tokens, got \(context)") }
        return try Likelihood.score(
            ids, context: context, vocabSize: config.vocabSize, cache: makeCache(capacity: min(context, ids.count)),
            forward: { (w, c) throws(ModelError) in try forward(w, cache: c, logits: .all) }, onWindow: onWindow)
    }
}
