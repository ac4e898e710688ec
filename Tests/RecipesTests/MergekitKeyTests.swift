import Recipes
import Surgery
import Testing

/// mergekit recipe keys lep does not implement are refused by name ("mergekit feature X is
/// not supported yet"), not as unknown keys and never ignored.
struct MergekitKeyTests {
    static let head = """
        merge_method: linear
        models:
          - model: fixtures/merge/models/a
            parameters: {weight: 1.0}
          - model: fixtures/merge/models/b
            parameters: {weight: 1.0}

        """

    static func refusal(_ extra: String) -> String? {
        do {
            _ = try Recipe.parse(head + extra, path: "r.yml", baseDirectory: ".")
            return nil
        } catch {
            return error.description
        }
    }

    @Test(arguments: [
        ("chat_template: chatml\n", "chat_template"),
        ("tokenizer:\n  source: union\n  tokens:\n    <x>:\n      source: fixtures/merge/models/a\n", "tokenizer"),
        ("tokenizer_source: fixtures/merge/models/a\n", "tokenizer_source"),
        ("modules:\n  text_decoder:\n    models:\n      - model: fixtures/merge/models/a\n", "modules")
    ])
    func refusedByName(_ extra: String, _ key: String) throws {
        let message = try #require(Self.refusal(extra), "\(key) was accepted")
        #expect(message.contains("mergekit feature") && message.contains("is not supported yet"), "\(message)")
        #expect(message.contains("'\(key)"), "\(message)")
    }

    @Test func perSliceBaseModelRefusedByName() throws {
        let text = """
            merge_method: passthrough
            slices:
              - sources:
                  - model: fixtures/merge/models/a
                    layer_range: [0, 1]
                residual_weight: 0.5
            """
        do {
            _ = try Recipe.parse(text, path: "r.yml", baseDirectory: ".")
            Issue.record("accepted")
        } catch {
            #expect(error.description.contains("mergekit feature") && error.description.contains("residual_weight"), "\(error)")
        }
    }

    @Test func supportedTokenizerSourcesStillParse() throws {
        #expect(Self.refusal("tokenizer_source: union\n") == nil)
        #expect(Self.refusal("tokenizer_source: base\n") == nil)
    }
}
