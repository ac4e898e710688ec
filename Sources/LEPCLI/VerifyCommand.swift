import LEPJSON
import Models
import Support
import Tokenizers

/// `lep verify`: is a (merged, propagated) model healthy, and how close is it to a reference?
enum VerifyCommand: Command {
    static let name = "verify"
    static let summary = "sanity-check a model: weights, finite logits, NLL/perplexity/bits per byte, agreement with a reference"
    static let usage = "MODEL [--text FILE | --ids 1,2,3] [--reference MODEL] [--ctx N] [--max-kld X] [--min-top1 X] [--skip-weight-scan] [--memory SIZE] [--json]"
    static let details = """
        Checks every weight for NaN/Inf and all-zero tensors, then scores a text (a bundled English and
        Russian text by default) with the Float32 forward pass in rolling windows of --ctx tokens
        (default 512; windows overlap by one token and every token after the first is scored once),
        checking that all logits are finite. Reports mean NLL per token (nats), perplexity and bits per
        UTF-8 byte (text input only).
        With --reference and the same vocabulary (equal vocab_size and, for text, identical token ids)
        both models score the same tokens and lep reports KL(reference ‖ model) mean/median/p99/max,
        the same-top-1 fraction, Δp of the correct token (mean, RMS) and mean ln(PPL/PPL_ref). With
        different vocabularies only bits per byte is comparable, and only that is reported.
        --max-kld (mean KL, nats) and --min-top1 make the exit code 1 when not met; so does any
        non-finite weight or logit. Exit 0 means every check passed.
        """
    static let options = [
        OptionSpec(name: "text", value: "FILE", help: "UTF-8 text to score (default: the bundled text)"),
        OptionSpec(name: "ids", value: "1,2,3", help: "score these token ids instead of a text (no bits per byte)"),
        OptionSpec(name: "reference", value: "MODEL", help: "compare with this model"),
        OptionSpec(name: "ctx", value: "N", help: "window length in tokens (default 512)"),
        OptionSpec(name: "max-kld", value: "X", help: "fail when mean KL(reference ‖ model) exceeds X nats"),
        OptionSpec(name: "min-top1", value: "X", help: "fail when the same-top-1 fraction is below X"),
        OptionSpec(name: "skip-weight-scan", value: nil, help: "do not scan the weights for NaN/Inf/all-zero"),
        OptionSpec(name: "memory", value: "SIZE", help: "keep converted Float32 weights up to SIZE per model (default 8GiB)"),
        OptionSpec(name: "json", value: nil, help: "machine-readable output")
    ]

    /// One pass/fail check.
    struct Check { let name: String; let passed: Bool; let detail: String }

