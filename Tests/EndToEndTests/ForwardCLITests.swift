import Foundation
import LEPJSON
import SafeTensors
import Testing
import TestSupport

/// `lep run` and `lep verify` on the committed tiny models (fixtures/forward, made by transformers).
@Suite(.serialized) struct ForwardCLITests {
    static let forward = SharedData.packageRoot + "/fixtures/forward"

    struct Reference {
        let ids: [Int], greedy: [Int], promptLength: Int, loss: Double
        init(_ name: String) throws {
            let f = try SafeTensorsFile(path: ForwardCLITests.forward + "/\(name).reference.safetensors")
            ids = try f.view("input_ids").floats().map { Int($0) }
            greedy = try f.view("greedy_ids").floats().map { Int($0) }
            promptLength = Int(f.header.metadata["greedy_prompt_len"] ?? "") ?? 0
            loss = Double(f.header.metadata["loss"] ?? "") ?? .nan
        }
    }

    func number(_ v: JSONValue?, _ path: [String]) -> Double? {
        var cur = v
        for k in path { cur = cur?.object?[k] }
        return cur?.number?.double
    }

    @Test func runPrintsTransformersGreedyContinuation() throws {
        for name in ["llama3-bf16", "mistral-f32"] {
            let ref = try Reference(name)
            let prompt = ref.ids.prefix(ref.promptLength).map(String.init).joined(separator: ",")
            let r = try LEP.run(["run", Self.forward + "/" + name, "--ids", prompt, "--max-tokens", "32"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout == ref.greedy.map(String.init).joined(separator: " ") + "\n", "\(name)")
        }
    }

    @Test func textInputWithoutTokenizerIsAClearError() throws {
        let r = try LEP.run(["run", Self.forward + "/llama3-f32", "--prompt", "Hello"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("text input needs the model's tokenizer") && r.stderr.contains("--ids"))
        let both = try LEP.run(["run", Self.forward + "/llama3-f32", "--prompt", "Hello", "--ids", "1"])
        #expect(both.status == 64)
        let help = try LEP.run(["--help"])
        #expect(help.stdout.contains("run") && help.stdout.contains("verify"))
    }

    @Test func verifyReportsNLLAndAgreementLikeTransformersAndNumpy() throws {
        let ref = try Reference("llama3-f32")
        let ids = ref.ids.map(String.init).joined(separator: ",")
        let r = try LEP.run([
            "verify", Self.forward + "/llama3-bf16", "--ids", ids, "--ctx", "40",
            "--reference", Self.forward + "/llama3-f32", "--json", "--max-kld", "0.01", "--min-top1", "0.9"
        ])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let j = try JSONParser.parse(Array(r.stdout.utf8))
        #expect(j.object?["passed"] == .bool(true))
        let bf16 = try Reference("llama3-bf16")
        let nll = number(j, ["likelihood", "nll_per_token"]) ?? .nan
        #expect(abs(nll - bf16.loss) < 1e-5 * bf16.loss, "NLL \(nll) vs transformers loss \(bf16.loss)")
        let refNLL = number(j, ["reference", "likelihood", "nll_per_token"]) ?? .nan
        #expect(abs(refNLL - ref.loss) < 1e-5 * ref.loss)
        // numpy's statistics from transformers' logits (agreement.json); lep computes them from its own
        // logits, which differ from transformers' by ≤ 1e-5, hence the looser bounds.
        let expected = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: Self.forward + "/agreement.json"))))
        for key in ["kl_mean", "kl_median", "kl_p99", "kl_max", "delta_p_rms", "ln_ppl_ratio"] {
            let got = number(j, ["reference", "agreement", key]) ?? .nan, want = number(expected, [key]) ?? .nan
            #expect(abs(got - want) <= 0.02 * abs(want) + 1e-7, "\(key): lep \(got) vs numpy \(want)")
        }
        #expect(number(j, ["reference", "agreement", "same_top1"]) == number(expected, ["same_top1"]))
    }

    @Test func verifyThresholdsGateAPipeline() throws {
        let ids = try Reference("mistral-f32").ids.map(String.init).joined(separator: ",")
        let m = Self.forward + "/mistral-bf16"
        let same = try LEP.run(["verify", m, "--ids", ids, "--ctx", "16", "--reference", m, "--max-kld", "0", "--min-top1", "1"])
        #expect(same.status == 0, "\(same.stdout)\(same.stderr)")
        #expect(same.stdout.contains("KL mean 0") && same.stdout.contains("same top-1 100.00%"))
        let strict = try LEP.run(["verify", m, "--ids", ids, "--ctx", "16", "--reference", Self.forward + "/mistral-f32", "--max-kld", "1e-12"])
        #expect(strict.status == 1 && strict.stdout.contains("[FAIL] mean KL"))
        let lonely = try LEP.run(["verify", m, "--ids", ids, "--max-kld", "1"])
        #expect(lonely.status == 64)
    }

    @Test func verifyRefusesABrokenModelBeforeComputing() throws {
        let tmp = makeTempDir(); defer { try? FileManager.default.removeItem(atPath: tmp) }
        try FileManager.default.copyItem(atPath: Self.forward + "/llama3-f32", toPath: tmp + "/m")
        let cfgPath = tmp + "/m/config.json"
        let cfg = try String(contentsOfFile: cfgPath, encoding: .utf8).replacingOccurrences(of: "\"intermediate_size\": 64", with: "\"intermediate_size\": 96")
        try cfg.write(toFile: cfgPath, atomically: true, encoding: .utf8)
        let r = try LEP.run(["verify", tmp + "/m", "--ids", "1,2,3"])
        #expect(r.status == 1 && r.stderr.contains("model.layers.0.mlp.down_proj.weight") && r.stderr.contains("[32, 96]"))
    }
}
