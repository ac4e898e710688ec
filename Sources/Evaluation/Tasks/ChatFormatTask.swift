import ChatTemplates

/// Chat-format compliance: does the model answer a user message in its chat format and end its
/// turn? The prompt is `[user(item.prompt)]` with the generation prompt; greedy decoding of at most
/// `maxNewTokens` tokens; the item scores 1 when generation stopped at a stop id (end of turn, eos)
/// and the reply before it is not empty (after decoding without special tokens and trimming
/// whitespace), else 0.
public enum ChatFormatTask {
    /// New tokens allowed for a reply.
    public static let maxNewTokens = 64

    /// One prompt's outcome.
    public struct Outcome: Equatable, Sendable {
        /// The generated ids, without the final stop id.
        public var generatedIds: [Int]
        /// The reply decoded without special tokens, whitespace trimmed.
        public var reply: String
        /// The item's score: 1 when generation stopped at a stop id after a non-empty reply, else 0.
        public var endsTurn: Double
    }

    /// Runs one prompt.
    public static func run(_ model: EvaluatedModel, item: ChatPromptItem, task: String) throws(EvaluationError) -> Outcome {
        let template = try model.requireChatTemplate(task: task)
        let rendered = try liftingTemplate { () throws(ChatTemplateError) in try template.render([.user(item.prompt)], options: model.renderOptions(addGenerationPrompt: true)) }
        let prompt = model.tokenizer.encode(rendered, addSpecialTokens: false)
        var out = try model.greedy(prompt: prompt, maxNewTokens: maxNewTokens)
        var stopped = false
        if let last = out.last, model.stopIds.contains(last) { out.removeLast(); stopped = true }
        let reply = CopyTask.trimWhitespace(model.tokenizer.decode(out, skipSpecialTokens: true))
        return Outcome(generatedIds: out, reply: reply, endsTurn: stopped && !reply.isEmpty ? 1 : 0)
    }
}
