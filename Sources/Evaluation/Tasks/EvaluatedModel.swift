#if canImport(Glibc)
import Glibc
#endif
import ChatTemplates
import Models
import SafeTensors
import Support
import TensorMath
import Tokenizers

/// Where a model's chat template comes from (`--chat-template FILE` > `--chat-format NAME` >
/// the model's own: `chat_template.jinja`, `tokenizer_config.json`'s `chat_template`, ...).
public enum ChatTemplateChoice: Equatable, Sendable {
    /// The model's own default template, wherever transformers keeps it (none: chat tasks refuse to run).
    case fromTokenizerConfig
    /// The model's own template of this name (`tool_use`, ...).
    case named(String)
    /// A built-in format.
    case format(ChatFormat)
    /// A Jinja file given by the user.
    case file(String)
}

/// One model under evaluation: the forward pass, its tokenizer, its chat template and stop ids.
///
/// All model calls go through ``forward(_:cache:logits:)`` and ``greedy(prompt:maxNewTokens:)``,
/// which add their wall time to ``forwardSeconds`` (the benchmark's "share in the forward pass").
public final class EvaluatedModel {
    /// Display name (report column).
    public let name: String
    /// The model folder as given.
    public let path: String
    /// The Float32 forward pass over the model's weights.
    public let transformer: Transformer
    /// The model's own tokenizer (``Tokenizers/loadTokenizer(directory:)``).
    public let tokenizer: any Tokenizer
    /// The chat template and its render options (nil when the model has none and none was chosen).
    public let chatTemplate: ChatTemplate?
    /// Where the chat template came from, for the report ("tokenizer_config.json", "built-in llama3", a file).
    public let chatTemplateSource: String
    /// bos/eos strings handed to the template.
    public let bosToken: String, eosToken: String
    /// Ids that end a generation: generation_config.json's eos ids, the tokenizer's eos and the
    /// template's end-of-turn token.
    public let stopIds: Set<Int>
    /// Seconds spent in the forward pass so far (timing only; never written to reports).
    public private(set) var forwardSeconds = 0.0

    /// Opens `path` (config, weights, tokenizer) and resolves its chat template.
    public init(
        name: String, path: String, chat: ChatTemplateChoice = .fromTokenizerConfig,
        residentBudget: Int = ModelWeights.defaultResidentBudget
    ) throws(EvaluationError) {
        self.name = name
        self.path = path
        do { transformer = try Transformer(directory: path, residentBudget: residentBudget) } catch {
            throw .model(path: path, message: error.description)
        }
        do { tokenizer = try loadTokenizer(directory: path) } catch {
            throw .model(path: path, message: "cannot load the tokenizer: \(error.description)")
        }
        let config: TokenizerConfig
        do { config = try TokenizerConfig.load(directory: path) } catch {
            throw .model(path: path, message: "cannot read the tokenizer config: \(error.description)")
        }
        var bos = config.token("bos_token") ?? tokenizer.specialTokens.bos?.token
        var eos = config.token("eos_token") ?? tokenizer.specialTokens.eos?.token
        switch chat {
        case .fromTokenizerConfig, .named:
            let set: ChatTemplateSet?
            do { set = try ChatTemplateSet.load(directory: path) } catch {
                throw .model(path: path, message: "cannot read the chat template: \(error.description)")
            }
            if let set {
                let wanted: String? = if case .named(let n) = chat { n } else { nil }
                let t: ChatTemplateSet.Named
                do { t = try set.template(named: wanted) } catch { throw .model(path: path, message: error.description) }
                let where_ = set.storage.rawValue + (t.name == "default" ? "" : " \(t.name)")
                chatTemplate = try liftingTemplate { () throws(ChatTemplateError) in try ChatTemplate(source: t.source, name: path + "/" + where_) }
                chatTemplateSource = where_
            } else if case .named(let n) = chat {
                throw .model(path: path, message: "has no chat templates, so none named '\(n)'")
            } else {
                chatTemplate = nil
                chatTemplateSource = "none"
            }
        case .format(let f):
            chatTemplate = try liftingTemplate { () throws(ChatTemplateError) in try f.template() }
            chatTemplateSource = "built-in \(f.rawValue)"
            // The format's own tokens when the tokenizer has them (e.g. <|eot_id|> ends a LLaMA-3 turn).
            if tokenizer.id(for: f.defaultTokens.bos) != nil || f.defaultTokens.bos.isEmpty { bos = f.defaultTokens.bos }
            if tokenizer.id(for: f.defaultTokens.eos) != nil { eos = f.defaultTokens.eos }
        case .file(let file):
            let text = try TaskData.readText(path: file)
            chatTemplate = try liftingTemplate { () throws(ChatTemplateError) in try ChatTemplate(source: text, name: file) }
            chatTemplateSource = file
        }
        bosToken = bos ?? ""
        eosToken = eos ?? ""
        var stops: Set<Int>
        do { stops = try Transformer.stopIds(directory: path, config: transformer.config) } catch {
            throw .model(path: path, message: error.description)
        }
        if let e = tokenizer.specialTokens.eos?.id { stops.insert(e) }
        if let e = tokenizer.id(for: eosToken) { stops.insert(e) }
        stopIds = stops
    }

