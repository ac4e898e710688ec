import Foundation
import Merging
import Recipes
import SafeTensors
import Surgery
import SurgeryTestSupport
import Testing

/// Bad recipes and inputs: each a specific error, and nothing written.
@Suite struct ErrorTests {
    /// Expects `recipe` to fail with `expected` at plan or run time and the output not to exist.
    func expectFailure(_ recipe: String, base: String? = nil, _ expected: (SurgeryError) -> Bool) throws {
        let out = Fix.tempDir() + "/out"
        do {
            let r = try Fix.recipe(recipe, base: base)
            try Fix.run(r, to: out)
            Issue.record("no error")
        } catch let e as SurgeryError {
            #expect(expected(e), "unexpected error: \(e)")
        }
        #expect(!FileManager.default.fileExists(atPath: out), "output written despite the error")
    }

    @Test func unknownMethod() throws {
        try expectFailure("merge_method: tie\nmodels: [models/a]\n") { if case .unknownMethod(name: "tie", _) = $0 { true } else { false } }
    }

    @Test func unknownTopLevelKey() throws {
        try expectFailure("merge_method: linear\nmodel: models/a\n") { if case .unknownKey(key: "model", _) = $0 { true } else { false } }
    }

    @Test func unknownParameterNamesItsKey() throws {
        try expectFailure("merge_method: linear\nmodels:\n  - model: models/a\n    parameters: {weight: 1, densty: 0.5}\n") {
            if case .unknownKey(key: "models[0].parameters.densty", _) = $0 { true } else { false }
        }
    }

    @Test func missingWeightNamesItsKey() throws {
        try expectFailure("merge_method: ties\nbase_model: models/base\nmodels:\n  - model: models/a\n    parameters: {density: 0.5}\n") {
            $0 == .missingKey(key: "models[0].parameters.weight")
        }
    }

    @Test func globalParameterPerModelIsRefused() throws {
        try expectFailure("merge_method: ties\nbase_model: models/base\nmodels:\n  - model: models/a\n    parameters: {weight: 1, lambda: 2}\n") {
            if case .invalidValue(key: "models[0].parameters.lambda", _) = $0 { true } else { false }
        }
    }

    @Test func tiesWithoutBase() throws {
        try expectFailure("merge_method: ties\nmodels:\n  - model: models/a\n    parameters: {weight: 1}\n") {
            if case .methodInputs(method: "ties", _) = $0 { true } else { false }
        }
    }

    @Test func mismatchedShapes() throws {
        let dir = Fix.tempDir()
        try Fix.synth(dir + "/m16", hidden: 16)
        try Fix.synth(dir + "/m32", hidden: 32, seed: 1)
        try expectFailure("merge_method: linear\nmodels:\n  - model: m16\n    parameters: {weight: 1}\n  - model: m32\n    parameters: {weight: 1}\n", base: dir) {
            if case .shapeMismatch(tensor: "lm_head.weight", _, _, _) = $0 { true } else { false }
        }
    }

    @Test func missingTensor() throws {
        let dir = Fix.tempDir()
        try Fix.synth(dir + "/two", layers: 2)
        try Fix.synth(dir + "/one", layers: 1, seed: 1)
        try expectFailure("merge_method: linear\nmodels:\n  - model: two\n    parameters: {weight: 1}\n  - model: one\n    parameters: {weight: 1}\n", base: dir) {
            if case .missingTensor(tensor: let t, model: let m) = $0 { t.hasPrefix("model.layers.1.") && m.contains("one") } else { false }
        }
    }

    @Test func differentVocabulariesNeedTokenizerSource() throws {
        let dir = Fix.tempDir()
        try Fix.synth(dir + "/v32", vocab: 32)
        try Fix.synth(dir + "/v48", vocab: 48, seed: 1)
        try expectFailure("merge_method: task_arithmetic\nbase_model: v32\nmodels:\n  - model: v48\n    parameters: {weight: 1}\n", base: dir) {
            $0 == .vocabularyMismatch(model: "models[0] (v48)", rows: 48, baseRows: 32)
        }
    }

    @Test func loraForAnotherModel() throws {
        let dir = Fix.tempDir()
        try Fix.synth(dir + "/wide", hidden: 32)
        try FileManager.default.copyItem(atPath: Fix.merge + "/models/a_lora", toPath: dir + "/lora")
        try expectFailure("merge_method: passthrough\nmodels: [wide+lora]\n", base: dir) {
            if case .invalidAdapter(_, let reason) = $0 { reason.contains("another model") } else { false }
        }
    }

    @Test func nonFiniteOutputNamesTheTensor() throws {
        try expectFailure("merge_method: task_arithmetic\nbase_model: models/base\nmodels:\n  - model: models/a\n    parameters: {weight: 1}\nparameters: {lambda: 1e39}\n") {
            if case .nonFiniteOutput(tensor: let t, count: let n) = $0 { !t.isEmpty && n > 0 } else { false }
        }
    }

    @Test func linearWeightsSummingToZero() throws {
        try expectFailure("merge_method: linear\nmodels:\n  - model: models/a\n    parameters: {weight: 1}\n  - model: models/b\n    parameters: {weight: -1}\n") {
            if case .tensorFailure = $0 { true } else { false }
        }
    }

    @Test func slicesMustCoverAllLayersOutsidePassthrough() throws {
        try expectFailure(
            """
            slices:
              - sources:
                  - model: models/base
                    layer_range: [0, 1]
                  - model: models/a
                    layer_range: [0, 1]
            merge_method: slerp
            base_model: models/base
            parameters: {t: 0.5}
            """
        ) { if case .invalidValue(key: "slices[0].sources[0].layer_range", _) = $0 { true } else { false } }
    }
}
