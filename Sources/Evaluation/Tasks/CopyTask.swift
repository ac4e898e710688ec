import ChatTemplates
/// Copy, DaruCopy style (Documentation/Evaluation.md §3): the model is asked, through its chat template, to repeat
/// a text; greedy generation until a stop id or a budget; scored with ``CopyMetrics``.
///
/// - Prompt: `[user(item.instruction)]` with the generation prompt, encoded without adding special
///   tokens (the template writes BOS itself, as `apply_chat_template(tokenize=True)` does).
/// - Reference length S: the text under the model's tokenizer as it would appear after the
///   assistant header: encoded without special tokens when the tokenizer adds its own dummy-prefix
///   space (SentencePiece), else (byte-level) as a continuation with a leading space.
/// - Budget: `⌈1.5·S⌉ + 8` new tokens (an over-long copy is already visible in `len`, and copy99
///   fails beyond 1 % extra characters).
/// - Prediction: the generated ids without the final stop id, decoded skipping special tokens,
///   with surrounding whitespace removed; P = generated ids without the stop id.
public enum CopyTask {
    /// One item's outcome.
    public struct Outcome: Equatable, Sendable {
        /// The rendered chat prompt's ids.
        public var promptIds: [Int]
        /// S: tokens of the reference text under the model's tokenizer.
        public var referenceTokens: Int
        /// The generated ids without the final stop id (P = their count).
        public var generatedIds: [Int]
        /// The generated text, special tokens skipped, surrounding whitespace removed.
        public var prediction: String
        /// The item's scores (``CopyMetrics``): `min(P/S, S/P)`, 1 or 0 for a 99 % character match, characters per generated token.
        public var len: Double, copy99: Double, symbolsPerToken: Double
    }

    /// The token count S of a reference text under `tokenizer`.
    public static func referenceIds(_ text: String, model: EvaluatedModel) -> [Int] {
        let t = model.tokenizer
        let plain = t.encode(text, addSpecialTokens: false)
        if let first = plain.first, t.tokenBytes(first)?.first == 0x20, text.first != " " { return plain }
        return t.encodeContinuation(" " + text)
    }

    /// The generation budget for a reference of `s` tokens.
    public static func budget(referenceTokens s: Int) -> Int { (3 * s + 1) / 2 + 8 }

    /// Runs one item.
    public static func run(_ model: EvaluatedModel, item: CopyItem, task: String) throws(EvaluationError) -> Outcome {
        let template = try model.requireChatTemplate(task: task)
        let rendered = try liftingTemplate { () throws(ChatTemplateError) in try template.render([.user(item.instruction)], options: model.renderOptions(addGenerationPrompt: true)) }
        let prompt = model.tokenizer.encode(rendered, addSpecialTokens: false)
        let s = referenceIds(item.text, model: model).count
        var out = try model.greedy(prompt: prompt, maxNewTokens: budget(referenceTokens: s))
        if let last = out.last, model.stopIds.contains(last) { out.removeLast() }
        let prediction = trimWhitespace(model.tokenizer.decode(out, skipSpecialTokens: true))
        let p = out.count
        return Outcome(
            promptIds: prompt, referenceTokens: s, generatedIds: out, prediction: prediction,
            len: CopyMetrics.lengthRatio(generatedTokens: p, referenceTokens: s),
            copy99: CopyMetrics.copy99(reference: item.text, prediction: prediction),
            symbolsPerToken: CopyMetrics.symbolsPerToken(prediction: prediction, generatedTokens: p))
    }

    /// Report entries over items of one kind (`kind` nil: sentences and paragraphs together): len
    /// (main for sentences), copy99 (main for paragraphs and for both kinds together),
    /// symbols_per_token; means with standard errors and the per-item scores (`ids` in item order).
    public static func entries(_ outcomes: [Outcome], ids: [String], kind: CopyKind?, model: String, task: String) throws(EvaluationError) -> [ReportEntry] {
        [
            try ReportEntry.mean(model: model, task: task, metric: "len", ids: ids, scores: outcomes.map(\.len), isMain: kind == .sentence),
            try ReportEntry.mean(model: model, task: task, metric: "copy99", ids: ids, scores: outcomes.map(\.copy99), isMain: kind != .sentence),
            try ReportEntry.mean(model: model, task: task, metric: "symbols_per_token", ids: ids, scores: outcomes.map(\.symbolsPerToken))
        ]
    }

    static func trimWhitespace(_ s: String) -> String {
        let u = Array(s.unicodeScalars)
        var lo = 0, hi = u.count
        while lo < hi && u[lo].properties.isWhitespace { lo += 1 }
        while hi > lo && u[hi - 1].properties.isWhitespace { hi -= 1 }
        var out = String.UnicodeScalarView()
        out.append(contentsOf: u[lo..<hi])
        return String(out)
    }
}
