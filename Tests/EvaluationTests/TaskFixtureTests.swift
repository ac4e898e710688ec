import Foundation
import LEPJSON
import Models
import Testing
@testable import Evaluation
import TestSupport

/// The model-running tasks against transformers (fixtures/eval, made by scripts/fixtures/gen_eval.py:
/// tiny LLaMA models with a tiny byte-level BPE tokenizer and a LLaMA-3-style chat template).
/// Tolerance: lep's Float32 forward pass vs torch's Float32, compared in Double: log-probabilities
/// and NLL sums within 1e-4 absolute (per token ~1e-6), bits per byte within 1e-6.
struct TaskFixtureTests {
    static let dir = SharedData.fixtures + "/eval"
    static let reference: JSONValue = (try? JSONParser.parse(String(contentsOfFile: dir + "/reference.json", encoding: .utf8))) ?? .null

    static func model(_ name: String = "model-a") throws -> EvaluatedModel {
        try EvaluatedModel(name: name, path: dir + "/" + name)
    }

    static func ints(_ v: JSONValue?) -> [Int] { (v?.array ?? []).compactMap { $0.number?.int64.map(Int.init) } }
    static func num(_ v: JSONValue?) -> Double { v?.number?.double ?? .nan }

    static func close(_ a: Double, _ b: Double, _ tol: Double, _ what: String) {
        #expect(abs(a - b) <= tol, "\(what): lep \(a) vs transformers \(b) (|Δ| \(abs(a - b)) > \(tol))")
    }

    @Test func likelihoodMatchesTransformersLoss() throws {
        let m = try Self.model()
        let ref = try #require(Self.reference["likelihood"])
        let text = try #require(ref["text"]?.string)
        let ids = m.tokenizer.encode(text, addSpecialTokens: true)
        #expect(ids == Self.ints(ref["ids"]))
        let ctx = Int(Self.num(Self.reference["ctx"]))
        // Rolling windows: every window's NLL sum equals transformers' loss × (n − 1).
        let windows = Likelihood.windows(count: ids.count, context: ctx)
        let refWindows = try #require(ref["windows"]?.array)
        #expect(windows.count == refWindows.count)
        let r = try LikelihoodTask.run(m, text: text, context: ctx, task: "text")
        #expect(r.likelihood.tokens == Int(Self.num(ref["tokens"])))
        #expect(r.bytes == Int(Self.num(ref["bytes"])))
        Self.close(r.likelihood.totalNLL, Self.num(ref["nll_sum"]), 1e-4, "windowed NLL sum")
        Self.close(r.likelihood.meanNLL, Self.num(ref["mean_nll"]), 1e-6, "windowed mean NLL")
        Self.close(r.bitsPerByte, Self.num(ref["bits_per_byte"]), 1e-6, "windowed bits per byte")
        // One window over the whole text: transformers' `loss` (labels = input_ids).
        let whole = try LikelihoodTask.run(m, text: text, context: 4096, task: "text")
        #expect(whole.likelihood.windows == 1)
        Self.close(whole.likelihood.meanNLL, Self.num(ref["whole_loss"]), 1e-5, "whole-text loss")
        Self.close(whole.bitsPerByte, Self.num(ref["whole_bits_per_byte"]), 1e-6, "whole-text bits per byte")
    }

    @Test func agreementMatchesNumpyOnTransformersLogits() throws {
        let a = try Self.model("model-a"), b = try Self.model("model-b")
        let ref = try #require(Self.reference["agreement"])
        let text = try #require(Self.reference["likelihood"]?["text"]?.string)
        let s = try AgreementTask.run(reference: a, candidate: b, text: text, context: Int(Self.num(Self.reference["ctx"])), task: "agreement")
        #expect(s.positions == Int(Self.num(ref["positions"])))
        Self.close(s.klMean, Self.num(ref["kl_mean"]), 1e-5, "kl_mean")
        Self.close(s.klMedian, Self.num(ref["kl_median"]), 1e-5, "kl_median")
        Self.close(s.klP99, Self.num(ref["kl_p99"]), 1e-4, "kl_p99")
        Self.close(s.klMax, Self.num(ref["kl_max"]), 1e-4, "kl_max")
        Self.close(s.sameTop1, Self.num(ref["same_top1"]), 1e-12, "same_top1")
        Self.close(s.deltaPMean, Self.num(ref["delta_p_mean"]), 1e-7, "delta_p_mean")
        Self.close(s.deltaPRMS, Self.num(ref["delta_p_rms"]), 1e-7, "delta_p_rms")
        Self.close(s.lnPPLRatio, Self.num(ref["ln_ppl_ratio"]), 1e-5, "ln_ppl_ratio")
    }

