import ChatTemplates
/// Multiple choice from JSONL items (Documentation/Evaluation.md §4), two scorings.
///
/// **llmtf style** (single token): the prompt is rendered with the chat template as
/// `[user(prompt), assistant(answer_prefix)]` with the final message left open
/// (`continue_final_message`), or, without an `answer_prefix`, `[user(prompt)]` with the generation
/// prompt; it is encoded without adding special tokens. A choice's token is the first token after
/// the prompt in the encoding of prompt + `" " + choice` (no space when there is no answer prefix);
/// its score is the next-token log-probability (tokens shared by every choice, such as a lone space
/// before a digit, are scored once and added to all). Choices must differ in one token.
///
/// **lm-eval style** (continuation): context = the raw prompt encoded with the tokenizer's special
/// tokens (BOS); continuation = the tokens of prompt + `" " + choice` after the context's tokens
/// (lm-eval's whole-minus-context split); score = Σ log p(continuation tokens). `acc` takes the
/// argmax of the sums, `acc_norm` of the sums divided by the choice's length in characters.
public enum MultipleChoiceTask {
    /// Scores of one item.
    public struct Outcome: Equatable, Sendable {
        /// Per choice: the log-probability (llmtf) or summed log-likelihood (lm-eval).
        public var scores: [Double]
        /// 1 when the best-scoring choice is the answer, else 0.
        public var accuracy: Double
        /// lm-eval style only.
        public var normalizedAccuracy: Double?
    }

    /// The llmtf-style prompt text of an item.
    public static func singleTokenPrompt(_ model: EvaluatedModel, item: MultipleChoiceItem, task: String) throws(EvaluationError) -> String {
        let template = try model.requireChatTemplate(task: task)
        if let prefix = item.answerPrefix {
            return try liftingTemplate { () throws(ChatTemplateError) in try template.render([.user(item.prompt), .assistant(prefix)], options: model.renderOptions(continueFinalMessage: true)) }
        }
        return try liftingTemplate { () throws(ChatTemplateError) in try template.render([.user(item.prompt)], options: model.renderOptions(addGenerationPrompt: true)) }
    }

    /// llmtf style: next-token log-probabilities of each choice's first token. When every choice's
    /// continuation starts with the same token(s) (e.g. a lone space before a digit under a LLaMA-3
    /// tokenizer), those shared tokens are scored once and added to every choice, and the choices
    /// are told apart by their first differing token.
    public static func runSingleToken(_ model: EvaluatedModel, item: MultipleChoiceItem, task: String) throws(EvaluationError) -> Outcome {
        let text = try singleTokenPrompt(model, item: item, task: task)
        let t = model.tokenizer
        let prompt = t.encode(text, addSpecialTokens: false)
        guard !prompt.isEmpty else { throw .task(name: task, message: "item \(item.id): the rendered prompt is empty") }
        let space = item.answerPrefix == nil ? "" : " "
        var conts: [[Int]] = []
        for c in item.choices {
            let whole = t.encode(text + space + c, addSpecialTokens: false)
            guard whole.count > prompt.count, Array(whole[..<prompt.count]) == prompt else {
                throw .task(name: task, message: "item \(item.id): choice '\(c)' changes the tokenization of the prompt; use the continuation style for it")
            }
            conts.append(Array(whole[prompt.count...]))
        }
        // Shared leading tokens of all choices.
        var shared = 0
        while conts.allSatisfy({ $0.count > shared }) && Set(conts.map { $0[shared] }).count == 1 { shared += 1 }
        let firsts = conts.map { $0.count > shared ? $0[shared] : -1 }
        guard !firsts.contains(-1), Set(firsts).count == firsts.count else {
            throw .task(
                name: task, message: "item \(item.id): choices \(item.choices) cannot be told apart by one token under \(model.name)'s tokenizer (continuations \(conts)); use the continuation style")
        }
        let sharedIds = Array(conts[0].prefix(shared))
        let ids = prompt + sharedIds
        let logits = try model.forward(ids, cache: model.transformer.makeCache(capacity: ids.count), logits: sharedIds.isEmpty ? .last : .all)
        let V = model.vocabularySize
        let scores = logits.withUnsafeBufferPointer { l in
            func row(_ position: Int) -> UnsafeBufferPointer<Float> {
                let r = sharedIds.isEmpty ? 0 : position  // .last gives one row
                return UnsafeBufferPointer(rebasing: l[(r * V)..<((r + 1) * V)])
            }
            var common = 0.0
            for (i, tok) in sharedIds.enumerated() {
                let r = row(prompt.count - 1 + i)
                common += Double(r[tok]) - logSumExp(r)
            }
            let last = row(ids.count - 1)
            let lse = logSumExp(last)
            return firsts.map { common + Double(last[$0]) - lse }
        }
        return Outcome(scores: scores, accuracy: try MultipleChoiceMetrics.accuracy(scores: scores, answer: item.answer), normalizedAccuracy: nil)
    }

    /// lm-eval style: the context ids and each choice's continuation ids.
    public static func continuationIds(_ model: EvaluatedModel, item: MultipleChoiceItem, task: String) throws(EvaluationError) -> (context: [Int], continuations: [[Int]]) {
        let t = model.tokenizer
        let context = t.encode(item.prompt, addSpecialTokens: true)
        var conts: [[Int]] = []
        for c in item.choices {
            let whole = t.encode(item.prompt + " " + c, addSpecialTokens: true)
            guard whole.count > context.count else { throw .task(name: task, message: "item \(item.id): choice '\(c)' adds no tokens") }
            conts.append(Array(whole[context.count...]))
        }
        return (context, conts)
    }

    /// lm-eval style: summed continuation log-likelihoods, acc and acc_norm.
    public static func runContinuation(_ model: EvaluatedModel, item: MultipleChoiceItem, task: String) throws(EvaluationError) -> Outcome {
        let (context, conts) = try continuationIds(model, item: item, task: task)
        let V = model.vocabularySize
        var scores: [Double] = []
        for cont in conts {
            let ids = context + cont
            let logits = try model.logits(ids)
            let ll = logits.withUnsafeBufferPointer { l in
                var sum = 0.0
                for (i, tok) in cont.enumerated() {
                    let row = UnsafeBufferPointer(rebasing: l[((context.count - 1 + i) * V)..<((context.count + i) * V)])
                    sum += Double(row[tok]) - logSumExp(row)
                }
                return sum
            }
            scores.append(ll)
        }
        return Outcome(
            scores: scores, accuracy: try MultipleChoiceMetrics.accuracy(scores: scores, answer: item.answer),
            normalizedAccuracy: try MultipleChoiceMetrics.normalizedAccuracy(logLikelihoods: scores, choices: item.choices, answer: item.answer))
    }

    /// Report entries: `acc` (main for llmtf style), and `acc_norm` (main for lm-eval style) when present.
    public static func entries(_ outcomes: [Outcome], ids: [String], model: String, task: String) throws(EvaluationError) -> [ReportEntry] {
        let norms = outcomes.compactMap(\.normalizedAccuracy)
        var out = [try ReportEntry.mean(model: model, task: task, metric: "acc", ids: ids, scores: outcomes.map(\.accuracy), isMain: norms.isEmpty)]
        if !norms.isEmpty {
            out.append(try ReportEntry.mean(model: model, task: task, metric: "acc_norm", ids: ids, scores: norms, isMain: true))
        }
        return out
    }
}
