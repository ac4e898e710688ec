#if canImport(Glibc)
import Glibc
#endif
import ChatTemplates
import LEPJSON
import Models
import Support
import Tokenizers

/// `lep run`: greedy continuation of a prompt, or a chat turn through the model's template.
enum RunCommand: Command {
    static let name = "run"
    static let summary = "greedy continuation of a prompt (text or token ids), or a chat with the model's template"
    static let usage =
        "MODEL (--prompt TEXT | --ids 1,2,3 | --chat [TEXT] [--system TEXT]) [--chat-template FILE | --chat-template-name NAME] [--no-special] [--max-tokens N] [--stats] [--memory SIZE] [--json]"
    static let details = """
        Runs the Float32 reference forward pass on the CPU (OpenBLAS; LEP_THREADS sets the thread
        count). Weights are read from the mapped checkpoint and converted per layer. Generation is
        greedy and stops at an eos_token_id of generation_config.json (or config.json) or after
        --max-tokens. With --prompt the model's tokenizer encodes the text (special tokens added unless --no-special;
        never a second BOS when the text starts with the BOS token's text) and
        decodes the output; with --ids the new ids are printed.
        With --chat TEXT the message (after --system TEXT, if given) is rendered with the model's
        chat template (chat_template.jinja or tokenizer_config.json's chat_template; a named one with
        --chat-template-name) and a generation prompt, encoded without added special tokens, and the
        reply is generated until an end-of-turn/eos id (also the tokenizer's eos token) and printed
        as it is produced: the same ids as transformers' apply_chat_template + generate. --chat without
        TEXT starts a conversation, one user message per line of standard input (an empty line or the
        end of input ends it); the KV cache is kept between turns. --json prints the ids, text and timings as one JSON object instead.
        """
    static let options = [
        OptionSpec(name: "prompt", value: "TEXT", help: "prompt text (needs the model's tokenizer)"),
        OptionSpec(name: "ids", value: "1,2,3", help: "prompt token ids, comma-separated"),
        OptionSpec(name: "chat", value: nil, help: "chat: the next argument is the user message; none on a terminal starts a conversation"),
        OptionSpec(name: "system", value: "TEXT", help: "system message for --chat"),
        OptionSpec(name: "chat-template", value: "FILE", help: "Jinja chat template to use instead of the model's"),
        OptionSpec(name: "chat-template-name", value: "NAME", help: "the model's template of this name (e.g. tool_use) instead of its default"),
        OptionSpec(name: "max-tokens", value: "N", help: "maximum new tokens (default 64; 512 per chat turn)"),
        OptionSpec(name: "no-special", value: nil, help: "--prompt: add no BOS/EOS (as lep tokenize --no-special)"),
        OptionSpec(name: "stats", value: nil, help: "print prefill and decode throughput to stderr"),
        OptionSpec(name: "json", value: nil, help: "print prompt ids, new ids, text and timings as JSON"),
        OptionSpec(
            name: "memory", value: "SIZE",
            help: "keep converted Float32 weights up to SIZE for the prompt passes (default 0: each pass converts one layer at a time into a reused buffer; decoding reads the weights in place)")
    ]

