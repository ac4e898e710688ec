import Evaluation
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

    static func run(_ args: Arguments) throws -> Int32 {
        let dir = try args.positionals(["MODEL"])[0]
        var o = ModelVerification.Options()
        o.context = try args.int("ctx") ?? 512
        guard o.context >= 2 else { throw UsageError("--ctx must be at least 2") }
        o.maxKLD = try double(args, "max-kld")
        o.minTop1 = try double(args, "min-top1")
        o.reference = args.value("reference")
        if (o.maxKLD != nil || o.minTop1 != nil) && o.reference == nil { throw UsageError("--max-kld and --min-top1 need --reference") }
        if args.value("text") != nil && args.value("ids") != nil { throw UsageError("give either --text or --ids, not both") }
        o.residentBudget = try args.value("memory").map { s throws(UsageError) in s == "0" ? 0 : try Arguments.byteSize(s, option: "memory") } ?? ModelWeights.defaultResidentBudget
        if let path = args.value("text") {
            guard let bytes = WholeFile.bytes(path) else { throw CommandFailure("--text: cannot read \(path)") }
            guard let s = String(validating: bytes, as: UTF8.self) else { throw CommandFailure("--text: \(path) is not valid UTF-8") }
            o.input = .text(s, source: path)
        } else if let ids = args.value("ids") {
            o.input = .ids(try RunCommand.parseIds(ids, option: "ids"))
        }
        o.scanWeights = !args.flag("skip-weight-scan")
        let scan = o.scanWeights ? Progress("scanning weights") : nil
        let report = try ModelVerification.run(
            model: dir, options: o, warn: { Terminal.err("warning: \($0) (--no-special adds no special tokens at all)") },
            scanProgress: { done, total in scan?.update(done, total) }, clock: Terminal.now)
        scan?.finish()
        if args.flag("json") {
            Terminal.out(JSONWriter.pretty(.object(json(report))))
        } else {
            Terminal.out(lines(report).joined(separator: "\n"))
        }
        return report.passed ? 0 : 1
    }

    /// The report as `--json` prints it.
    static func json(_ r: ModelVerification.Report) -> JSONObject {
        var json = JSONObject()
        json["model"] = .string(r.model)
        json["architecture"] = .string(r.config.architectures.first ?? r.config.family.rawValue)
        if let w = r.weights {
            json["weights"] = .object(
                JSONObject([
                    ("tensors", num(w.tensors)), ("values", num(w.elements)), ("max_abs", num(Double(w.maxAbs))),
                    ("findings", .array(w.findings.map { .object(JSONObject([("tensor", .string($0.tensor)), ("non_finite", num($0.nonFinite)), ("all_zero", .bool($0.allZero))])) }))
                ]))
        }
        json["input"] = .object(JSONObject([("source", .string(r.inputSource)), ("tokens", num(r.tokens)), ("bytes", r.textBytes.map(num) ?? .null), ("context", num(r.context))]))
        json["likelihood"] = likelihoodJSON(r.likelihood, r.bitsPerByte)
        if let ref = r.reference {
            var refJSON = JSONObject()
            refJSON["model"] = .string(ref.model)
            refJSON["same_vocabulary"] = .bool(ref.sameVocabulary)
            refJSON["likelihood"] = likelihoodJSON(ref.likelihood, ref.bitsPerByte)
            if let s = ref.agreement {
                refJSON["agreement"] = .object(
                    JSONObject([
                        ("positions", num(s.positions)), ("kl_mean", num(s.klMean)), ("kl_median", num(s.klMedian)),
                        ("kl_p99", num(s.klP99)), ("kl_max", num(s.klMax)), ("same_top1", num(s.sameTop1)),
                        ("delta_p_mean", num(s.deltaPMean)), ("delta_p_rms", num(s.deltaPRMS)), ("ln_ppl_ratio", num(s.lnPPLRatio))
                    ]))
            }
            if let d = ref.difference { refJSON["difference"] = .string(d) }
            json["reference"] = .object(refJSON)
        }
        json["seconds"] = num(r.seconds)
        json["checks"] = .array(r.checks.map { .object(JSONObject([("name", .string($0.name)), ("passed", .bool($0.passed)), ("detail", .string($0.detail))])) })
        json["passed"] = .bool(r.passed)
        return json
    }

    /// The report as the terminal shows it.
    static func lines(_ r: ModelVerification.Report) -> [String] {
        let c = r.config, sci = ModelVerification.scientific
        var lines = [
            "model:       \(r.model) (\(c.architectures.first ?? c.family.rawValue), \(c.numHiddenLayers) layers, vocab \(c.vocabSize))",
            "input:       \(r.inputSource): \(r.tokens) tokens" + (r.textBytes.map { ", \($0) bytes" } ?? "") + ", \(r.likelihood.windows) window(s) of ≤ \(r.context)",
            "likelihood:  NLL \(Format.fixed(r.likelihood.meanNLL, 4)) nats/token, perplexity \(Format.fixed(r.likelihood.perplexity, 3))"
                + (r.bitsPerByte.map { ", \(Format.fixed($0, 4)) bits/byte" } ?? "")
        ]
        if let ref = r.reference {
            if let s = ref.agreement {
                lines.append(
                    "reference:   \(ref.model): NLL \(Format.fixed(ref.likelihood.meanNLL, 4)), perplexity \(Format.fixed(ref.likelihood.perplexity, 3))"
                        + (ref.bitsPerByte.map { ", \(Format.fixed($0, 4)) bits/byte" } ?? ""))
                lines.append("agreement:   KL mean \(sci(s.klMean)), median \(sci(s.klMedian)), p99 \(sci(s.klP99)), max \(sci(s.klMax)) nats over \(s.positions) positions")
                lines.append("             same top-1 \(Format.fixed(100 * s.sameTop1, 2))%, Δp mean \(sci(s.deltaPMean)), RMS \(sci(s.deltaPRMS)), ln(PPL/PPL_ref) \(sci(s.lnPPLRatio))")
            } else {
                lines.append("reference:   \(ref.model): \(ref.difference ?? ""): only bits per byte is comparable")
                lines.append(
                    "             reference \(ref.bitsPerByte.map { Format.fixed($0, 4) } ?? "n/a") bits/byte vs model \(r.bitsPerByte.map { Format.fixed($0, 4) } ?? "n/a") (\(ref.tokens) vs \(r.tokens) tokens)"
                )
            }
        }
        for c in r.checks { lines.append("check:       [\(c.passed ? "ok" : "FAIL")] \(c.name): \(c.detail)") }
        lines.append(r.passed ? "verdict:     all checks passed" : "verdict:     FAILED")
        return lines
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
}
