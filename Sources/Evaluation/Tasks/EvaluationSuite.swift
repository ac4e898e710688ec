import ChatTemplates
import LEPJSON
import Models
import SafeTensors
import Support

/// The task families `lep eval --tasks` selects.
public enum TaskKind: String, CaseIterable, Sendable {
    /// `likelihood`: bits per byte, NLL and perplexity of each language's text (``LikelihoodTask``);
    /// `agreement`: KL and same top-1 against the first model on that text (``AgreementTask``);
    /// `copy`: repeating sentences and paragraphs through the chat template (``CopyTask``).
    case likelihood, agreement, copy
    /// Multiple choice, llmtf style: the next-token log-probability of each choice (``MultipleChoiceTask``).
    case mcSingle = "mc_single"
    /// Multiple choice, lm-eval style: the log-likelihood of each choice as a continuation.
    case mcContinuation = "mc_continuation"
    /// Characters per token and tokens per word of the text, no model run (``TokenizerEfficiencyTask``).
    case tokenizer
    /// Whether replies end their turn in the chat format (``ChatFormatTask``).
    case chatFormat = "chat_format"

    /// The default suite: everything but agreement (which needs two models with one vocabulary).
    public static let defaults: [TaskKind] = [.likelihood, .copy, .mcSingle, .mcContinuation, .tokenizer, .chatFormat]

    /// Whether the task needs a chat template.
    public var needsChatTemplate: Bool { self == .copy || self == .mcSingle || self == .chatFormat }

    /// Parses `likelihood,copy,...` (`all` = every kind), keeping the canonical order.
    public static func parseList(_ text: String) throws(EvaluationError) -> [TaskKind] {
        var chosen = Set<TaskKind>()
        for part in text.split(separator: ",") {
            let name = String(part).trimmingASCIIWhitespace()
            if name == "all" { chosen.formUnion(allCases); continue }
            guard let k = TaskKind(rawValue: name) else {
                throw .task(name: name, message: "unknown task; choose from " + (allCases.map(\.rawValue) + ["all"]).joined(separator: ", "))
            }
            chosen.insert(k)
        }
        guard !chosen.isEmpty else { throw .task(name: "(none)", message: "no task selected") }
        return allCases.filter(chosen.contains)
    }
}

/// The data of one language: a text, copy items, a copy text and multiple-choice items (each optional).
public struct LanguageData: Sendable {
    /// The language code: the sub-folder's name ("en", "ru", ...).
    public var language: String
    /// The likelihood text (`text.txt`).
    public var text: String?
    /// Copy items given explicitly (`copy.jsonl`).
    public var copy: [CopyItem] = []
    /// The text copy items are generated from (`copy_text.txt`), see ``CopyItemGenerator``.
    public var copyText: String?
    /// Multiple-choice items scored llmtf style (`mc_single_token.jsonl`).
    public var mcSingle: [MultipleChoiceItem] = []
    /// Multiple-choice items scored lm-eval style (`mc_continuation.jsonl`).
    public var mcContinuation: [MultipleChoiceItem] = []
    /// File → SHA-256 of its bytes, for the report's settings.
    public var fileHashes: [(String, String)] = []

    /// The text copy items and chat prompts are generated from: `copy_text.txt`, or `text.txt` when
    /// the language has neither `copy_text.txt` nor `copy.jsonl`.
    public var generationText: String? { copyText ?? (copy.isEmpty ? text : nil) }

    /// Copy items of one kind: the explicit items (file order), then the generated ones (seeded order).
    public func copyItems(_ kind: CopyKind, seed: UInt64) -> [CopyItem] {
        var out = copy.filter { $0.kind == kind }
        if let t = generationText {
            let g = CopyItemGenerator.items(text: t, language: language, seed: seed)
            let ids = Set(out.map(\.id))
            out += (kind == .sentence ? g.sentences : g.paragraphs).filter { !ids.contains($0.id) }
        }
        return out
    }

    /// Chat-format prompts (``CopyItemGenerator/chatPrompts(text:language:seed:count:)``); none without a text.
    public func chatPrompts(seed: UInt64, count: Int) -> [ChatPromptItem] {
        guard let t = generationText ?? text else { return [] }
        return CopyItemGenerator.chatPrompts(text: t, language: language, seed: seed, count: count)
    }
}