    static func run(_ args: Arguments) throws -> Int32 {
        let chat = args.flag("chat")
        let positional = chat ? (args.positionals.count <= 2 ? args.positionals : try args.positionals(["MODEL", "TEXT"])) : try args.positionals(["MODEL"])
        guard let dir = positional.first else { throw UsageError("missing MODEL") }
        if !chat {
            for o in ["system", "chat-template", "chat-template-name"] where args.value(o) != nil { throw UsageError("--\(o) needs --chat") }
        }
        let defaultMax = chat ? 512 : 64
        let maxTokens = try args.int("max-tokens") ?? defaultMax
        guard maxTokens >= 1 else { throw UsageError("--max-tokens must be at least 1") }
        // Default 0: decoding reads the mapped weights in place, so kept Float32 copies would serve only
        // the prompt passes, and converting one layer at a time into a reused buffer costs less than
        // touching a model's worth of fresh memory once.
        let budget = try args.value("memory").map { s throws(UsageError) in s == "0" ? 0 : try Arguments.byteSize(s, option: "memory") } ?? 0
        if chat {
            guard args.value("prompt") == nil, args.value("ids") == nil else { throw UsageError("--chat takes the message as its argument; drop --prompt/--ids") }
            let model = try Transformer(directory: dir, residentBudget: budget)
            let session = try ChatSession(directory: dir, model: model, templateFile: args.value("chat-template"), templateName: args.value("chat-template-name"))
            var messages: [ChatMessage] = args.value("system").map { [.system($0)] } ?? []
            if positional.count == 2 {
                messages.append(.user(positional[1]))
                let turn = try session.reply(to: messages, maxTokens: maxTokens, stream: !args.flag("json"))
                if args.flag("json") { Terminal.out(JSONWriter.compact(turn.json)) } else { Terminal.write(1, "\n") }
                if args.flag("stats") { turn.printStats() }
                return 0
            }
            // No message argument: a conversation, one user message per line of standard input (a
            // prompt is shown on a terminal); an empty line or the end of input ends it.
            let terminal = isatty(0) == 1
            if terminal { Terminal.err("chatting with \(dir) (template: \(session.templateSource)); an empty line ends the conversation") }
            var turns = 0
            while true {
                if terminal { Terminal.write(1, "> ") }
                guard let line = readLine(strippingNewline: true), !line.isEmpty else { break }
                messages.append(.user(line))
                let turn = try session.reply(to: messages, maxTokens: maxTokens, stream: !args.flag("json"))
                if args.flag("json") { Terminal.out(JSONWriter.compact(turn.json)) } else { Terminal.write(1, "\n") }
                if args.flag("stats") { turn.printStats() }
                messages.append(.assistant(turn.text ?? ""))
                turns += 1
            }
            if turns == 0 && !terminal { throw UsageError("--chat needs a message: an argument, or lines on standard input") }
            return 0
        }

        var tokenizer: (any Tokenizer)?
        let prompt: [Int]
        switch (args.value("prompt"), args.value("ids")) {
        case (nil, let ids?):
            guard !args.flag("no-special") else { throw UsageError("--no-special applies to --prompt TEXT (ids are used as given)") }
            prompt = try parseIds(ids, option: "ids")
        case (let text?, nil):
            let t = try TextInput.tokenizer(for: dir)
            tokenizer = t
            prompt = TextInput.encodePrompt(text, tokenizer: t, addSpecialTokens: !args.flag("no-special"))
        case (nil, nil): throw UsageError("give --prompt TEXT, --ids 1,2,3 or --chat TEXT")
        default: throw UsageError("give either --prompt or --ids, not both")
        }
        let model = try Transformer(directory: dir, residentBudget: budget)
        let stops = try Transformer.stopIds(directory: dir, config: model.config)
        let json = args.flag("json")
        let start = Terminal.now()
        var firstTokenAt = start
        var produced: [Int] = []
        var printer = StreamPrinter(tokenizer: tokenizer, skipSpecial: false, enabled: !json)
        let out = try model.greedy(prompt: prompt, maxNewTokens: maxTokens, stopIds: stops) { id in
            if produced.isEmpty { firstTokenAt = Terminal.now() }
            produced.append(id)
            if tokenizer == nil, !json { Terminal.write(1, (produced.count > 1 ? " " : "") + String(id)) } else { printer.update(produced) }
        }
        printer.finish(out)
        let turn = Turn(
            promptIds: prompt, ids: out, text: tokenizer.map { $0.decode(out, skipSpecialTokens: false) }, stopped: out.last.map(stops.contains) == true,
            prefillSeconds: firstTokenAt - start, decodeSeconds: Terminal.now() - firstTokenAt, cachedTokens: 0)
        if json { Terminal.out(JSONWriter.compact(turn.json)) } else { Terminal.write(1, "\n") }
        if args.flag("stats") { turn.printStats() }
        return 0
    }

    /// Parses `1,2,3` (spaces allowed).
    static func parseIds(_ text: String, option: String) throws(UsageError) -> [Int] {
        var ids: [Int] = []
        for part in text.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\n" }) {
            guard let i = Int(part), i >= 0 else { throw UsageError("--\(option): '\(part)' is not a token id") }
            ids.append(i)
        }
        guard !ids.isEmpty else { throw UsageError("--\(option) is empty") }
        return ids
    }
}

