import LEPJSON

/// One chat message: a role (`system`, `user`, `assistant`, ...) and its text.
public struct ChatMessage: Equatable, Sendable {
    /// The speaker, as the template reads `message['role']`.
    public var role: String
    /// The message text, as the template reads `message['content']`.
    public var content: String
    /// A message with any role (templates may refuse roles they do not know).
    public init(role: String, content: String) { self.role = role; self.content = content }

    /// A `system` message.
    public static func system(_ text: String) -> ChatMessage { ChatMessage(role: "system", content: text) }
    /// A `user` message.
    public static func user(_ text: String) -> ChatMessage { ChatMessage(role: "user", content: text) }
    /// An `assistant` message.
    public static func assistant(_ text: String) -> ChatMessage { ChatMessage(role: "assistant", content: text) }
}

/// How to render a conversation (the arguments of transformers' `apply_chat_template`).
public struct ChatRenderOptions: Equatable, Sendable {
    /// Append the header of a new assistant turn (`add_generation_prompt=True`).
    public var addGenerationPrompt: Bool
    /// Leave the final (assistant) message open so the model continues it
    /// (`continue_final_message=True`): the text ends right after that message's content.
    public var continueFinalMessage: Bool
    /// The template variable `bos_token`: the tokenizer's BOS string (e.g. `<|begin_of_text|>`), or "".
    public var bosToken: String
    /// The template variable `eos_token`: the tokenizer's EOS string, or "".
    public var eosToken: String
    /// The date `strftime_now()` sees; nil means the current local time (as in transformers).
    public var now: ChatDate?
    /// Further template variables (`date_string`, `tools`, `custom_tools`, ...).
    public var extraVariables: [String: JSONValue]

    /// Options with transformers' defaults: no generation prompt, nothing left open, empty BOS/EOS, the
    /// current time, no extra variables.
    public init(
        addGenerationPrompt: Bool = false, continueFinalMessage: Bool = false, bosToken: String = "", eosToken: String = "",
        now: ChatDate? = nil, extraVariables: [String: JSONValue] = [:]
    ) {
        self.addGenerationPrompt = addGenerationPrompt
        self.continueFinalMessage = continueFinalMessage
        self.bosToken = bosToken
        self.eosToken = eosToken
        self.now = now
        self.extraVariables = extraVariables
    }
}

/// A parsed chat template (HF `tokenizer_config.json` `chat_template`, Jinja), ready to render.
///
/// Rendering matches `transformers`' `apply_chat_template(messages, tokenize=False, ...)`: the same
/// Jinja settings (`trim_blocks`, `lstrip_blocks`, loop controls, HF's `tojson`, `raise_exception`,
/// `strftime_now`), `tools`/`documents` passed as `none`, and the same handling of an unfinished
/// final message.
public struct ChatTemplate: Sendable {
    /// A name for error messages (file name, `llama3`, ...).
    public let name: String
    /// The Jinja source.
    public let source: String
    private let body: ParsedBody

    /// Parses `source`; a syntax error or unsupported statement names the line and column.
    public init(source: String, name: String = "chat_template") throws(ChatTemplateError) {
        self.name = name
        self.source = source
        do {
            let tokens = try JinjaLexer(source: source, name: name).tokenize()
            var parser = JinjaParser(tokens: tokens, name: name)
            body = ParsedBody(statements: try parser.parseTemplate())
        } catch let e as ChatTemplateError {
            throw e
        } catch {
            throw .templateSyntax(template: name, line: 0, column: 0, message: "\(error)")
        }
    }

    /// Renders a conversation.
    public func render(_ messages: [ChatMessage], options: ChatRenderOptions) throws(ChatTemplateError) -> String {
        try render(json: messages.map { .object(JSONObject([("role", .string($0.role)), ("content", .string($0.content))])) }, options: options)
    }

    /// Renders messages given as JSON objects (for messages with extra fields such as `tool_calls`).
    public func render(json messages: [JSONValue], options: ChatRenderOptions) throws(ChatTemplateError) -> String {
        var messages = messages
        let tag = "CONTINUE_FINAL_MESSAGE_TAG "
        var finalMessage = ""
        if options.continueFinalMessage {
            guard let last = messages.last, var object = last.object else {
                throw .chatInput("continue_final_message is set but the conversation is empty")
            }
            guard case .string(let content)? = object["content"] else {
                throw .chatInput("continue_final_message is set but the final message has no text \"content\" to continue")
            }
            guard Builtins.contains(source, "content") else {
                throw .chatInput("continue_final_message is set but the template \(name) never reads \"content\"")
            }
            finalMessage = content
            object["content"] = .string(content + tag)
            messages[messages.count - 1] = .object(object)
        }
        var context: [String: JinjaValue] = [:]
        for (k, v) in options.extraVariables { context[k] = JinjaValue(json: v) }
        context["messages"] = .list(messages.map { JinjaValue(json: $0) })
        if context["tools"] == nil { context["tools"] = JinjaValue.none }
        if context["documents"] == nil { context["documents"] = JinjaValue.none }
        context["add_generation_prompt"] = .bool(options.addGenerationPrompt)
        context["bos_token"] = .string(options.bosToken)
        context["eos_token"] = .string(options.eosToken)
        let renderer = JinjaRenderer(name: name, context: context, now: options.now ?? ChatDate.current())
        var rendered: String
        do {
            rendered = try renderer.render(body.statements)
        } catch let e as ChatTemplateError {
            throw e
        } catch {
            throw .templateRuntime(template: name, line: 0, column: 0, message: "\(error)")
        }
        if options.continueFinalMessage {
            // transformers: cut the text at the tag; if the template trimmed the tag's trailing
            // space, also strip whitespace before it.
            let strippedTag = Builtins.strip(tag, nil)
            let u = Array(rendered.unicodeScalars), t = Array(strippedTag.unicodeScalars)
            guard Builtins.contains(rendered, Builtins.strip(finalMessage, nil)), var loc = Builtins.find(u, t) else {
                throw .chatInput("continue_final_message is set but the final message does not appear in the text rendered by \(name) (the template drops or rewrites it)")
            }
            while let next = Builtins.find(u, t, from: loc + 1) { loc = next }
            let full = Array(tag.unicodeScalars)
            if loc + full.count <= u.count && u[loc..<(loc + full.count)].elementsEqual(full) {
                rendered = Builtins.string(u[..<loc])
            } else {
                rendered = Builtins.strip(Builtins.string(u[..<loc]), nil, left: false)
            }
        }
        return rendered
    }
}

/// The parsed statements (reference-free and immutable after parsing).
private struct ParsedBody: @unchecked Sendable {
    let statements: [JinjaStmt]
}
