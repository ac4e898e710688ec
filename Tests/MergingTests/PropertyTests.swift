import Foundation
import Merging
import Recipes
import SafeTensors
import Surgery
import SurgeryTestSupport
import Testing

/// Algebraic properties of the methods, on the fixture models.
@Suite struct PropertyTests {
    @Test func linearWithOneModelOfWeightOneReturnsIt() throws {
        let out = try Fix.run(try Fix.recipe("merge_method: linear\nmodels:\n  - model: models/a\n    parameters: {weight: 1.0}\n"))
        let a = try Fix.tensors(Fix.merge + "/models/a"), o = try Fix.tensors(out)
        for (n, t) in a { #expect(o[n]?.1 == t.1, "\(n) changed") }
    }

    @Test func taskArithmeticWithLambdaZeroReturnsTheBase() throws {
        let out = try Fix.run(
            try Fix.recipe(
                """
                merge_method: task_arithmetic
                base_model: models/base
                models:
                  - model: models/a
                    parameters: {weight: 0.7}
                  - model: models/b
                    parameters: {weight: [0.1, 0.9]}
                parameters: {lambda: 0}
                """))
        let base = try Fix.tensors(Fix.merge + "/models/base"), o = try Fix.tensors(out)
        for (n, t) in base { #expect(o[n]?.1 == t.1, "\(n) differs from the base") }
    }

    @Test func equalWeightLinearDoesNotDependOnOrder() throws {
        func recipe(_ x: String, _ y: String) throws -> Recipe {
            try Fix.recipe("merge_method: linear\nmodels:\n  - model: models/\(x)\n    parameters: {weight: 1}\n  - model: models/\(y)\n    parameters: {weight: 1}\n")
        }
        let ab = try Fix.tensors(try Fix.run(try recipe("a", "b"))), ba = try Fix.tensors(try Fix.run(try recipe("b", "a")))
        for (n, t) in ab { #expect(ba[n]?.1 == t.1, "\(n) depends on the order") }
    }

    @Test func sameRecipeTwiceGivesIdenticalShards() throws {
        let recipe = try Recipe.load(path: Fix.merge + "/recipes/ties.yml", baseDirectory: Fix.merge)
        let one = Fix.files(try Fix.run(recipe)), two = Fix.files(try Fix.run(recipe))
        #expect(one.keys.sorted() == two.keys.sorted())
        for (name, data) in one where name.hasSuffix(".safetensors") || name == "config.json" || name == MergeExecutor.provenanceName {
            #expect(two[name] == data, "\(name) differs between two runs")
        }
    }

    @Test func outputIsSelfDescribing() throws {
        let out = try Fix.run(try Recipe.load(path: Fix.merge + "/recipes/ties.yml", baseDirectory: Fix.merge))
        let files = Fix.files(out)
        #expect(files["lep_recipe.yaml"] != nil)
        #expect(files["config.json"] != nil)
        let prov = String(decoding: files[MergeExecutor.provenanceName] ?? Data(), as: UTF8.self)
        #expect(prov.contains("\"merge_method\": \"ties\""))
        #expect(prov.contains("shard_header_sha256"))
        // config.json records the output dtype (float32 here, from `dtype: float32`).
        #expect(String(decoding: files["config.json"]!, as: UTF8.self).contains("float32"))
    }

    @Test func shardedOutputHasAnIndex() throws {
        let plan = try MergePlan.make(try Recipe.load(path: Fix.merge + "/recipes/linear.yml", baseDirectory: Fix.merge))
        var o = MergeOptions()
        o.maxShardBytes = 4000
        let out = Fix.tempDir() + "/out"
        let s = try MergeExecutor.run(plan, output: out, options: o)
        #expect(s.shards > 1)
        let c = try Checkpoint(path: out)
        #expect(c.tensorCount == 21)
    }

    @Test func gradientAndFiltersResolveLikeMergekit() {
        // weight: [0.2, 0.8] over 2 layers: layer 0 → 0.2, layer 1 → 0.8, embeddings → first value.
        let g = ParameterSetting.gradient([0.2, 0.8])
        #expect(g.resolve(tensor: "x", t: 0) == .number(0.2))
        #expect(g.resolve(tensor: "x", t: 1) == .number(0.8))
        let five = ParameterSetting.gradient([0, 0.5, 0.3, 0.7, 1])
        #expect(five.resolve(tensor: "x", t: 0.5) == .number(0.3))
        let f = ParameterSetting.filtered([FilteredSetting(filter: "mlp", value: .number(1)), FilteredSetting(filter: nil, value: .number(2))])
        #expect(f.resolve(tensor: "model.layers.0.mlp.up_proj.weight", t: 0) == .number(1))
        #expect(f.resolve(tensor: "model.layers.0.self_attn.q_proj.weight", t: 0) == .number(2))
    }
}
