import ChatTemplates

/// Errors of the Evaluation module: chat templates, task files, reports, metrics.
///
/// Every case names the culprit (template and position, file and line, metric) and, where there is
/// one, the fix.
public enum EvaluationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A chat template could not be parsed or rendered, or the messages do not fit it.
    case chatTemplate(ChatTemplateError)
    /// A task data file is malformed; `line` is 1-based (0 when the problem concerns the whole file).
    case taskFile(path: String, line: Int, message: String)
    /// A metric got inputs it cannot use (empty sample, mismatched lengths, ...).
    case metric(String)
    /// A report cannot be built (duplicate model name, metric without a model, ...).
    case report(String)
    /// A model or its tokenizer cannot be opened or run (the Models/Tokenizers error, as text).
    case model(path: String, message: String)
    /// A task cannot run on the given models or data (vocabularies differ, ...).
    case task(name: String, message: String)
    /// A chat task needs a chat template and model `model` (at `path`) has none.
    case noChatTemplate(task: String, model: String, path: String)

    /// The message shown to the user: the culprit first, then the problem and, where there is one, the fix.
    public var description: String {
        switch self {
        case .chatTemplate(let e):
            return e.description
        case .taskFile(let path, let line, let m):
            return line > 0 ? "\(path):\(line): \(m)" : "\(path): \(m)"
        case .metric(let m):
            return "metric: \(m)"
        case .report(let m):
            return "report: \(m)"
        case .model(let path, let m):
            return "model \(path): \(m)"
        case .task(let name, let m):
            return "task \(name): \(m)"
        case .noChatTemplate(let task, let model, let path):
            return
                "task \(task): \(Self.noChatTemplateProblem(model: model, path: path)); give a chat template file or pick a built-in chat format (\(ChatFormat.allCases.map(\.rawValue).joined(separator: "|")))"
        }
    }
}

extension EvaluationError {
    /// What ``noChatTemplate(task:model:path:)`` reports, without the fix.
    public static func noChatTemplateProblem(model: String, path: String) -> String {
        "model \(model) (\(path)) has no chat template (no chat_template.jinja, no chat_template in tokenizer_config.json)"
    }
}

/// Runs a chat-template operation, lifting its error into `EvaluationError.chatTemplate`.
@inline(__always)
func liftingTemplate<T>(_ body: () throws(ChatTemplateError) -> T) throws(EvaluationError) -> T {
    do { return try body() } catch { throw .chatTemplate(error) }
}
