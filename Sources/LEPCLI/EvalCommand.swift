#if canImport(Glibc)
import Glibc
#endif
import ChatTemplates
import Evaluation
import LEPJSON
import Models
import SafeTensors
import Support

/// `lep eval`: the compact evaluator (Documentation/Evaluation.md): several models side by side, three reports.
enum EvalCommand: Command {
    static let name = "eval"
    static let summary = "evaluate models side by side (likelihood, copy, multiple choice, tokenizer, chat format, agreement; paired comparisons) and write JSON/Markdown/SVG reports"
    static let usage =
        "MODEL [MODEL...] -o DIR [--tasks LIST] [--data DIR] [--chat-template FILE | --chat-format NAME | --chat-template-name NAME] [--max-items N] [--copy-items N] [--chat-prompts N] [--seed S] [--bootstrap N] [--ctx N] [--summary-json FILE] [--memory SIZE] [--force] [--json]"
    static let details = """
        Runs each model (Float32 forward pass, greedy decoding) on the bundled English and Russian data,
        or on --data DIR (<lang>/text.txt, <lang>/copy_text.txt, <lang>/copy.jsonl,
        <lang>/mc_single_token.jsonl, <lang>/mc_continuation.jsonl; every file optional). Tasks
        (--tasks, comma-separated; default likelihood,copy,mc_single,mc_continuation,tokenizer,
        chat_format; `all` adds agreement):
          likelihood       NLL/token, perplexity, bits per byte; rolling windows of --ctx tokens
                           (default min(1024, max_position_embeddings)) overlapping by one token
          agreement        KL(first model ‖ model) mean/median/p99/max, same top-1, Δp, ln PPL ratio;
                           refused when vocabularies differ
          copy             repeat a sentence/paragraph through the chat template: len, copy99, symbols/token;
                           items generated from copy_text.txt (else text.txt when there is no
                           copy.jsonl): sentences of 20-120 characters and runs of 2-3 sentences of
                           at most 240 characters, in a SplitMix64 order from --seed; --copy-items N
                           keeps the first N per language and kind (bundled: 126 sentences and 189
                           paragraphs per language)
          mc_single        llmtf style: log-prob of each choice's first token after the answer prefix
          mc_continuation  lm-eval style: Σ log p(" " + choice): acc, acc_norm
          tokenizer        characters per token, tokens per word
          chat_format      fraction of replies (--chat-prompts per language, default 12: copy,
                           first word, continue) that end the turn within 64 tokens
        Chat tasks use the model's chat template (chat_template.jinja, or tokenizer_config.json's
        chat_template; --chat-template-name picks a named one) unless --chat-template or
        --chat-format (llama3, mistral, chatml, openchat) is given; with several models, one without
        a chat template skips the chat tasks. Every model after the first is compared with the first
        on the same items: mean difference, standard error and a 95 % paired bootstrap interval
        (--bootstrap resamples, default 2000, SplitMix64 seeded with --seed) with a verdict.
        Writes DIR/report.json, report.md and report.svg (byte-identical across runs), optionally a
        flat per-model summary (--summary-json FILE), and prints the Markdown report; progress and
        timings go to stderr.
        """
    static let options = [
        OptionSpec(name: "output", value: "DIR", help: "folder for report.json, report.md, report.svg (-o)"),
        OptionSpec(name: "tasks", value: "LIST", help: "comma-separated tasks (default: all but agreement; `all` for every task)"),
        OptionSpec(name: "data", value: "DIR", help: "task data folder instead of the bundled data"),
        OptionSpec(name: "chat-template", value: "FILE", help: "Jinja chat template for every model"),
        OptionSpec(name: "chat-format", value: "NAME", help: "built-in chat format: llama3|mistral|chatml|openchat"),
        OptionSpec(name: "chat-template-name", value: "NAME", help: "use the model's template of this name (e.g. tool_use) instead of its default"),
        OptionSpec(name: "max-items", value: "N", help: "at most N items per task file"),
        OptionSpec(name: "copy-items", value: "N", help: "at most N copy items per language and kind (default: --max-items, else all)"),
        OptionSpec(name: "chat-prompts", value: "N", help: "chat-format prompts per language (default 12)"),
        OptionSpec(name: "seed", value: "S", help: "seed of the copy-item order and the bootstrap (default 20261204)"),
        OptionSpec(name: "bootstrap", value: "N", help: "bootstrap resamples of the paired comparisons (default 2000)"),
        OptionSpec(name: "summary-json", value: "FILE", help: "also write a flat per-model summary (lep-eval-summary/1)"),
        OptionSpec(name: "ctx", value: "N", help: "likelihood window length in tokens"),
        OptionSpec(name: "memory", value: "SIZE", help: "keep converted Float32 weights up to SIZE per model (default 8GiB)"),
        OptionSpec(name: "force", value: nil, help: "write into an existing non-empty -o folder (its report.* files are replaced)"),
        OptionSpec(name: "json", value: nil, help: "print report.json instead of the Markdown table")
    ]