/// One generation: what went in, what came out, how long it took.
struct Turn {
    var promptIds: [Int]
    var ids: [Int]
    var text: String?
    var stopped: Bool
    var prefillSeconds: Double
    var decodeSeconds: Double
    /// Prompt tokens already in the KV cache from earlier turns (not recomputed).
    var cachedTokens: Int

    var json: JSONValue {
        func ints(_ a: [Int]) -> JSONValue { .array(a.map { .number(JSONNumber($0)) }) }
        var o = JSONObject([("prompt_ids", ints(promptIds)), ("ids", ints(ids))])
        o["text"] = text.map(JSONValue.string) ?? .null
        o["stopped_at_eos"] = .bool(stopped)
        o["timings"] = .object(
            JSONObject([
                ("prefill_tokens", .number(JSONNumber(promptIds.count - cachedTokens))), ("cached_tokens", .number(JSONNumber(cachedTokens))),
                ("prefill_seconds", .number(JSONNumber(prefillSeconds))), ("decode_tokens", .number(JSONNumber(max(0, ids.count - 1)))),
                ("decode_seconds", .number(JSONNumber(decodeSeconds)))
            ]))
        return .object(o)
    }

    func printStats() {
        let n = promptIds.count - cachedTokens, d = max(0, ids.count - 1)
        Terminal.err(
            "prefill: \(n) tokens in \(Format.fixed(prefillSeconds, 3)) s (\(Format.fixed(Double(n) / max(prefillSeconds, 1e-9), 1)) tokens/s)"
                + (cachedTokens > 0 ? ", \(cachedTokens) reused from the cache" : ""))
        Terminal.err("decode: \(d) tokens in \(Format.fixed(decodeSeconds, 3)) s (\(d > 0 ? Format.fixed(Double(d) / max(decodeSeconds, 1e-9), 2) : "n/a") tokens/s)")
        if stopped, let last = ids.last { Terminal.err("stopped at eos id \(last)") }
    }
}

/// Prints decoded text as tokens arrive (multi-byte characters can span tokens).
struct StreamPrinter {
    let tokenizer: (any Tokenizer)?
    let skipSpecial: Bool
    let enabled: Bool
    var printed = ""

    mutating func update(_ ids: [Int]) {
        guard enabled, let t = tokenizer else { return }
        let text = t.decode(ids, skipSpecialTokens: skipSpecial)
        if text.hasPrefix(printed), !text.hasSuffix("\u{FFFD}") {
            Terminal.write(1, String(text.dropFirst(printed.count)))
            printed = text
        }
    }

    mutating func finish(_ ids: [Int]) {
        guard enabled, let t = tokenizer else { return }
        let text = t.decode(ids, skipSpecialTokens: skipSpecial)
        if text.hasPrefix(printed) { Terminal.write(1, String(text.dropFirst(printed.count))) }
        printed = text
    }
}

/// A chat with one model: its template, tokens and a KV cache kept across turns.
final class ChatSession {
    let model: Transformer
    let tokenizer: any Tokenizer
    let template: ChatTemplate
    let templateSource: String
    let bosToken: String, eosToken: String
    let stopIds: Set<Int>
    private var cache: KVCache?
    private var cachedIds: [Int] = []

    init(directory dir: String, model: Transformer, templateFile: String?, templateName: String?) throws {
        self.model = model
        tokenizer = try TextInput.tokenizer(for: dir)
        let config = try TokenizerConfig.load(directory: dir)
        bosToken = config.token("bos_token") ?? tokenizer.specialTokens.bos?.token ?? ""
        eosToken = config.token("eos_token") ?? tokenizer.specialTokens.eos?.token ?? ""
        if let f = templateFile {
            guard templateName == nil else { throw UsageError("give either --chat-template or --chat-template-name, not both") }
            guard let bytes = WholeFile.bytes(f), let text = String(validating: bytes, as: UTF8.self) else { throw CommandFailure("--chat-template \(f): cannot read the file as UTF-8 text") }
            template = try ChatTemplate(source: text, name: f)
            templateSource = f
        } else {
            guard let set = try ChatTemplateSet.load(directory: dir) else {
                throw UsageError("\(dir) has no chat template (no chat_template.jinja, no chat_template in tokenizer_config.json); pass --chat-template FILE")
            }
            let t = try set.template(named: templateName)
            templateSource = set.storage.rawValue + (t.name == "default" ? "" : " '\(t.name)'")
            template = try ChatTemplate(source: t.source, name: dir + "/" + templateSource)
        }
        var stops = try Transformer.stopIds(directory: dir, config: model.config)
        if let e = tokenizer.specialTokens.eos?.id { stops.insert(e) }
        if let e = tokenizer.id(for: eosToken) { stops.insert(e) }
        stopIds = stops
    }

