import Merging
import Recipes
import SafeTensors
import Surgery
import Testing

/// The one parser of `lep lora merge` and a pipeline's `lora_merge` step.
@Suite struct LoraMergeRequestTests {
    @Test func parsesIntoAPassthroughRecipe() throws {
        let q = try LoraMergeRequest(parsing: OptionValues(values: ["model": "m", "adapter": "a", "output": "o", "dtype": "bf16"], flags: ["force"]))
        #expect(q.dtype == .BF16 && q.force && q.output == "o")
        let r = try q.recipe()
        #expect(r.method == "passthrough")
        #expect(r.models.map(\.model.path) == ["m"] && r.models.map(\.model.adapter) == ["a"])
        #expect(r.outDtype == .BF16)
        let plain = try LoraMergeRequest(parsing: OptionValues(values: ["model": "m", "adapter": "a", "output": "o"]))
        #expect(plain.dtype == nil && !plain.force)
        #expect(try plain.recipe().outDtype == nil)
    }

    @Test func refusalsNameTheOption() {
        #expect(throws: SurgeryError.invalidOption(option: "adapter", reason: "is required")) {
            try LoraMergeRequest(parsing: OptionValues(values: ["model": "m", "output": "o"]))
        }
        #expect(throws: SurgeryError.invalidOption(option: "dtype", reason: "expected bfloat16, float16, float32 or float64 (or bf16, f16, f32, f64), got 'int8'")) {
            try LoraMergeRequest(parsing: OptionValues(values: ["model": "m", "adapter": "a", "output": "o", "dtype": "int8"]))
        }
    }
}
