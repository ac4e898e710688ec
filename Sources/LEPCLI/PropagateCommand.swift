import Merging
#if canImport(Glibc)
import Glibc
#endif
import LEPJSON
import Models
import Pipelines
import Propagation
import Recipes
import SafeTensors
import Support
import Surgery
import Vocabulary

/// `lep propagate`: learned embedding propagation (Documentation/Propagation.md §5-§7) of a donor's embeddings into an instruct model.
enum PropagateCommand: Command {
    static let name = "propagate"
    static let summary = "propagate a donor's learned embeddings into an instruct model (LEP)"
    static let usage =
        "--base B --instruct I --donor D [--donor-base INIT --alpha-scale S] -o OUT [--mode MODE] [--delta-shared exact] [--chat-template FILE] [--compat reference] [--fit-precision mixed|float64] [--occurrence-map FILE] [--shard-size SIZE] [--save-fit FILE] [--skip-layer-check] [--force] [--verbose] [--json]"
    static let details = """
        Fits X (h×h) by least squares so that base rows · X ≈ instruct rows (row pairs chosen by
        --mode), then writes the instruct model with embed_tokens/lm_head = donor rows · X, the donor's
        tokenizer plus the instruct tokenizer's extra added tokens, ids in config.json and
        generation_config.json remapped by token string, and lep_propagation.json (inputs, solver,
        residuals). Modes: swap (X = I), overlap, conversion (default), conversion-sum,
        conversion-occurrence, full, delta. Nothing is written when a check fails.
        LoRA donors (Documentation/Propagation.md §7): --donor ADAPTER_DIR (PEFT adapter_config.json + adapter_model.safetensors)
        with --donor-base INIT_DIR, the initialised base it was trained on (lep vocab init's output; it
        provides the donor tokenizer and config). Its embed_tokens/lm_head part (embedding LoRA,
        lm_head LoRA, modules_to_save) is merged into INIT_DIR's rows to give the donor rows; its other
        deltas are added to the instruct layers, scaled by 1/S with --alpha-scale S.
        --compat reference reproduces the authors' code (RefalMachine/ruadapt ushanka, Documentation/Propagation.md §10) bit for
        bit in swap, overlap (its "union"), conversion, conversion-sum, conversion-occurrence and full
        ("bypass"); checked on fixtures made by running that code unchanged (h = 16: every element; at
        h = 1024, 99.98 %: the row pairs, the solve and X agree exactly, but torch's CPU bf16 matmul sums
        D·X in blocks that oneDNN picks per shape and CPU, lep's float32 GEMM in another order, so about
        2 in 10,000 elements end one or more bf16 steps apart). The old tokenizer is the
        instruct one; each new token's raw piece is re-encoded as "家" + piece, its sub-token rows
        averaged/summed in the checkpoint dtype; row pairs are solved densely in float64 by LAPACK dgelsy
        (as torch.linalg.lstsq gelsy; A and B are held in memory, n·h·16 bytes), X is rounded to the
        checkpoint dtype and D·X rounded once. Where the reference depends on more than the weights, lep
        uses the rule that gives its bits for LLaMA-3 and Mistral: "▁" becomes a space before re-encoding
        when the old tokenizer is byte-level (the reference: when its path contains "llama"); in overlap,
        of several old tokens that decode to the same text the highest id is paired (the reference keeps
        the last in get_vocab() order, which is random per call, so its own output varies between runs);
        output added tokens that the instruct tokenizer encodes as one id take that row, and the others
        get the mean of the output rows (the reference leaves them at random initial values).
        delta has no reference counterpart and is refused with --compat reference.
        --fit-precision mixed (default) accumulates the normal equations AᵀA, AᵀB from float32 block
        products (OpenBLAS ssyrk/sgemm on blocks of rows rounded to float32) summed in float64, with the
        diagonal of AᵀA summed in float64, and solves in float64: about twice as fast as float64. Three
        blocks are also computed in float64; their rounding errors give an estimate of X's error, and when
        it predicts more than 0.005 % of the output elements off by over one step of the output dtype,
        the module is fitted again in float64 (reported as float64_refit_reason). On the fixtures and
        the synthetic checks, ≥ 99.99 % of output elements equal the float64 fit's to one bf16 step.
        --fit-precision float64 accumulates in float64 (dsyrk/dgemm), the earlier behaviour, bit for bit.
        delta and --compat reference always fit in float64.
        """
    static let options = [
        OptionSpec(name: "base", value: "DIR", help: "base model (the donor was trained from it)"),
        OptionSpec(name: "instruct", value: "DIR", help: "instruct model fine-tuned from the base"),
        OptionSpec(name: "donor", value: "DIR", help: "base with the new tokenizer and trained embeddings, or a PEFT LoRA adapter"),
        OptionSpec(name: "donor-base", value: "DIR", help: "LoRA donors: the initialised base the adapter was trained on"),
        OptionSpec(name: "output", value: "OUT", help: "output directory (-o OUT)"),
        OptionSpec(name: "mode", value: "MODE", help: PropagationMode.allCases.map(\.rawValue).joined(separator: " | ") + " (default conversion)"),
        OptionSpec(name: "delta-shared", value: "exact", help: "delta: tokens in both vocabularies take T[j] − S[j]"),
        OptionSpec(name: "chat-template", value: "FILE", help: "chat template replacing the instruct one"),
        OptionSpec(name: "compat", value: "reference", help: "reproduce the authors' reference code bit for bit (see below)"),
        OptionSpec(name: "fit-precision", value: "mixed|float64", help: "normal equations from float32 block products (checked; default) or float64"),
        OptionSpec(name: "occurrence-map", value: "FILE", help: "JSON {new_id: {old_id: count}} for conversion-occurrence"),
        OptionSpec(name: "alpha-scale", value: "S", help: "LoRA donors: scale the layer deltas by 1/S"),
        OptionSpec(name: "shard-size", value: "SIZE", help: "maximum shard size (default 5GB); 0 = one file"),
        OptionSpec(name: "save-fit", value: "FILE", help: "benchmarks: also write X and the row pairs to FILE (safetensors)"),
        OptionSpec(name: "skip-layer-check", value: nil, help: "do not compare the donor's layers with the base's"),
        OptionSpec(name: "force", value: nil, help: "replace OUT if it exists"),
        OptionSpec(name: "verbose", value: nil, help: "list every appended token"),
        OptionSpec(name: "json", value: nil, help: "print the result (lep_propagation.json plus output and seconds) as JSON")
    ]

