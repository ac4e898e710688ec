@testable import ChatTemplates
import Foundation
import LEPJSON
import TestSupport
import Testing

/// Numeric conversions of template values against transformers' Jinja environment
/// (fixtures/chat_templates_numeric, made by scripts/fixtures/gen_jinja_numeric.py): the `int` filter and
/// `%d` on inf, nan and 1e300 render as jinja2 does, or are refused with an error; never a trap.
@Suite struct JinjaNumericTests {
    @Test("int filter and %d formatting agree with jinja2 or are refused")
    func numericConversions() throws {
        let text = try String(contentsOfFile: SharedData.fixtures + "/chat_templates_numeric/cases.json", encoding: .utf8)
        let cases = try #require(try JSONParser.parse(text)["cases"]?.array)
        #expect(cases.count >= 16)
        var rendered = 0, refused = 0
        for c in cases {
            let src = try #require(c["template"]?.string)
            let template = try ChatTemplate(source: src, name: "numeric")
            let result = Result { try template.render(json: [], options: ChatRenderOptions()) }
            if let expected = c["output"]?.string, c["outside_int64"]?.bool != true {
                #expect((try? result.get()) == expected, "\(src)")
                rendered += 1
            } else {
                // jinja2 raised, or produced an integer beyond 64 bits: lep must refuse with a message.
                guard case .failure(let error) = result else { Issue.record("\(src) rendered \(String(describing: try? result.get()))"); continue }
                #expect("\(error)".contains("integer") || "\(error)".contains("int"), "\(src): \(error)")
                refused += 1
            }
        }
        #expect(rendered >= 8 && refused >= 6)
    }
}
