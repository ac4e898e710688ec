@testable import ChatTemplates
import Testing

/// A template is untrusted input: one that would nest, loop or grow without end is refused with an
/// error naming the limit (never a crash, an exhausted memory or a hang). Each case here was a crash
/// or a runaway before the limits existed.
struct ChatTemplateLimitTests {
    func render(_ src: String) throws -> String {
        try ChatTemplate(source: src, name: "t").render([.user("hi")], options: ChatRenderOptions())
    }

    /// The message of a runtime or syntax error (nil for anything else).
    func message(_ src: String) -> String? {
        do {
            _ = try render(src)
            return nil
        } catch ChatTemplateError.templateRuntime(_, _, _, let m), ChatTemplateError.templateSyntax(_, _, _, let m) {
            return m
        } catch {
            return nil
        }
    }

    @Test func deepExpressionsAreRefusedWhileParsing() throws {
        let parens = String(repeating: "(", count: 500) + "1" + String(repeating: ")", count: 500)
        #expect(message("{{ \(parens) }}")?.contains("nested more than 128 deep") == true)
        let chain = Array(repeating: "1", count: 5000).joined(separator: " + ")
        #expect(message("{{ \(chain) }}")?.contains("nested more than 128 deep") == true)
        let blocks = String(repeating: "{% if true %}", count: 300) + String(repeating: "{% endif %}", count: 300)
        #expect(message(blocks)?.contains("nested more than 128 deep") == true)
        // Within the limit, still fine.
        #expect(try render("{{ " + Array(repeating: "1", count: 100).joined(separator: " + ") + " }}") == "100")
    }

    @Test func runawayGrowthIsRefused() {
        #expect(message("{{ 'ab' * 100000000 }}")?.contains("longer than 16 MiB") == true)
        #expect(message("{% set ns = namespace(s='ab') %}{% for i in range(100) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}")?.contains("longer than 16 MiB") == true)
        #expect(message("{{ 'ab'|replace('a', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' * 1000000) }}")?.contains("longer than 16 MiB") == true)
        #expect(message("{{ [1] * 10000000 }}")?.contains("more than 1048576 items") == true)
        #expect(message("{{ {}|tojson(indent=1000000000) }}")?.contains("at most 1024") == true)
    }

    @Test func runawayLoopsAndNestingAreRefused() {
        #expect(message("{% for i in range(1000000) %}{% for j in range(1000000) %}{% endfor %}{% endfor %}")?.contains("evaluation steps") == true)
        #expect(message("{% set ns = namespace(x=[]) %}{% for i in range(1000) %}{% set ns.x = [ns.x] %}{% endfor %}")?.contains("nest more than 128 deep") == true)
        #expect(message("{% set ns = namespace(a=1) %}{% set ns.a = ns %}{{ ns }}")?.contains("nest more than 128 deep") == true)
    }

    @Test func integerEdgesAreErrorsNotTraps() throws {
        #expect(message("{{ -(-9223372036854775807 - 1) }}")?.contains("overflow") == true)
        #expect(message("{{ (-9223372036854775807 - 1) // -1 }}")?.contains("overflow") == true)
        #expect(try render("{{ (-9223372036854775807 - 1) % -1 }}") == "0")
        #expect(message("{{ (-9223372036854775807 - 1)|abs }}")?.contains("overflow") == true)
        #expect(message("{{ range(-9223372036854775807, 9223372036854775807) }}")?.contains("too long") == true)
        #expect(try render("{{ [1, 2, 3, 4, 5, 6][5::9223372036854775807] }}") == "[6]")
    }
}