    static func run(_ args: Arguments) throws -> Int32 {
        let dir = try args.positionals(["MODEL"])[0]
        let ctx = try args.int("ctx") ?? 512
        guard ctx >= 2 else { throw UsageError("--ctx must be at least 2") }
        let maxKLD = try double(args, "max-kld"), minTop1 = try double(args, "min-top1")
        if (maxKLD != nil || minTop1 != nil) && args.value("reference") == nil {
            throw UsageError("--max-kld and --min-top1 need --reference")
        }
        if args.value("text") != nil && args.value("ids") != nil { throw UsageError("give either --text or --ids, not both") }
        let budget = try args.value("memory").map { s throws(UsageError) in s == "0" ? 0 : try Arguments.byteSize(s, option: "memory") } ?? ModelWeights.defaultResidentBudget
        let model = try Transformer(directory: dir, residentBudget: budget)
        var checks: [Check] = []
        var json = JSONObject()
        json["model"] = .string(dir)
        json["architecture"] = .string(model.config.architectures.first ?? model.config.family.rawValue)

        // The tokens to score and the reference come first: every check that reads no tensor data
        // (files, tokenizers, vocabularies) runs before the weight scan.
        let text: String?
        var textSource = "ids"
        if let path = args.value("text") {
            guard let bytes = WholeFile.bytes(path) else { throw CommandFailure("--text: cannot read \(path)") }
            guard let s = String(validating: bytes, as: UTF8.self) else { throw CommandFailure("--text: \(path) is not valid UTF-8") }
            text = s
            textSource = path
        } else if args.value("ids") == nil {
            text = VerificationText.default
            textSource = "bundled text (English and Russian)"
        } else {
            text = nil
        }
        let ids: [Int]
        if let text {
            ids = TextInput.encodePrompt(text, tokenizer: try TextInput.tokenizer(for: dir), addSpecialTokens: true)
        } else {
            ids = try RunCommand.parseIds(args.value("ids") ?? "", option: "ids")
        }
        var reference: Transformer?
        var referenceIds: [Int]?
        if let refDir = args.value("reference") {
            let r = try Transformer(directory: refDir, residentBudget: budget)
            reference = r
            if let text {
                referenceIds = TextInput.encodePrompt(text, tokenizer: try TextInput.tokenizer(for: refDir), addSpecialTokens: true)
            } else {
                guard r.config.vocabSize == model.config.vocabSize else {
                    throw ModelError.incomparable(reason: "--ids with models of different vocabularies (\(model.config.vocabSize) vs \(r.config.vocabSize)); score a text instead")
                }
                referenceIds = ids
            }
        }
        // 1. Weights.
        if !args.flag("skip-weight-scan") {
            let progress = Progress("scanning weights")
            let w = try WeightCheck.scan(model.weights.checkpoint, progress: progress.update)
            progress.finish()
            let detail =
                w.isHealthy
                ? "\(w.tensors) tensors, \(Format.count(w.elements)) values, max |w| \(Format.fixed(Double(w.maxAbs), 4))"
                : w.findings.map { "\($0.tensor): " + ($0.nonFinite > 0 ? "\($0.nonFinite) NaN/Inf" : "all zero") }.joined(separator: "; ")
            checks.append(Check(name: "weights finite and non-zero", passed: w.isHealthy, detail: detail))
            json["weights"] = .object(
                JSONObject([
                    ("tensors", num(w.tensors)), ("values", num(w.elements)), ("max_abs", num(Double(w.maxAbs))),
                    ("findings", .array(w.findings.map { .object(JSONObject([("tensor", .string($0.tensor)), ("non_finite", num($0.nonFinite)), ("all_zero", .bool($0.allZero))])) }))
                ]))
        }

        let textBytes = text?.utf8.count
        json["input"] = .object(JSONObject([("source", .string(textSource)), ("tokens", num(ids.count)), ("bytes", textBytes.map(num) ?? .null), ("context", num(ctx))]))

        // 3. Likelihood (and, with a same-vocabulary reference, agreement on the same windows).
        let sameVocabulary = reference.map { $0.config.vocabSize == model.config.vocabSize && referenceIds == ids } ?? false
        var agreement = Agreement()
        var nonFinite = 0
        let V = model.config.vocabSize
        let started = Terminal.now()
        let nll = try model.likelihood(of: ids, context: ctx) { (window: ArraySlice<Int>, logits: [Float]) throws(ModelError) in
            for v in logits where !v.isFinite { nonFinite += 1 }
            if sameVocabulary, let r = reference {
                let refLogits = try r.forward(Array(window), cache: r.makeCache(capacity: window.count))
                agreement.add(reference: refLogits, candidate: logits, ids: window, vocabSize: V)
            }
        }
        let seconds = Terminal.now() - started
        checks.append(Check(name: "logits finite", passed: nonFinite == 0, detail: nonFinite == 0 ? "\(nll.tokens + nll.windows) positions × \(V)" : "\(nonFinite) non-finite logits"))
        let bpb = textBytes.map { nll.bitsPerByte(textBytes: $0) }
        json["likelihood"] = likelihoodJSON(nll, bpb)

        var lines = [
            "model:       \(dir) (\(model.config.architectures.first ?? model.config.family.rawValue), \(model.config.numHiddenLayers) layers, vocab \(V))",
            "input:       \(textSource): \(ids.count) tokens" + (textBytes.map { ", \($0) bytes" } ?? "") + ", \(nll.windows) window(s) of ≤ \(ctx)",
            "likelihood:  NLL \(Format.fixed(nll.meanNLL, 4)) nats/token, perplexity \(Format.fixed(nll.perplexity, 3))" + (bpb.map { ", \(Format.fixed($0, 4)) bits/byte" } ?? "")
        ]

        // 4. Reference.
        if let r = reference, let rIds = referenceIds, let refDir = args.value("reference") {
            var refJSON = JSONObject()
            refJSON["model"] = .string(refDir)
            refJSON["same_vocabulary"] = .bool(sameVocabulary)
            if sameVocabulary {
                let s = agreement.statistics
                let refNLL = try r.likelihood(of: rIds, context: ctx)
                refJSON["likelihood"] = likelihoodJSON(refNLL, textBytes.map { refNLL.bitsPerByte(textBytes: $0) })
                refJSON["agreement"] = .object(
                    JSONObject([
                        ("positions", num(s.positions)), ("kl_mean", num(s.klMean)), ("kl_median", num(s.klMedian)),
                        ("kl_p99", num(s.klP99)), ("kl_max", num(s.klMax)), ("same_top1", num(s.sameTop1)),
                        ("delta_p_mean", num(s.deltaPMean)), ("delta_p_rms", num(s.deltaPRMS)), ("ln_ppl_ratio", num(s.lnPPLRatio))
                    ]))
                lines.append(
                    "reference:   \(refDir): NLL \(Format.fixed(refNLL.meanNLL, 4)), perplexity \(Format.fixed(refNLL.perplexity, 3))"
                        + (textBytes.map { ", \(Format.fixed(refNLL.bitsPerByte(textBytes: $0), 4)) bits/byte" } ?? ""))
                lines.append("agreement:   KL mean \(sci(s.klMean)), median \(sci(s.klMedian)), p99 \(sci(s.klP99)), max \(sci(s.klMax)) nats over \(s.positions) positions")
                lines.append("             same top-1 \(Format.fixed(100 * s.sameTop1, 2))%, Δp mean \(sci(s.deltaPMean)), RMS \(sci(s.deltaPRMS)), ln(PPL/PPL_ref) \(sci(s.lnPPLRatio))")
                if let m = maxKLD { checks.append(Check(name: "mean KL ≤ \(m)", passed: s.klMean <= m, detail: sci(s.klMean))) }
                if let m = minTop1 { checks.append(Check(name: "same top-1 ≥ \(m)", passed: s.sameTop1 >= m, detail: Format.fixed(s.sameTop1, 4))) }
            } else {
                let refNLL = try r.likelihood(of: rIds, context: ctx)
                let refBPB = textBytes.map { refNLL.bitsPerByte(textBytes: $0) }
                refJSON["likelihood"] = likelihoodJSON(refNLL, refBPB)
                lines.append("reference:   \(refDir): \(difference(referenceVocab: r.config.vocabSize, vocab: V, referenceIds: rIds, ids: ids)): only bits per byte is comparable")
                refJSON["difference"] = .string(difference(referenceVocab: r.config.vocabSize, vocab: V, referenceIds: rIds, ids: ids))
                lines.append(
                    "             reference \(refBPB.map { Format.fixed($0, 4) } ?? "n/a") bits/byte vs model \(bpb.map { Format.fixed($0, 4) } ?? "n/a") (\(rIds.count) vs \(ids.count) tokens)")
                if maxKLD != nil || minTop1 != nil {
                    checks.append(Check(name: "agreement thresholds", passed: false, detail: "KL and top-1 need the same vocabulary and tokens; the models differ"))
                }
            }
            json["reference"] = .object(refJSON)
        }
        json["seconds"] = num(seconds)
        json["checks"] = .array(checks.map { .object(JSONObject([("name", .string($0.name)), ("passed", .bool($0.passed)), ("detail", .string($0.detail))])) })
        let passed = checks.allSatisfy(\.passed)
        json["passed"] = .bool(passed)
        if args.flag("json") {
            Terminal.out(JSONWriter.pretty(.object(json)))
        } else {
            for c in checks { lines.append("check:       [\(c.passed ? "ok" : "FAIL")] \(c.name): \(c.detail)") }
            lines.append(passed ? "verdict:     all checks passed" : "verdict:     FAILED")
            Terminal.out(lines.joined(separator: "\n"))
        }
        return passed ? 0 : 1
    }