    static func run(_ args: Arguments) throws -> Int32 {
        guard args.value("base") != nil, args.value("instruct") != nil, args.value("donor") != nil else {
            throw UsageError("--base, --instruct and --donor are required")
        }
        guard let output = args.value("output") else { throw UsageError("-o OUT (or --output OUT) is required") }
        guard args.positionals.isEmpty else { throw UsageError("unexpected arguments: \(args.positionals.joined(separator: " "))") }
        // One parser for the command line and pipeline steps; its refusals are worded as the flag typed.
        let values = SharedOptions.values(args, valueKeys: Propagator.Options.valueKeys, flagKeys: Propagator.Options.flagKeys)
        let o = try SharedOptions.parsed(inputFileKeys: ["chat_template"]) { () throws(SurgeryError) in
            try Propagator.Options(parsing: values, toolVersion: LEPTool.version)
        }
        let start = Terminal.now()
        let stage = StageLog("propagate")
        let r = try Propagator.run(o) { s, f in stage.enter(s, fraction: f) }
        stage.finish()
        let seconds = Terminal.now() - start
        for w in r.warnings { Terminal.err("warning: \(w)") }
        if args.flag("json") {
            // The provenance file is the full result; the summary adds where it went and how long it took.
            var root = (WholeFile.bytes(output + "/" + OutputAssembly.provenanceName).flatMap { try? JSONParser.parse($0) }?.object) ?? JSONObject()
            root["appended_tokens"] = .array(
                r.appended.map {
                    .object(JSONObject([("token", .string($0.token.content)), ("instruct_id", .number(JSONNumber($0.instructId))), ("output_id", .number(JSONNumber($0.outputId)))]))
                })
            root["output"] = .string(output)
            root["seconds"] = .number(JSONNumber(seconds))
            Terminal.out(JSONWriter.pretty(.object(root)))
            return 0
        }
        Terminal.out("mode \(r.mode.rawValue): \(r.pairs) row pairs; output vocabulary \(r.outputRows) (donor \(r.donorRows) + \(r.extras.count) instruct tokens)")
        for m in r.modules {
            if let s = m.solution {
                let fb = s.fallbackReason.map { " (fallback: \($0))" } ?? ""
                let prec = " [\(s.precision.rawValue)" + (m.float64Refit.map { "; refitted: \($0)" } ?? "") + "]"
                Terminal.out(
                    "  \(m.tensor): \(s.method.rawValue)\(fb)\(prec), rcond \(s.rcond), relative residual \(s.relativeResidual), ‖X − I‖/‖I‖ \(s.distanceFromIdentity), \(Format.fixed(m.seconds, 2)) s"
                )
            } else {
                Terminal.out("  \(m.tensor): X = I")
            }
        }
        if !r.loraEmbeddingTensors.isEmpty || !r.loraLayerTensors.isEmpty {
            Terminal.out(
                "  LoRA donor: merged into the donor rows: \(r.loraEmbeddingTensors.joined(separator: ", ")); \(r.loraLayerTensors.count) layer deltas added to instruct"
                    + (o.alphaScale.map { " (× 1/\($0))" } ?? ""))
        }
        if !r.appended.isEmpty {
            Terminal.out(
                "  appended \(r.appended.count) instruct added token\(r.appended.count == 1 ? "" : "s") the donor lacks: output ids \(idRangesText(r.appended.map(\.outputId))) (instruct ids \(idRangesText(r.appended.map(\.instructId))))"
                    + (args.flag("verbose") ? "" : "; --verbose or --json lists them"))
            if args.flag("verbose") {
                for e in r.appended { Terminal.out("    \(e.outputId) ← instruct \(e.instructId) \(e.token.content)") }
            }
        }
        if !r.remapped.isEmpty { Terminal.out("  remapped: " + r.remapped.joined(separator: "; ")) }
        if !r.meanFilledRows.isEmpty { Terminal.out("  \(r.meanFilledRows.count) rows filled with the mean row: \(r.meanFilledRows.prefix(10).map(String.init).joined(separator: ", "))") }
        Terminal.out("wrote \(output) in \(Format.fixed(seconds, 2)) s")
        return 0
    }
}