    static func run(_ args: Arguments) throws -> Int32 {
        let models = args.positionals
        guard !models.isEmpty else { throw UsageError("missing MODEL") }
        guard let out = args.value("output") else { throw UsageError("missing -o DIR (the report folder)") }
        var options = SuiteOptions()
        options.tool = "lep \(LEPTool.version)"
        // Unknown task or chat format names are usage errors (exit 64).
        if let t = args.value("tasks") {
            do { options.tasks = try TaskKind.parseList(t) } catch { throw UsageError("--tasks: \(error)") }
        }
        switch (args.value("chat-template"), args.value("chat-format")) {
        case (let f?, nil): options.chat = .file(f)
        case (nil, let n?):
            do { options.chat = .format(try ChatFormat.named(n)) } catch { throw UsageError("--chat-format: \(error)") }
        case (nil, nil): if let n = args.value("chat-template-name") { options.chat = .named(n) }
        default: throw UsageError("give either --chat-template or --chat-format, not both")
        }
        if args.value("chat-template-name") != nil, args.value("chat-template") != nil || args.value("chat-format") != nil {
            throw UsageError("--chat-template-name picks one of the model's own templates; it cannot be combined with --chat-template or --chat-format")
        }
        if let n = try args.int("max-items") {
            guard n >= 1 else { throw UsageError("--max-items must be at least 1") }
            options.maxItems = n
        }
        if let n = try args.int("copy-items") {
            guard n >= 1 else { throw UsageError("--copy-items must be at least 1") }
            options.copyItems = n
        }
        if let n = try args.int("chat-prompts") {
            guard n >= 1 else { throw UsageError("--chat-prompts must be at least 1") }
            options.chatPrompts = n
        }
        if let s = args.value("seed") {
            guard let v = UInt64(s) else { throw UsageError("--seed must be a non-negative integer, got '\(s)'") }
            options.seed = v
        }
        if let n = try args.int("bootstrap") {
            guard n >= 1 else { throw UsageError("--bootstrap must be at least 1") }
            options.bootstrapResamples = n
        }
        if let c = try args.int("ctx") {
            guard c >= 2 else { throw UsageError("--ctx must be at least 2") }
            options.context = c
        }
        if let m = args.value("memory") { options.residentBudget = m == "0" ? 0 : try Arguments.byteSize(m, option: "memory") }
        let data = try args.value("data").map { d throws(EvaluationError) in try SuiteData.directory(d) } ?? SuiteData.bundled()
        try checkReportFolder(out, inputs: models + (args.value("data").map { [$0] } ?? []), force: args.flag("force"))

        let quiet = getenv("LEP_QUIET") != nil
        let (report, timings) = try EvaluationSuite.run(models: models, data: data, options: options) { line in
            if !quiet { Terminal.err(line) }
        }
        try ReportWriter.write(report, to: out)
        if let summary = args.value("summary-json") {
            try EvaluationSummary.write(report, languages: data.languages.map(\.language), to: summary)
        }
        if args.flag("json") {
            // The summary is report.json itself, plus where the three files went.
            var root = (try? JSONParser.parse(ReportWriter.json(report)).object) ?? JSONObject()
            root["written"] = .array(["report.json", "report.md", "report.svg"].map { .string(out + "/" + $0) })
            Terminal.out(JSONWriter.pretty(.object(root)))
        } else {
            Terminal.out(ReportWriter.markdown(report))
        }
        if !quiet {
            let share = timings.totalSeconds > 0 ? 100 * timings.forwardSeconds / timings.totalSeconds : 0
            Terminal.err("wrote \(out)/report.json, report.md, report.svg" + (args.value("summary-json").map { ", " + $0 } ?? ""))
            Terminal.err("time: \(Format.fixed(timings.totalSeconds, 2)) s total, \(Format.fixed(timings.forwardSeconds, 2)) s in the forward pass (\(Format.fixed(share, 1))%)")
            for (task, s) in timings.taskSeconds { Terminal.err("  \(task): \(Format.fixed(s, 2)) s") }
        }
        return 0
    }

    /// The report folder must not be, contain or sit inside an input (a model or --data), and an
    /// existing non-empty folder is replaced only with --force (only its report.* files are rewritten).
    static func checkReportFolder(_ out: String, inputs: [String], force: Bool) throws {
        try AtomicOutputDirectory.check(target: out, force: true, inputs: inputs)
        guard PathUtilities.exists(out) else { return }
        guard PathUtilities.isDirectory(out) else { throw CommandFailure("-o \(out) exists and is not a folder") }
        let present = PathUtilities.listDirectory(out).filter { $0 != "." && $0 != ".." }
        if !present.isEmpty && !force {
            throw CommandFailure(
                "-o \(out) exists and is not empty (\(present.count) entr\(present.count == 1 ? "y" : "ies"), e.g. \(present.sorted()[0])); use --force to write the reports into it, or choose a new folder"
            )
        }
    }
}