    /// What makes a reference incomparable token by token: the vocabulary sizes, or where the same text
    /// first tokenizes differently.
    static func difference(referenceVocab: Int, vocab: Int, referenceIds: [Int], ids: [Int]) -> String {
        if referenceVocab != vocab { return "different vocabulary sizes (reference vocab_size \(referenceVocab), model \(vocab))" }
        let k = zip(referenceIds, ids).prefix { $0 == $1 }.count
        if k == min(referenceIds.count, ids.count) {
            return "same vocab_size \(vocab), but the text is \(referenceIds.count) tokens for the reference and \(ids.count) for the model"
        }
        return
            "same vocab_size \(vocab), but the tokenizers split the text differently (first at token \(k): id \(referenceIds[k]) in the reference, \(ids[k]) in the model; \(referenceIds.count) vs \(ids.count) tokens)"
    }

    static func likelihoodJSON(_ l: Likelihood, _ bpb: Double?) -> JSONValue {
        .object(
            JSONObject([
                ("tokens_scored", num(l.tokens)), ("windows", num(l.windows)), ("nll_per_token", num(l.meanNLL)),
                ("perplexity", num(l.perplexity)), ("bits_per_byte", bpb.map(num) ?? .null)
            ]))
    }

    static func num(_ i: Int) -> JSONValue { .number(JSONNumber(i)) }
    static func num(_ d: Double) -> JSONValue { d.isFinite ? .number(JSONNumber(d)) : .null }

    static func double(_ args: Arguments, _ name: String) throws(UsageError) -> Double? {
        guard let v = args.value(name) else { return nil }
        guard let d = Double(v), d.isFinite else { throw UsageError("--\(name) expects a number, got '\(v)'") }
        return d
    }

    /// A compact scientific rendering (e.g. 1.234e-05).
    static func sci(_ v: Double) -> String {
        guard v.isFinite, v != 0 else { return v == 0 ? "0" : "\(v)" }
        var e = 0
        var m = abs(v)
        while m >= 10 { m /= 10; e += 1 }
        while m < 1 { m *= 10; e -= 1 }
        if e >= -2 && e <= 3 { return Format.fixed(v, 4) }
        return (v < 0 ? "-" : "") + Format.fixed(m, 3) + "e" + (e < 0 ? "-" : "+") + (abs(e) < 10 ? "0" : "") + String(abs(e))
    }
}