/// Prints each new stage of a long run once on stderr ("[propagate] fitting ..."), then, while the stage
/// reports its fraction, the percent done and the ETA (a rewritten line on a terminal, a line every few
/// seconds otherwise; not under `LEP_QUIET`). Stage lines are printed even then: they say what ran.
final class StageLog: @unchecked Sendable {
    private let tag: String
    private var last = ""
    private var stageStart = 0.0
    private var lastPrint = 0.0
    private var midLine = false
    private let quiet = getenv("LEP_QUIET") != nil

    init(_ tag: String) { self.tag = tag }

    func enter(_ s: String, fraction: Double = 0) {
        let t = Terminal.now()
        let tty = Terminal.stderrIsTerminal
        guard s == last else {
            finish()
            last = s
            stageStart = t
            lastPrint = t
            Terminal.err("[\(tag)] \(s)")
            return
        }
        guard !quiet, fraction > 0, fraction <= 1, t - stageStart >= 1, t - lastPrint >= (tty ? 0.2 : 5) || fraction == 1 else { return }
        lastPrint = t
        let eta = (t - stageStart) * (1 - fraction) / fraction
        let line = "[\(tag)] \(s): \(Format.fixed(100 * fraction, 1))%, ETA \(Format.fixed(eta, 0)) s"
        if tty { Terminal.write(2, "\r\u{1B}[K" + line); midLine = true } else { Terminal.err(line) }
    }

    /// Ends a rewritten progress line.
    func finish() {
        if midLine { Terminal.write(2, "\n"); midLine = false }
    }
}
