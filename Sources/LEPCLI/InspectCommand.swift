import LEPJSON
import Models
import Support
import Tokenizers
import SafeTensors

/// `lep inspect PATH`: what a checkpoint holds and what is wrong with it.
enum InspectCommand: Command {
    static let name = "inspect"
    static let summary = "describe a checkpoint: architecture, parameters, dtypes, shards, tensors, problems"
    static let usage = "PATH [--json] [--tensors] [--check-values]"
    static let details = """
        PATH is a Hugging Face model directory (model.safetensors or a sharded index) or one .safetensors
        file. Every header is validated. Problems (missing or unexpected tensors, shape or vocabulary
        mismatches, NaN/Inf with --check-values) are listed; the exit code is 1 when any is an error.
        """
    static let options = [
        OptionSpec(name: "json", value: nil, help: "machine-readable output"),
        OptionSpec(name: "tensors", value: nil, help: "list every tensor (name, dtype, shape)"),
        OptionSpec(name: "check-values", value: nil, help: "scan all float tensors for NaN/Inf")
    ]

    static func run(_ args: Arguments) throws -> Int32 {
        let path = try args.positionals(["PATH"])[0]
        let progress = Progress("checking values")
        let report = try CheckpointInspector.inspect(path: path, checkValues: args.flag("check-values"), progress: progress.update)
        progress.finish()
        let templates = chatTemplates(path)
        if args.flag("json") {
            guard case .object(var o) = json(report, tensors: args.flag("tensors")) else { return 1 }
            o["config_problem"] = report.configProblem.map(JSONValue.string) ?? .null
            switch templates {
            case .none: o["chat_templates"] = .null
            case .found(let set):
                o["chat_templates"] = .object(
                    JSONObject([
                        ("storage", .string(set.storage.rawValue)),
                        ("templates", .array(set.templates.map { .object(JSONObject([("name", .string($0.name)), ("characters", .number(JSONNumber($0.source.count)))])) }))
                    ]))
            case .unreadable(let why): o["chat_templates"] = .object(JSONObject([("error", .string(why))]))
            }
            Terminal.out(JSONWriter.pretty(.object(o)))
        } else {
            var t = text(report, tensors: args.flag("tensors"))
            let line: String
            switch templates {
            case .none: line = "none found (no chat_template.jinja, no chat_template in tokenizer_config.json)"
            case .found(let set): line = set.templates.map { "\($0.name) (\($0.source.count) characters)" }.joined(separator: ", ") + " in \(set.storage.rawValue)"
            case .unreadable(let why): line = "unreadable: \(why)"
            }
            // After the tokenizer line.
            var lines = t.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if PathUtilities.isDirectory(path), let i = lines.firstIndex(where: { $0.hasPrefix("tokenizer:") }) { lines.insert("chat template: " + line, at: i + 1) }
            t = lines.joined(separator: "\n")
            Terminal.out(t)
        }
        return report.hasErrors ? 1 : 0
    }

    enum Templates { case none, found(ChatTemplateSet), unreadable(String) }

    /// The chat templates of a model directory (nil set for a single file).
    static func chatTemplates(_ path: String) -> Templates {
        guard PathUtilities.isDirectory(path) else { return .none }
        do { return try ChatTemplateSet.load(directory: path).map(Templates.found) ?? .none } catch { return .unreadable(error.description) }
    }

