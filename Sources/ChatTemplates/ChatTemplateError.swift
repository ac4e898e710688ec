/// Errors of the ChatTemplates module: parsing and rendering Jinja chat templates, chat formats.
///
/// Every case names the culprit (template and position) and, where there is one, the fix.
public enum ChatTemplateError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The template text is not valid Jinja (unclosed tag, bad expression, unbalanced block).
    case templateSyntax(template: String, line: Int, column: Int, message: String)
    /// The template uses a Jinja construct this interpreter does not implement.
    case templateUnsupported(template: String, line: Int, column: Int, construct: String)
    /// Rendering failed (wrong operand types, undefined attribute, bad filter argument, ...).
    case templateRuntime(template: String, line: Int, column: Int, message: String)
    /// The template itself refused the input with `raise_exception(message)`.
    case templateRaised(template: String, line: Int, column: Int, message: String)
    /// The messages cannot be rendered as asked (empty conversation, unfinished turn not found, ...).
    case chatInput(String)
    /// A built-in chat format was named that does not exist.
    case unknownChatFormat(String)

    /// Whether the fix is another template: the template itself cannot be parsed or rendered.
    public var fixIsAnotherTemplate: Bool {
        switch self {
        case .templateSyntax, .templateUnsupported, .templateRuntime: true
        case .templateRaised, .chatInput, .unknownChatFormat: false
        }
    }

    /// The message without the fix that ``fixIsAnotherTemplate`` implies.
    public var problem: String {
        switch self {
        case .templateSyntax(let t, let l, let c, let m):
            return "chat template \(t), line \(l), column \(c): syntax error: \(m)"
        case .templateUnsupported(let t, let l, let c, let construct):
            return "chat template \(t), line \(l), column \(c): unsupported Jinja construct \(construct)"
        case .templateRuntime(let t, let l, let c, let m):
            return "chat template \(t), line \(l), column \(c): \(m)"
        case .templateRaised(let t, let l, let c, let m):
            return "chat template \(t), line \(l), column \(c): the template rejected the conversation: \(m)"
        case .chatInput(let m):
            return "chat messages: \(m)"
        case .unknownChatFormat(let name):
            return "unknown chat format '\(name)': choose one of " + ChatFormat.allCases.map(\.rawValue).joined(separator: ", ")
        }
    }

    /// The message with the fix, worded neutrally (the command line names its flags instead).
    public var description: String {
        problem + (fixIsAnotherTemplate ? " (give another chat template file, or pick a built-in chat format: \(ChatFormat.allCases.map(\.rawValue).joined(separator: "|")))" : "")
    }
}