    /// Renders `messages` with a generation prompt, generates the reply greedily (reusing the cached
    /// prefix of earlier turns) and streams its text when `stream`.
    func reply(to messages: [ChatMessage], maxTokens: Int, stream: Bool) throws -> Turn {
        let text = try template.render(messages, options: ChatRenderOptions(addGenerationPrompt: true, bosToken: bosToken, eosToken: eosToken))
        let prompt = tokenizer.encode(text, addSpecialTokens: false)
        guard !prompt.isEmpty else { throw CommandFailure("the chat template rendered an empty prompt") }
        let limit = model.config.maxPositionEmbeddings
        guard prompt.count + 1 <= limit else {
            throw CommandFailure("the conversation is \(prompt.count) tokens, beyond the model's \(limit) positions; start a new one")
        }
        // Reuse the longest cached prefix (at least one prompt token is always recomputed for logits).
        var shared = 0
        while shared < min(cachedIds.count, prompt.count - 1), cachedIds[shared] == prompt[shared] { shared += 1 }
        let needed = prompt.count + maxTokens
        if cache == nil || cache!.capacity < needed {
            let c = model.makeCache(capacity: min(limit, max(needed, 2 * needed, 4096)))
            cache = c
            shared = 0
        }
        guard let cache else { return Turn(promptIds: prompt, ids: [], text: "", stopped: false, prefillSeconds: 0, decodeSeconds: 0, cachedTokens: 0) }
        cache.truncate(to: shared)
        cachedIds = Array(prompt[..<shared])
        let start = Terminal.now()
        var logits = try model.forward(Array(prompt[shared...]), cache: cache, logits: .last)
        cachedIds = prompt
        let firstAt = Terminal.now()
        var out: [Int] = []
        var printer = StreamPrinter(tokenizer: tokenizer, skipSpecial: true, enabled: stream)
        var stopped = false
        while true {
            let next = Transformer.argmax(logits)
            out.append(next)
            printer.update(out)
            if stopIds.contains(next) { stopped = true; break }
            if out.count == maxTokens || cache.count + 1 > cache.capacity { break }
            logits = try model.forward([next], cache: cache, logits: .last)
            cachedIds.append(next)
        }
        printer.finish(out)
        let reply = tokenizer.decode(out, skipSpecialTokens: true)
        return Turn(
            promptIds: prompt, ids: out, text: reply, stopped: stopped, prefillSeconds: firstAt - start,
            decodeSeconds: Terminal.now() - firstAt, cachedTokens: shared)
    }
}

/// Loading a model's tokenizer for text input, with an error that says what to do instead.
enum TextInput {
    struct NoTokenizer: Error, CustomStringConvertible {
        let directory: String
        let reason: String
        var description: String {
            "text input needs the model's tokenizer, which could not be loaded from \(directory): \(reason); pass token ids with --ids instead"
        }
    }

    /// Encodes a prompt: special tokens added unless `addSpecialTokens` is false, but never a second BOS
    /// to a text that starts with the BOS text (a warning says so), as transformers' chat path does.
    static func encodePrompt(_ text: String, tokenizer: any Tokenizer, addSpecialTokens: Bool) -> [Int] {
        let (ids, skipped) = tokenizer.encodePrompt(text, addSpecialTokens: addSpecialTokens)
        if skipped, let bos = tokenizer.specialTokens.bos {
            Terminal.err("warning: the text already starts with the BOS token \(bos.token); no second BOS added (--no-special adds no special tokens at all)")
        }
        return ids
    }

    static func tokenizer(for directory: String) throws -> any Tokenizer {
        do { return try loadTokenizer(directory: directory) } catch {
            throw NoTokenizer(directory: directory, reason: error.description)
        }
    }
}