/// Task data: the bundled files, or a `--data DIR` with the same layout
/// (`<lang>/text.txt`, `<lang>/copy_text.txt`, `<lang>/copy.jsonl`, `<lang>/mc_single_token.jsonl`,
/// `<lang>/mc_continuation.jsonl`, every file optional, languages = the sub-folders in name order).
/// Copy items are generated from `copy_text.txt` (or from `text.txt` when there is neither
/// `copy_text.txt` nor `copy.jsonl`) by ``CopyItemGenerator``.
public struct SuiteData: Sendable {
    /// "bundled" or the data folder as given.
    public var source: String
    /// Languages with at least one task file, in folder-name order.
    public var languages: [LanguageData]

    /// The bundled English and Russian data.
    public static func bundled() throws(EvaluationError) -> SuiteData {
        var langs: [LanguageData] = []
        for lang in BundledData.languages {
            try langs.append(
                load(lang) { (name: String) throws(EvaluationError) -> (String, String)? in
                    BundledData.file(lang + "/" + name).map { ("bundled:" + lang + "/" + name, $0) }
                })
        }
        return SuiteData(source: "bundled", languages: langs)
    }

    /// Data from a folder.
    public static func directory(_ dir: String) throws(EvaluationError) -> SuiteData {
        guard PathUtilities.isDirectory(dir) else { throw .taskFile(path: dir, line: 0, message: "not a folder (expected <lang>/text.txt, <lang>/copy_text.txt, <lang>/copy.jsonl, ...)") }
        var langs: [LanguageData] = []
        for lang in PathUtilities.listDirectory(dir).sorted() where !lang.hasPrefix(".") && PathUtilities.isDirectory(dir + "/" + lang) {
            let d = try load(lang) { (name: String) throws(EvaluationError) -> (String, String)? in
                let path = dir + "/" + lang + "/" + name
                return PathUtilities.exists(path) ? (path, try TaskData.readText(path: path)) : nil
            }
            if d.text != nil || d.copyText != nil || !d.copy.isEmpty || !d.mcSingle.isEmpty || !d.mcContinuation.isEmpty { langs.append(d) }
        }
        guard !langs.isEmpty else {
            throw .taskFile(
                path: dir, line: 0, message: "no task files (expected <lang>/text.txt, <lang>/copy_text.txt, <lang>/copy.jsonl, <lang>/mc_single_token.jsonl, <lang>/mc_continuation.jsonl)")
        }
        return SuiteData(source: dir, languages: langs)
    }

    static func load(_ lang: String, _ read: (String) throws(EvaluationError) -> (String, String)?) throws(EvaluationError) -> LanguageData {
        var d = LanguageData(language: lang)
        func note(_ path: String, _ text: String) { d.fileHashes.append((path, "sha256:" + SHA256.hex(Array(text.utf8)))) }
        if let (p, t) = try read("text.txt") { d.text = t; note(p, t) }
        if let (p, t) = try read("copy_text.txt") { d.copyText = t; note(p, t) }
        if let (p, t) = try read("copy.jsonl") { d.copy = try TaskData.parseCopyItems(t, path: p); note(p, t) }
        if let (p, t) = try read("mc_single_token.jsonl") { d.mcSingle = try TaskData.parseMultipleChoice(t, path: p); note(p, t) }
        if let (p, t) = try read("mc_continuation.jsonl") { d.mcContinuation = try TaskData.parseMultipleChoice(t, path: p); note(p, t) }
        return d
    }
}

/// Options of a suite run (`lep eval`).
public struct SuiteOptions: Sendable {
    /// The tasks to run (default ``TaskKind/defaults``: all but agreement).
    public var tasks: [TaskKind] = TaskKind.defaults
    /// Window length for likelihood/agreement; nil = min(1024, max_position_embeddings).
    public var context: Int?
    /// At most this many items per task file (nil = all).
    public var maxItems: Int?
    /// At most this many items per copy task (language × sentence/paragraph); nil = `maxItems`.
    public var copyItems: Int?
    /// Chat-format prompts per language.
    public var chatPrompts = 12
    /// Seed of the copy-item and chat-prompt order and of the bootstrap.
    public var seed: UInt64 = 20_261_204
    /// Bootstrap resamples of the paired comparisons.
    public var bootstrapResamples = 2000
    /// Where each model's chat template comes from (the same choice for every model).
    public var chat: ChatTemplateChoice = .fromTokenizerConfig
    /// Bytes of converted Float32 weights kept in memory per model (``ModelWeights/defaultResidentBudget``).
    public var residentBudget: Int = ModelWeights.defaultResidentBudget
    /// The tool string written into the report.
    public var tool: String = "lep"
    /// The defaults: ``TaskKind/defaults``, every item, 12 chat prompts per language, seed 20261204,
    /// 2000 resamples, each model's own chat template.
    public init() {}
}

