@testable import ChatTemplates
import Testing

/// Interpreter behaviour not covered by the transformers fixtures: errors and options.
struct ChatTemplateTests {
    func render(_ src: String, _ messages: [ChatMessage] = [.user("hi")], _ options: ChatRenderOptions = ChatRenderOptions()) throws -> String {
        try ChatTemplate(source: src, name: "t").render(messages, options: options)
    }

    @Test func unsupportedConstructNamesItAndTheLocation() {
        #expect(throws: ChatTemplateError.templateUnsupported(template: "t", line: 2, column: 4, construct: "'{% macro %}' statement")) {
            try ChatTemplate(source: "ok\n{% macro f() %}x{% endmacro %}", name: "t")
        }
        #expect(throws: ChatTemplateError.templateUnsupported(template: "t", line: 1, column: 12, construct: "filter 'wordwrap'")) {
            try render("{{ 'a b' | wordwrap }}")
        }
    }

    @Test func syntaxErrors() {
        #expect(throws: ChatTemplateError.templateSyntax(template: "t", line: 1, column: 1, message: "unclosed '{{' (no matching '}}')")) {
            try ChatTemplate(source: "{{ x ", name: "t")
        }
        #expect(throws: ChatTemplateError.templateSyntax(template: "t", line: 1, column: 24, message: "unexpected end of template: missing '{% else %}' or '{% endfor %}'")) {
            try ChatTemplate(source: "{% for m in x %}{{ m }}", name: "t")
        }
        #expect(throws: ChatTemplateError.self) { try ChatTemplate(source: "{% endif %}", name: "t") }
    }

    @Test func runtimeErrorsAndRaiseException() {
        #expect(throws: ChatTemplateError.templateRaised(template: "t", line: 1, column: 19, message: "no system role")) {
            try render("{{ raise_exception('no system role') }}")
        }
        #expect(throws: ChatTemplateError.templateRuntime(template: "t", line: 1, column: 8, message: "unsupported operand type(s) for +: 'str' and 'int'")) {
            try render("{{ 'a' + 1 }}")
        }
        let description = ChatTemplateError.templateUnsupported(template: "t", line: 1, column: 2, construct: "x").description
        #expect(description.contains("pick a built-in chat format: llama3|mistral|chatml|openchat"))
        #expect(!description.contains("--"))
    }

    @Test func strftimeIsInjectable() throws {
        let date = ChatDate(year: 2025, month: 1, day: 5, hour: 9, minute: 3, second: 0)
        #expect(try render("{{ strftime_now('%d %b %Y %A %H:%M') }}", [], ChatRenderOptions(now: date)) == "05 Jan 2025 Sunday 09:03")
    }

    @Test func builtinFormats() throws {
        #expect(throws: ChatTemplateError.unknownChatFormat("alpaca")) { try ChatFormat.named("alpaca") }
        let chatml = try ChatFormat.chatml.template()
        let text = try chatml.render([.system("S"), .user("Привет")], options: ChatRenderOptions(addGenerationPrompt: true))
        #expect(text == "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nПривет<|im_end|>\n<|im_start|>assistant\n")
        let open = try chatml.render([.user("Q"), .assistant("Ответ:")], options: ChatRenderOptions(continueFinalMessage: true))
        #expect(open == "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\nОтвет:")
        #expect(throws: ChatTemplateError.self) { try chatml.render([], options: ChatRenderOptions(continueFinalMessage: true)) }
    }
}