    static func text(_ r: InspectionReport, tensors: Bool) -> String {
        var lines: [String] = ["path:          \(r.path)"]
        let unknown = r.configProblem.map { "unknown: config.json not understood (\($0))" } ?? "unknown (no config.json)"
        lines.append("architecture:  \(r.architecture ?? unknown)")
        if let c = r.config {
            lines.append(
                "config:        \(c.numHiddenLayers) layers, hidden \(c.hiddenSize), intermediate \(c.intermediateSize), heads \(c.numAttentionHeads)/\(c.numKeyValueHeads) (head_dim \(c.headDim)), vocab \(c.vocabSize)"
            )
            var rope = "rope_theta \(Format.fixed(c.ropeTheta, 0))"
            switch c.ropeScaling {
            case .none: break
            case .llama3(let f, _, _, _): rope += ", llama3 scaling ×\(Format.fixed(f, 1))"
            case .unsupported(let t): rope += ", scaling '\(t)'"
            }
            if let w = c.slidingWindow { rope += ", sliding window \(w)" }
            lines.append("attention:     \(rope)")
        }
        lines.append("parameters:    \(Format.count(r.parameterCount)) (\(r.parameterCount))")
        lines.append("dtypes:        " + r.dtypes.map { "\($0.dtype) ×\($0.tensors) (\(Format.bytes($0.bytes)))" }.joined(separator: ", "))
        lines.append("shards:        \(r.shards.count)")
        for s in r.shards { lines.append("  \(s.file.padding(to: 36)) \(Format.bytes(s.bytes).padding(to: 10)) \(s.tensors) tensors") }
        lines.append("embeddings:    \(r.embeddingRows.map { "\($0) rows" } ?? "no model.embed_tokens.weight")")
        lines.append("tokenizer:     \(r.tokenizerVocabulary.map { "\($0.size) tokens (\($0.source))" } ?? "no tokenizer files")")
        lines.append("tied:          \(r.tied.map { $0 ? "yes (lm_head shares embed_tokens)" : "no (separate lm_head)" } ?? "unknown")")
        if tensors {
            lines.append("tensors:       \(r.tensors.count)")
            for t in r.tensors {
                var l = "  \(t.name.padding(to: 52)) \(t.dtype.padding(to: 5)) \(t.shape)"
                if let n = t.nonFinite, n > 0 { l += "  \(n) NaN/Inf" }
                lines.append(l)
            }
        }
        if r.problems.isEmpty {
            lines.append("problems:      none")
        } else {
            lines.append("problems:      \(r.problems.count)")
            for p in r.problems { lines.append("  \(p.severity.rawValue): \(p.message)") }
        }
        return lines.joined(separator: "\n")
    }

    static func json(_ r: InspectionReport, tensors: Bool) -> JSONValue {
        func int(_ v: Int) -> JSONValue { .number(JSONNumber(v)) }
        var o = JSONObject()
        o["path"] = .string(r.path)
        o["architecture"] = r.architecture.map(JSONValue.string) ?? .null
        if let c = r.config {
            o["config"] = .object(
                JSONObject([
                    ("model_type", .string(c.family.rawValue)), ("num_hidden_layers", int(c.numHiddenLayers)),
                    ("hidden_size", int(c.hiddenSize)), ("intermediate_size", int(c.intermediateSize)),
                    ("num_attention_heads", int(c.numAttentionHeads)), ("num_key_value_heads", int(c.numKeyValueHeads)),
                    ("head_dim", int(c.headDim)), ("vocab_size", int(c.vocabSize)),
                    ("tie_word_embeddings", .bool(c.tieWordEmbeddings))
                ]))
        }
        o["parameters"] = int(r.parameterCount)
        o["dtypes"] = .array(r.dtypes.map { .object(JSONObject([("dtype", .string($0.dtype)), ("tensors", int($0.tensors)), ("bytes", int($0.bytes))])) })
        o["shards"] = .array(r.shards.map { .object(JSONObject([("file", .string($0.file)), ("bytes", int($0.bytes)), ("tensors", int($0.tensors))])) })
        o["embedding_rows"] = r.embeddingRows.map(int) ?? .null
        o["tokenizer_vocabulary"] = r.tokenizerVocabulary.map { .object(JSONObject([("size", int($0.size)), ("source", .string($0.source))])) } ?? .null
        o["tied"] = r.tied.map(JSONValue.bool) ?? .null
        if tensors {
            o["tensors"] = .array(
                r.tensors.map { t in
                    var e = JSONObject([("name", .string(t.name)), ("dtype", .string(t.dtype)), ("shape", .array(t.shape.map(int)))])
                    if let n = t.nonFinite { e["non_finite"] = int(n) }
                    return .object(e)
                })
        }
        o["problems"] = .array(r.problems.map { .object(JSONObject([("severity", .string($0.severity.rawValue)), ("message", .string($0.message))])) })
        return .object(o)
    }
}
