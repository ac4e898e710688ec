import Models

/// Same-vocabulary agreement (Documentation/Evaluation.md §2, llama.cpp's KLD statistics): a candidate q against a
/// reference p on the same token stream, in the same rolling windows as ``LikelihoodTask``.
///
/// Refused, with an error, when the vocabularies differ (vocab_size or the token ids of the text):
/// then only bits per byte is comparable.
public enum AgreementTask {
    /// Scores `text` with both models and returns the statistics (KL in nats).
    public static func run(reference: EvaluatedModel, candidate: EvaluatedModel, text: String, context: Int, task: String) throws(EvaluationError) -> AgreementStatistics {
        guard reference.vocabularySize == candidate.vocabularySize else {
            throw .task(
                name: task,
                message:
                    "\(candidate.name) has vocab_size \(candidate.vocabularySize) but the reference \(reference.name) has \(reference.vocabularySize); agreement needs the same vocabulary (compare bits_per_byte instead)"
            )
        }
        let ids = reference.tokenizer.encode(text, addSpecialTokens: true)
        guard candidate.tokenizer.encode(text, addSpecialTokens: true) == ids else {
            throw .task(name: task, message: "\(candidate.name) and the reference \(reference.name) tokenize the text differently; agreement needs the same vocabulary (compare bits_per_byte instead)")
        }
        return try run(reference: reference, candidate: candidate, ids: ids, context: context, task: task)
    }

    /// Scores token ids with both models.
    public static func run(reference: EvaluatedModel, candidate: EvaluatedModel, ids: [Int], context: Int, task: String) throws(EvaluationError) -> AgreementStatistics {
        guard ids.count >= 2, context >= 2 else { throw .task(name: task, message: "agreement needs at least 2 tokens and a context of at least 2") }
        var a = Agreement()
        let V = reference.vocabularySize
        for w in Likelihood.windows(count: ids.count, context: context) {
            let window = Array(ids[w])
            let p = try reference.logits(window)
            let q = try candidate.logits(window)
            a.add(reference: p, candidate: q, ids: ids[w], vocabSize: V)
        }
        return a.statistics
    }

    /// Report entries: kl_mean (main) and the other statistics.
    public static func entries(_ s: AgreementStatistics, model: String, task: String) -> [ReportEntry] {
        let n = s.positions
        return [
            ReportEntry(model: model, task: task, metric: "kl_mean", value: s.klMean, n: n, standardError: s.klMeanStandardError, isMain: true, higherIsBetter: false),
            ReportEntry(model: model, task: task, metric: "kl_median", value: s.klMedian, n: n, higherIsBetter: false),
            ReportEntry(model: model, task: task, metric: "kl_p99", value: s.klP99, n: n, higherIsBetter: false),
            ReportEntry(model: model, task: task, metric: "kl_max", value: s.klMax, n: n, higherIsBetter: false),
            ReportEntry(model: model, task: task, metric: "same_top1", value: s.sameTop1, n: n, standardError: s.sameTop1StandardError, higherIsBetter: true),
            ReportEntry(model: model, task: task, metric: "delta_p_mean", value: s.deltaPMean, n: n, standardError: s.deltaPMeanStandardError, higherIsBetter: true),
            ReportEntry(model: model, task: task, metric: "delta_p_rms", value: s.deltaPRMS, n: n, higherIsBetter: false),
            ReportEntry(model: model, task: task, metric: "ln_ppl_ratio", value: s.lnPPLRatio, n: n, standardError: s.lnPPLRatioStandardError, higherIsBetter: false)
        ]
    }
}
