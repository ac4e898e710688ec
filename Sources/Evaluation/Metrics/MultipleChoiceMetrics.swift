/// Multiple-choice scoring (Documentation/Evaluation.md §4).
///
/// Both styles reduce to picking the highest-scoring choice:
/// - llmtf style: the score of a choice is the log-probability of its first token after the prompt
///   (an unfinished assistant turn);
/// - lm-eval style: the score is the summed log-probability of `" " + choice` as a continuation;
///   `acc` takes the argmax of the sums, `acc_norm` the argmax of sum / len(choice) (characters of the
///   choice text, without the leading space, as lm-eval's `completion_len`).
/// Ties go to the first choice (numpy's `argmax`).
public enum MultipleChoiceMetrics {
    /// The index of the largest score (first on ties); nil when empty or a score is NaN.
    public static func argmax(_ scores: [Double]) -> Int? {
        guard var best = scores.first, !best.isNaN else { return nil }
        var index = 0
        for (i, s) in scores.enumerated().dropFirst() {
            if s.isNaN { return nil }
            if s > best { best = s; index = i }
        }
        return index
    }

    /// 1 when the best-scoring choice is the answer, else 0.
    public static func accuracy(scores: [Double], answer: Int) throws(EvaluationError) -> Double {
        guard (0..<scores.count).contains(answer) else { throw .metric("answer index \(answer) outside the \(scores.count) choices") }
        guard let best = argmax(scores) else { throw .metric("no usable choice scores (empty or NaN)") }
        return best == answer ? 1 : 0
    }

    /// lm-eval's `acc_norm`: accuracy after dividing each log-likelihood by its choice's length in characters.
    public static func normalizedAccuracy(logLikelihoods: [Double], choices: [String], answer: Int) throws(EvaluationError) -> Double {
        guard logLikelihoods.count == choices.count else { throw .metric("\(logLikelihoods.count) scores for \(choices.count) choices") }
        let normalized = zip(logLikelihoods, choices).map { ll, c in ll / Double(max(1, c.unicodeScalars.count)) }
        return try accuracy(scores: normalized, answer: answer)
    }
}
