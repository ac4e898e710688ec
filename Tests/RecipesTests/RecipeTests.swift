import Foundation
import LEPJSON
import Recipes
import Surgery
import SurgeryTestSupport
import Testing

/// Recipe text: the YAML subset, JSON with comments, and key checks.
@Suite struct RecipeTests {
    @Test func yamlSubsetParsesMergekitShapes() throws {
        let v = try YAMLSubset.parse(
            """
            # a comment
            merge_method: ties   # trailing comment
            base_model: "models/base"
            models:
            - model: models/a
              parameters:
                weight: [0.2, 0.8]
                density: 1e-1
            - model: 'it''s'
            parameters: {normalize: true, lambda: -1.5}
            dtype: bfloat16
            empty:
            """, path: "t.yml")
        #expect(v["merge_method"] == .string("ties"))
        #expect(v["base_model"] == .string("models/base"))
        #expect(v["models"]?.array?.count == 2)
        #expect(v["models"]?.array?[0]["parameters"]?["weight"] == .array([.number(JSONNumber(0.2)), .number(JSONNumber(0.8))]))
        #expect(v["models"]?.array?[0]["parameters"]?["density"]?.number?.double == 0.1)
        #expect(v["models"]?.array?[1]["model"] == .string("it's"))
        #expect(v["parameters"]?["normalize"] == .bool(true))
        #expect(v["parameters"]?["lambda"]?.number?.double == -1.5)
        #expect(v["empty"] == .null)
    }

    @Test func yamlErrorsNameTheLine() {
        #expect(throws: SurgeryError.recipeSyntax(path: "t.yml", line: 3, message: "duplicate key 'a'")) {
            try YAMLSubset.parse("a: 1\nb: 2\na: 3\n", path: "t.yml")
        }
        #expect(throws: SurgeryError.recipeSyntax(path: "t.yml", line: 2, message: "unterminated '[' (flow lists must fit on one line)")) {
            try YAMLSubset.parse("a: 1\nb: [1, 2\n", path: "t.yml")
        }
        #expect(throws: SurgeryError.recipeSyntax(path: "t.yml", line: 2, message: "YAML feature '&' (anchors, tags, block scalars) is not supported in recipes")) {
            try YAMLSubset.parse("a: 1\nb: &x 2\n", path: "t.yml")
        }
    }

    /// Found by lep-fuzz-recipe's inputs grown large: block nesting is bounded like flow nesting
    /// (a deep file was a stack overflow), and "- key: value" items take linear time.
    @Test func yamlNestingIsBoundedAndListsAreLinear() throws {
        let deep = (0..<100).map { String(repeating: " ", count: $0) + "x:" }.joined(separator: "\n")
        #expect(throws: SurgeryError.recipeSyntax(path: "t.yml", line: 65, message: "nesting deeper than 64 levels")) {
            try YAMLSubset.parse(deep, path: "t.yml")
        }
        let within = (0..<64).map { String(repeating: " ", count: $0) + "x:" }.joined(separator: "\n")
        #expect(try YAMLSubset.parse(within, path: "t.yml")["x"] != nil)
        let items = "models:\n" + (0..<20000).map { "  - model: m\($0)\n    parameters: {weight: 1}" }.joined(separator: "\n")
        #expect(try YAMLSubset.parse(items, path: "t.yml")["models"]?.array?.count == 20000)
    }

    @Test func jsonRecipesAllowCommentsAndAreVersioned() throws {
        let r = try Recipe.parse(
            """
            // a lep recipe
            {
              "lep_recipe": 1, /* format version */
              "merge_method": "linear",
              "models": [{"model": "models/a", "parameters": {"weight": 1}}],  // one model
              "seed": 42
            }
            """, path: "r.json", baseDirectory: "/x")
        #expect(r.form == .json && r.seed == 42 && r.models[0].model.path == "/x/models/a")
        #expect(throws: SurgeryError.missingKey(key: "lep_recipe")) {
            try Recipe.parse("{\"merge_method\": \"linear\"}", path: "r.json", baseDirectory: ".")
        }
        // The strict parser is unchanged: comments are only accepted through RecipeText.
        #expect(throws: JSONParseError.self) { try JSONParser.parse("{/* no */}") }
        #expect(throws: SurgeryError.recipeSyntax(path: "r.json", line: 2, message: "unterminated /* comment")) {
            try RecipeText.parse("{\n/* open", path: "r.json")
        }
    }

    @Test func modelPlusAdapterSyntax() throws {
        let r = try Fix.recipe("merge_method: passthrough\nmodels: [models/a+models/a_lora]\n")
        #expect(r.models[0].model.path == Fix.merge + "/models/a")
        #expect(r.models[0].model.adapter == Fix.merge + "/models/a_lora")
    }

    @Test func unknownNestedKeysAreNamed() {
        #expect(throws: SurgeryError.unknownKey(key: "models[0].weight", known: ["model", "parameters"])) {
            try Fix.recipe("merge_method: linear\nmodels:\n  - model: models/a\n    weight: 1\n")
        }
        #expect(throws: SurgeryError.invalidValue(key: "dtype", reason: "expected bfloat16, float16, float32 or float64")) {
            try Fix.recipe("merge_method: linear\nmodels: [models/a]\ndtype: int8\n")
        }
    }
}