/// Wall times of a run (never written into the report).
public struct SuiteTimings: Sendable {
    /// Seconds of the whole run, loading included.
    public var totalSeconds = 0.0
    /// Seconds inside the forward pass (prefill, decoding, scoring), all models.
    public var forwardSeconds = 0.0
    /// Per task name, all models.
    public var taskSeconds: [(String, Double)] = []
}

/// Runs the selected tasks on several models and builds the side-by-side report.
public enum EvaluationSuite {
    /// Default window length cap.
    public static let defaultContext = 1024

    /// Display names from paths: the last path component, made unique with `-2`, `-3`, ...
    public static func modelNames(_ paths: [String]) -> [String] {
        var used = Set<String>(), out: [String] = []
        for p in paths {
            var trimmed = p
            while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
            let base = trimmed.split(separator: "/").last.map(String.init) ?? trimmed
            var name = base.isEmpty ? "model" : base, k = 2
            while used.contains(name) { name = base + "-\(k)"; k += 1 }
            used.insert(name)
            out.append(name)
        }
        return out
    }

    /// Runs the suite. `progress` receives one line per step (for stderr).
    public static func run(
        models paths: [String], data: SuiteData, options: SuiteOptions,
        progress: (String) -> Void = { _ in }
    ) throws(EvaluationError) -> (report: EvaluationReport, timings: SuiteTimings) {
        guard !paths.isEmpty else { throw .report("no models to evaluate") }
        let started = Clock.now()
        var timings = SuiteTimings()
        var taskTime: [String: Double] = [:], taskOrder: [String] = []
        func timed<T>(_ task: String, _ body: () throws(EvaluationError) -> T) throws(EvaluationError) -> T {
            let t0 = Clock.now()
            defer {
                if taskTime[task] == nil { taskOrder.append(task) }
                taskTime[task, default: 0] += Clock.now() - t0
            }
            return try body()
        }
        let names = modelNames(paths)
        var reportModels: [ReportModel] = []
        var entries: [ReportEntry] = []
        let tasks = Set(options.tasks)
        if tasks.contains(.agreement) && paths.count < 2 {
            throw .task(name: "agreement", message: "needs at least two models (the first is the reference)")
        }
        if let m = options.maxItems, m < 1 { throw .task(name: "(all)", message: "the item limit (max items) must be at least 1") }
        if let m = options.copyItems, m < 1 { throw .task(name: "copy", message: "the copy item limit (copy items) must be at least 1") }
        func cap<T>(_ xs: [T]) -> [T] { options.maxItems.map { Array(xs.prefix($0)) } ?? xs }
        func capCopy(_ xs: [CopyItem]) -> [CopyItem] { (options.copyItems ?? options.maxItems).map { Array(xs.prefix($0)) } ?? xs }
        var skippedChat: [String] = []

        var reference: EvaluatedModel?
        var referenceOwnSeconds = 0.0
        for (index, path) in paths.enumerated() {
            let name = names[index]
            progress("[\(index + 1)/\(paths.count)] \(name): opening \(path)")
            let model = try EvaluatedModel(name: name, path: path, chat: options.chat, residentBudget: options.residentBudget)
            let cfg = model.transformer.config
            let ctx = min(options.context ?? defaultContext, cfg.maxPositionEmbeddings)
            // A model without a chat template skips the chat tasks when other models run them.
            let chatTasks = options.tasks.filter(\.needsChatTemplate)
            let skipChat = model.chatTemplate == nil && !chatTasks.isEmpty && paths.count > 1
            if skipChat {
                skippedChat.append(name)
                progress("  \(name): no chat template; skipping \(chatTasks.map(\.rawValue).joined(separator: ", "))")
            }
            reportModels.append(
                ReportModel(
                    name: name, path: path, headerHash: model.headerHash,
                    details: [
                        ("architecture", cfg.architectures.first ?? cfg.family.rawValue), ("vocab_size", String(cfg.vocabSize)),
                        ("parameters", String(cfg.parameterCount)), ("context", String(ctx)),
                        ("chat_template", model.chatTemplateSource + (skipChat ? " (chat tasks skipped)" : ""))
                    ]))
            var chatOutcomes: [(String, ChatFormatTask.Outcome)] = []
            for lang in data.languages {
                if tasks.contains(.likelihood), let text = lang.text {
                    let task = "text_\(lang.language)"
                    progress("  \(name): \(task) (likelihood, windows of \(ctx))")
                    let r = try timed(task) { () throws(EvaluationError) in try LikelihoodTask.run(model, text: text, context: ctx, task: task) }
                    entries += LikelihoodTask.entries(r, model: name, task: task)
                }
                if tasks.contains(.agreement), let text = lang.text, let ref = reference {
                    let task = "agreement_\(lang.language)"
                    progress("  \(name): \(task) (reference \(ref.name))")
                    let refCtx = min(options.context ?? defaultContext, ref.transformer.config.maxPositionEmbeddings, ctx)
                    let s = try timed(task) { () throws(EvaluationError) in try AgreementTask.run(reference: ref, candidate: model, text: text, context: refCtx, task: task) }
                    entries += AgreementTask.entries(s, model: name, task: task)
                }
                if tasks.contains(.copy) && !skipChat {
                    var all: [(String, CopyTask.Outcome)] = []
                    for kind in CopyKind.allCases {
                        let items = capCopy(lang.copyItems(kind, seed: options.seed))
                        guard !items.isEmpty else { continue }
                        let task = "copy_\(lang.language)_\(kind.rawValue)"
                        var outcomes: [CopyTask.Outcome] = []
                        for (i, item) in items.enumerated() {
                            progress("  \(name): \(task) \(i + 1)/\(items.count)")
                            outcomes.append(try timed(task) { () throws(EvaluationError) in try CopyTask.run(model, item: item, task: task) })
                        }
                        entries += try CopyTask.entries(outcomes, ids: items.map(\.id), kind: kind, model: name, task: task)
                        all += zip(items.map(\.id), outcomes).map { ($0, $1) }
                    }
                    if !all.isEmpty {
                        entries += try CopyTask.entries(all.map(\.1), ids: all.map(\.0), kind: nil, model: name, task: "copy_\(lang.language)")
                    }
                }
                if tasks.contains(.chatFormat) && !skipChat {
                    let items = lang.chatPrompts(seed: options.seed, count: options.chatPrompts)
                    if !items.isEmpty {
                        let task = "chat_format_\(lang.language)"
                        progress("  \(name): \(task) (\(items.count) prompts)")
                        let outcomes = try timed(task) { () throws(EvaluationError) in
                            var o: [ChatFormatTask.Outcome] = []
                            for item in items { o.append(try ChatFormatTask.run(model, item: item, task: task)) }
                            return o
                        }
                        entries.append(
                            try ReportEntry.mean(
                                model: name, task: task, metric: "ends_turn", ids: items.map(\.id),
                                scores: outcomes.map(\.endsTurn), isMain: true))
                        chatOutcomes += zip(items.map(\.id), outcomes).map { ($0, $1) }
                    }
                }
                if tasks.contains(.mcSingle), !lang.mcSingle.isEmpty, !skipChat {
                    let task = "mc_single_\(lang.language)"
                    progress("  \(name): \(task) (\(cap(lang.mcSingle).count) items)")
                    let outcomes = try timed(task) { () throws(EvaluationError) in
                        var o: [MultipleChoiceTask.Outcome] = []
                        for item in cap(lang.mcSingle) { o.append(try MultipleChoiceTask.runSingleToken(model, item: item, task: task)) }
                        return o
                    }
                    entries += try MultipleChoiceTask.entries(outcomes, ids: cap(lang.mcSingle).map(\.id), model: name, task: task)
                }
                if tasks.contains(.mcContinuation), !lang.mcContinuation.isEmpty {
                    let task = "mc_cont_\(lang.language)"
                    progress("  \(name): \(task) (\(cap(lang.mcContinuation).count) items)")
                    let outcomes = try timed(task) { () throws(EvaluationError) in
                        var o: [MultipleChoiceTask.Outcome] = []
                        for item in cap(lang.mcContinuation) { o.append(try MultipleChoiceTask.runContinuation(model, item: item, task: task)) }
                        return o
                    }
                    entries += try MultipleChoiceTask.entries(outcomes, ids: cap(lang.mcContinuation).map(\.id), model: name, task: task)
                }
                if tasks.contains(.tokenizer), let text = lang.text {
                    let task = "tokenizer_\(lang.language)"
                    let r = TokenizerEfficiencyTask.run(model.tokenizer, text: text)
                    entries += TokenizerEfficiencyTask.entries(r, model: name, task: task)
                }
            }
            if !chatOutcomes.isEmpty {
                entries.append(
                    try ReportEntry.mean(
                        model: name, task: "chat_format", metric: "ends_turn", ids: chatOutcomes.map(\.0),
                        scores: chatOutcomes.map(\.1.endsTurn)))
            }
            timings.forwardSeconds += model.forwardSeconds
            if index == 0 && tasks.contains(.agreement) { reference = model; referenceOwnSeconds = model.forwardSeconds }
        }
        // The reference's passes during the other models' agreement tasks.
        if let ref = reference { timings.forwardSeconds += ref.forwardSeconds - referenceOwnSeconds }
        timings.taskSeconds = taskOrder.map { ($0, taskTime[$0] ?? 0) }
        guard !entries.isEmpty else { throw .report("no results: the selected tasks found no data or no model could run them") }
        let comparisons = try PairedComparison.againstFirst(models: names, entries: entries, resamples: options.bootstrapResamples, seed: options.seed)
        var s = settings(data: data, options: options)
        if !skippedChat.isEmpty { s["chat_tasks_skipped"] = .array(skippedChat.map { .string($0) }) }
        let report = try EvaluationReport(tool: options.tool, models: reportModels, settings: s, entries: entries, comparisons: comparisons)
        timings.totalSeconds = Clock.now() - started
        return (report, timings)
    }