    /// The model's vocabulary size (config.json).
    public var vocabularySize: Int { transformer.config.vocabSize }

    /// A hash identifying the checkpoint: `sha256:` + the header hash of a single file, or of the
    /// concatenated header hashes of the shards in name order.
    public var headerHash: String {
        let files = transformer.weights.checkpoint.files
        if files.count == 1 { return "sha256:" + files[0].headerSHA256 }
        return "sha256:" + SHA256.hex(Array(files.map(\.headerSHA256).joined(separator: "\n").utf8))
    }

    /// Render options for this model's tokens.
    public func renderOptions(addGenerationPrompt: Bool = false, continueFinalMessage: Bool = false) -> ChatRenderOptions {
        ChatRenderOptions(
            addGenerationPrompt: addGenerationPrompt, continueFinalMessage: continueFinalMessage,
            bosToken: bosToken, eosToken: eosToken, now: ChatDate(year: 2024, month: 1, day: 1))
    }

    /// The chat template, or a task error saying how to provide one.
    func requireChatTemplate(task: String) throws(EvaluationError) -> ChatTemplate {
        guard let t = chatTemplate else {
            throw .noChatTemplate(task: task, model: name, path: path)
        }
        return t
    }

    /// Runs the forward pass (timed).
    public func forward(_ ids: [Int], cache: KVCache, logits: Transformer.Logits) throws(EvaluationError) -> [Float] {
        let t0 = Clock.now()
        defer { forwardSeconds += Clock.now() - t0 }
        do { return try transformer.forward(ids, cache: cache, logits: logits) } catch {
            throw .model(path: path, message: error.description)
        }
    }

    /// All-position logits [ids.count, V] of `ids` from an empty context.
    public func logits(_ ids: [Int]) throws(EvaluationError) -> [Float] {
        try forward(ids, cache: transformer.makeCache(capacity: ids.count), logits: .all)
    }

    /// Greedy generation until a stop id or `maxNewTokens` (timed).
    public func greedy(prompt: [Int], maxNewTokens: Int) throws(EvaluationError) -> [Int] {
        let t0 = Clock.now()
        defer { forwardSeconds += Clock.now() - t0 }
        do { return try transformer.greedy(prompt: prompt, maxNewTokens: maxNewTokens, stopIds: stopIds) } catch {
            throw .model(path: path, message: error.description)
        }
    }
}

/// Monotonic seconds (timings only).
enum Clock {
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}

/// ln Σ exp(row) in Double (TensorMath's, the one the likelihood and agreement statistics use).
func logSumExp(_ row: UnsafeBufferPointer<Float>) -> Double {
    guard let base = row.baseAddress else { return -Double.infinity }
    return Softmax.logSumExp(base, count: row.count)
}
