#if canImport(Glibc)
import Glibc
#endif
import Models

/// Text likelihood (Documentation/Evaluation.md §1): mean NLL per token, perplexity and bits per UTF-8 byte.
///
/// The text is encoded with the model's special tokens (BOS), so the first text token is predicted
/// from BOS, and scored in lm-evaluation-harness "rolling" windows of at most `context` tokens
/// (`Models.Likelihood`): windows start at 0, c−1, 2(c−1), …, overlap by one token, the context
/// restarts in each window, and every token after the first is scored exactly once.
/// `bits_per_byte = Σ NLL / (bytes · ln 2)` is the only number comparable across tokenizers.
public enum LikelihoodTask {
    /// The result for one model and text.
    public struct Result: Equatable, Sendable {
        /// Summed and mean NLL over the scored tokens, with the window count.
        public var likelihood: Likelihood
        /// UTF-8 bytes of the text.
        public var bytes: Int
        /// `Σ NLL / (bytes · ln 2)`.
        public var bitsPerByte: Double { likelihood.bitsPerByte(textBytes: bytes) }
    }

    /// Scores `ids` (already encoded) in windows of `context`; `bytes` is the text's UTF-8 length.
    public static func score(_ model: EvaluatedModel, ids: [Int], bytes: Int, context: Int, task: String) throws(EvaluationError) -> Result {
        guard ids.count >= 2 else { throw .task(name: task, message: "the text encodes to \(ids.count) token(s); scoring needs at least 2") }
        guard context >= 2 else { throw .task(name: task, message: "the context must be at least 2 tokens, got \(context)") }
        let l = try Likelihood.score(
            ids, context: context, vocabSize: model.vocabularySize, cache: model.transformer.makeCache(capacity: min(context, ids.count)),
            forward: { (w, c) throws(EvaluationError) in try model.forward(w, cache: c, logits: .all) })
        return Result(likelihood: l, bytes: bytes)
    }

    /// Encodes and scores `text`.
    public static func run(_ model: EvaluatedModel, text: String, context: Int, task: String) throws(EvaluationError) -> Result {
        try score(model, ids: model.tokenizer.encode(text, addSpecialTokens: true), bytes: text.utf8.count, context: context, task: task)
    }

    /// Report entries: bits_per_byte (main), nll_per_token, perplexity; all lower-is-better. Standard
    /// errors over tokens: se(NLL) = s / √n of the per-token losses, se(bits per byte) =
    /// se(NLL) · n / (bytes · ln 2), se(perplexity) = perplexity · se(NLL) (delta method).
    public static func entries(_ r: Result, model: String, task: String) -> [ReportEntry] {
        let n = r.likelihood.tokens
        let se = r.likelihood.meanNLLStandardError
        let bytesLn2 = Double(r.bytes) * log(2.0)
        return [
            ReportEntry(
                model: model, task: task, metric: "bits_per_byte", value: r.bitsPerByte, n: n,
                standardError: se.map { $0 * Double(n) / bytesLn2 }, isMain: true, higherIsBetter: false),
            ReportEntry(
                model: model, task: task, metric: "nll_per_token", value: r.likelihood.meanNLL, n: n,
                standardError: se, isMain: false, higherIsBetter: false),
            ReportEntry(
                model: model, task: task, metric: "perplexity", value: r.likelihood.perplexity, n: n,
                standardError: se.map { $0 * r.likelihood.perplexity }, isMain: false, higherIsBetter: false)
        ]
    }
}