    @Test func agreementRefusesDifferentVocabularies() throws {
        // A 256-token model from fixtures/forward with this tokenizer beside it: vocab 256 vs 480.
        let tmp = NSTemporaryDirectory() + "lep-eval-vocab-\(getpid())"
        try? FileManager.default.removeItem(atPath: tmp)
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        for f in ["config.json", "generation_config.json", "model.safetensors"] {
            try FileManager.default.copyItem(atPath: SharedData.fixtures + "/forward/llama3-f32/" + f, toPath: tmp + "/" + f)
        }
        for f in ["tokenizer.json", "tokenizer_config.json"] {
            try FileManager.default.copyItem(atPath: Self.dir + "/model-a/" + f, toPath: tmp + "/" + f)
        }
        let a = try Self.model(), other = try EvaluatedModel(name: "small", path: tmp)
        #expect(
            throws: EvaluationError.task(name: "agreement", message: "small has vocab_size 256 but the reference model-a has 480; agreement needs the same vocabulary (compare bits_per_byte instead)")
        ) {
            try AgreementTask.run(reference: a, candidate: other, text: "hello there", context: 16, task: "agreement")
        }
    }

    @Test func continuationLogLikelihoodsMatchTransformers() throws {
        let m = try Self.model()
        for it in try #require(Self.reference["mc_continuation"]?.array) {
            let item = MultipleChoiceItem(
                id: it["id"]!.string!, prompt: it["prompt"]!.string!,
                choices: it["choices"]!.array!.compactMap(\.string), answer: Int(Self.num(it["answer"])))
            let (ctx, conts) = try MultipleChoiceTask.continuationIds(m, item: item, task: "mc")
            #expect(ctx == Self.ints(it["context_ids"]))
            let scored = try #require(it["choices_scored"]?.array)
            #expect(conts == scored.map { Self.ints($0["continuation_ids"]) })
            let o = try MultipleChoiceTask.runContinuation(m, item: item, task: "mc")
            for (i, s) in scored.enumerated() { Self.close(o.scores[i], Self.num(s["loglikelihood"]), 1e-4, "\(item.id) choice \(i)") }
            let lls = scored.map { Self.num($0["loglikelihood"]) }
            #expect(o.accuracy == (MultipleChoiceMetrics.argmax(lls) == item.answer ? 1 : 0))
            #expect(o.normalizedAccuracy == (try MultipleChoiceMetrics.normalizedAccuracy(logLikelihoods: lls, choices: item.choices, answer: item.answer)))
        }
    }

    @Test func singleTokenLogProbsMatchTransformers() throws {
        let m = try Self.model()
        for it in try #require(Self.reference["mc_single"]?.array) {
            let item = MultipleChoiceItem(
                id: it["id"]!.string!, prompt: it["prompt"]!.string!,
                choices: it["choices"]!.array!.compactMap(\.string), answer: Int(Self.num(it["answer"])),
                answerPrefix: it["answer_prefix"]?.string)
            let text = try MultipleChoiceTask.singleTokenPrompt(m, item: item, task: "mc")
            #expect(text == it["rendered"]?.string)
            #expect(m.tokenizer.encode(text, addSpecialTokens: false) == Self.ints(it["prompt_ids"]))
            let o = try MultipleChoiceTask.runSingleToken(m, item: item, task: "mc")
            for (i, s) in try #require(it["choices_scored"]?.array).enumerated() {
                Self.close(o.scores[i], Self.num(s["logprob"]), 1e-4, "\(item.id) choice \(i)")
            }
        }
    }

    @Test func copyGenerationMatchesTransformersGreedy() throws {
        let m = try Self.model()
        for it in try #require(Self.reference["copy"]?.array) {
            let item = CopyItem(id: it["id"]!.string!, language: it["language"]!.string!, kind: .sentence, text: it["text"]!.string!)
            let o = try CopyTask.run(m, item: item, task: "copy")
            #expect(o.promptIds == Self.ints(it["prompt_ids"]))
            #expect(o.referenceTokens == Self.ints(it["reference_ids"]).count)
            #expect(CopyTask.budget(referenceTokens: o.referenceTokens) == Int(Self.num(it["max_new_tokens"])))
            var expected = Self.ints(it["generated_ids"])
            if let last = expected.last, m.stopIds.contains(last) { expected.removeLast() }
            #expect(o.generatedIds == expected, "\(item.id): greedy ids differ from transformers' generate()")
            #expect(o.prediction == CopyTask.trimWhitespace(it["decoded"]?.string ?? ""))
            #expect(o.len == CopyMetrics.lengthRatio(generatedTokens: expected.count, referenceTokens: o.referenceTokens))
        }
    }

    @Test func tokenizerEfficiencyCountsMatchTokenizers() throws {
        let m = try Self.model()
        for it in try #require(Self.reference["tokenizer"]?.array) {
            let text = it["text"]!.string!
            let r = TokenizerEfficiencyTask.run(m.tokenizer, text: text)
            #expect(r.tokens == Int(Self.num(it["tokens"])))
            #expect(r.characters == text.unicodeScalars.count)
            #expect(r.words == text.split(whereSeparator: { $0.isWhitespace }).count)
        }
    }

    @Test func copyOnHandMadeOutputs() throws {
        // The documented values of the metrics the copy task reports (hand-made, no model).
        let ref = "Чайник выключился."
        #expect(CopyMetrics.copy99(reference: ref, prediction: ref) == 1)  // exact copy
        #expect(CopyMetrics.copy99(reference: ref, prediction: "Чайник") == 0)  // truncated
        #expect(CopyMetrics.copy99(reference: ref, prediction: ref + " Да.") == 0)  // over-long
        #expect(CopyMetrics.lengthRatio(generatedTokens: 5, referenceTokens: 10) == 0.5)
        #expect(CopyMetrics.lengthRatio(generatedTokens: 20, referenceTokens: 10) == 0.5)
        #expect(CopyMetrics.symbolsPerToken(prediction: ref, generatedTokens: 5) == 3)
        #expect(CopyTask.trimWhitespace("\n  a b \n") == "a b")
    }

    @Test func suiteReportsAreByteIdenticalAcrossRuns() throws {
        var options = SuiteOptions()
        options.tasks = TaskKind.allCases
        options.maxItems = 2
        options.context = 64
        let paths = [Self.dir + "/model-a", Self.dir + "/model-b"]
        let (r1, t1) = try EvaluationSuite.run(models: paths, data: try SuiteData.bundled(), options: options)
        let (r2, _) = try EvaluationSuite.run(models: paths, data: try SuiteData.bundled(), options: options)
        #expect(ReportWriter.json(r1) == ReportWriter.json(r2))
        #expect(ReportWriter.markdown(r1) == ReportWriter.markdown(r2))
        #expect(ReportWriter.svg(r1) == ReportWriter.svg(r2))
        #expect(r1.models.map(\.name) == ["model-a", "model-b"])
        #expect(r1.models.allSatisfy { $0.headerHash.hasPrefix("sha256:") && $0.headerHash.count == 71 })
        let tasks = Set(r1.entries.map(\.task))
        for t in [
            "text_en", "text_ru", "agreement_en", "copy_en_sentence", "copy_en_paragraph", "copy_ru_paragraph",
            "mc_single_en", "mc_single_ru", "mc_cont_en", "mc_cont_ru", "tokenizer_ru"
        ] {
            #expect(tasks.contains(t), "missing task \(t)")
        }
        // Agreement only for the candidate; the reference is not compared with itself.
        #expect(r1.entry(model: "model-a", task: "agreement_en", metric: "kl_mean") == nil)
        #expect(r1.entry(model: "model-b", task: "agreement_en", metric: "kl_mean") != nil)
        #expect(r1.entry(model: "model-a", task: "text_en", metric: "bits_per_byte")?.higherIsBetter == false)
        #expect(t1.forwardSeconds > 0 && t1.forwardSeconds <= t1.totalSeconds)
        #expect(!ReportWriter.json(r1).contains("seconds"))
    }

    @Test func malformedTaskFileNamesFileAndLine() throws {
        let tmp = NSTemporaryDirectory() + "lep-eval-data-\(getpid())"
        try? FileManager.default.removeItem(atPath: tmp)
        try FileManager.default.createDirectory(atPath: tmp + "/en", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let path = tmp + "/en/mc_continuation.jsonl"
        try "{\"prompt\": \"a\", \"choices\": [\"x\", \"y\"], \"answer\": 0}\n\n{\"prompt\": \"b\", \"choices\": [\"x\"], \"answer\": 0}\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: EvaluationError.taskFile(path: path, line: 3, message: "need at least 2 choices, found 1")) {
            try SuiteData.directory(tmp)
        }
    }

    @Test func chatTasksWithoutTemplateSayHowToFixIt() throws {
        let tmp = NSTemporaryDirectory() + "lep-eval-notemplate-\(getpid())"
        try? FileManager.default.removeItem(atPath: tmp)
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        for f in ["config.json", "generation_config.json", "model.safetensors", "tokenizer.json"] {
            try FileManager.default.copyItem(atPath: Self.dir + "/model-a/" + f, toPath: tmp + "/" + f)
        }
        let m = try EvaluatedModel(name: "bare", path: tmp)
        let item = CopyItem(id: "x", language: "en", kind: .sentence, text: "Hi.")
        #expect(throws: EvaluationError.noChatTemplate(task: "copy", model: "bare", path: tmp)) {
            try CopyTask.run(m, item: item, task: "copy")
        }
        // A built-in format fixes it.
        let fixed = try EvaluatedModel(name: "bare", path: tmp, chat: .format(.llama3))
        #expect(try CopyTask.run(fixed, item: item, task: "copy").promptIds.first == 0)
    }

    @Test func taskListParsing() throws {
        #expect(try TaskKind.parseList("copy, likelihood") == [.likelihood, .copy])
        #expect(try TaskKind.parseList("all") == TaskKind.allCases)
        #expect(throws: EvaluationError.self) { try TaskKind.parseList("bleu") }
    }
}