    /// The run settings recorded in the report.
    static func settings(data: SuiteData, options: SuiteOptions) -> JSONObject {
        var s = JSONObject()
        s["tasks"] = .array(options.tasks.map { .string($0.rawValue) })
        s["data"] = .string(data.source)
        s["files"] = .object(JSONObject(data.languages.flatMap { $0.fileHashes.map { ($0.0, JSONValue.string($0.1)) } }))
        s["context"] = options.context.map { .number(JSONNumber($0)) } ?? .string("min(\(defaultContext), max_position_embeddings)")
        s["windows"] = .string("rolling: windows of the context length overlapping by one token, context restarted per window, every token after BOS scored once")
        s["max_items"] = options.maxItems.map { .number(JSONNumber($0)) } ?? .null
        s["copy_items"] = (options.copyItems ?? options.maxItems).map { .number(JSONNumber($0)) } ?? .null
        s["copy_generation"] = .string(
            "CopyItemGenerator: sentences of \(CopyItemGenerator.minSentenceCharacters)-\(CopyItemGenerator.maxSentenceCharacters) characters; paragraphs = runs of \(CopyItemGenerator.paragraphSentences.map(String.init).joined(separator: " or ")) consecutive sentences of at most \(CopyItemGenerator.maxParagraphCharacters) characters; SplitMix64 Fisher-Yates order"
        )
        s["chat_prompts_per_language"] = .number(JSONNumber(options.chatPrompts))
        s["seed"] = .number(JSONNumber(options.seed))
        s["bootstrap"] = .string("paired, \(options.bootstrapResamples) resamples, SplitMix64 seeded with seed, 95 % percentile interval, against the first model")
        let chat: String
        switch options.chat {
        case .fromTokenizerConfig: chat = "model (chat_template.jinja or tokenizer_config.json)"
        case .named(let n): chat = "model's template '\(n)'"
        case .format(let f): chat = "built-in " + f.rawValue
        case .file(let p): chat = p
        }
        s["chat_template"] = .string(chat)
        s["decoding"] = .string("greedy; copy budget ceil(1.5*S)+8 new tokens; chat format budget \(ChatFormatTask.maxNewTokens) new tokens")
        s["agreement_reference"] = options.tasks.contains(.agreement) ? .string("first model") : .null
        return s
    }
}
