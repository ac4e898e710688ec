import Foundation
import LEPJSON
import Testing
import TestSupport

/// `lep run --chat` against transformers' apply_chat_template + generate, and chat templates kept by
/// every command that writes tokenizer files (fixtures/gguf, scripts/fixtures/gen_gguf.py).
@Suite(.serialized) struct ChatCLITests {
    static let dir = SharedData.fixtures + "/gguf"

    static func cases(_ key: String) throws -> [JSONValue] {
        let j = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/chat.json"))))
        return try #require(j[key]?.array)
    }

    static func ints(_ v: JSONValue?) -> [Int] { (v?.array ?? []).compactMap { $0.number?.int64.map { Int($0) } } }

    /// The CLI arguments for a conversation of at most a system and a user message.
    static func chatArgs(_ c: JSONValue) -> [String]? {
        let m = c["messages"]?.array ?? []
        guard let last = m.last, last["role"]?.string == "user", m.count <= 2 else { return nil }
        var a = ["--chat", last["content"]?.string ?? ""]
        if m.count == 2 {
            guard m[0]["role"]?.string == "system" else { return nil }
            a += ["--system", m[0]["content"]?.string ?? ""]
        }
        return a
    }

    func output(_ r: LEP.Result) throws -> JSONValue { try JSONParser.parse(Array(r.stdout.utf8)) }

    @Test func chatReplyEqualsTransformersGenerate() throws {
        for model in ["hf-bpe", "hf-spm"] {
            var checked = 0
            for c in try Self.cases(model) {
                guard let a = Self.chatArgs(c) else { continue }
                let r = try LEP.run(["run", Self.dir + "/" + model] + a + ["--max-tokens", "12", "--json"])
                #expect(r.status == 0, "\(r.stderr)")
                let j = try output(r)
                #expect(Self.ints(j["prompt_ids"]) == Self.ints(c["ids"]), "\(model): prompt ids differ from apply_chat_template")
                #expect(Self.ints(j["ids"]) == Self.ints(c["generated_ids"]), "\(model): reply differs from generate()")
                checked += 1
            }
            #expect(checked == 2)
            // Streaming text mode prints the decoded reply (special tokens skipped).
            let c = try Self.cases(model)[0]
            let r = try LEP.run(["run", Self.dir + "/" + model] + Self.chatArgs(c)! + ["--max-tokens", "12"])
            #expect(r.stdout == (c["generated_text"]?.string ?? "?") + "\n")
        }
    }

    /// A model folder with hf-bpe's weights and the tokenizer/template files of `templates`.
    func modelWithTemplates(_ templates: String, into t: String) throws -> String {
        let fm = FileManager.default
        let m = t + "/model-" + templates
        try fm.copyItem(atPath: Self.dir + "/hf-bpe", toPath: m)
        try fm.removeItem(atPath: m + "/chat_template.jinja")
        for f in try fm.contentsOfDirectory(atPath: Self.dir + "/" + templates) {
            try? fm.removeItem(atPath: m + "/" + f)
            try fm.copyItem(atPath: Self.dir + "/" + templates + "/" + f, toPath: m + "/" + f)
        }
        return m
    }

    @Test func namedTemplatesPickedByName() throws {
        let t = makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: t) }
        for layout in ["named-jinja", "named-list"] {
            let m = try modelWithTemplates(layout, into: t)
            for name in ["default", "tool_use"] {
                for c in try Self.cases("\(layout):\(name)") {
                    guard let a = Self.chatArgs(c) else { continue }
                    let r = try LEP.run(["run", m] + a + ["--chat-template-name", name, "--max-tokens", "1", "--json"])
                    #expect(r.status == 0, "\(r.stderr)")
                    #expect(Self.ints(try output(r)["prompt_ids"]) == Self.ints(c["ids"]), "\(layout) \(name)")
                }
            }
            let bad = try LEP.run(["run", m, "--chat", "hi", "--chat-template-name", "rag"])
            #expect(bad.status != 0 && bad.stderr.contains("default, tool_use"), "\(bad.stderr)")
        }
    }

    @Test func templateRefusalsNameTheFlags() throws {
        let t = makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: t) }
        // Several templates and no default: the fix is --chat-template-name.
        let m = try modelWithTemplates("named-jinja", into: t)
        try FileManager.default.copyItem(atPath: m + "/additional_chat_templates/tool_use.jinja", toPath: m + "/additional_chat_templates/rag.jinja")
        try FileManager.default.removeItem(atPath: m + "/chat_template.jinja")
        let several = try LEP.run(["run", m, "--chat", "hi"])
        #expect(several.status != 0 && several.stderr.contains("no default (rag, tool_use); choose one with --chat-template-name"), "\(several.stderr)")
        // A template that does not parse: the fix names --chat-template (run has no --chat-format).
        try Data("{% endif %}".utf8).write(to: URL(fileURLWithPath: t + "/bad.jinja"))
        let bad = try LEP.run(["run", m, "--chat", "hi", "--chat-template", t + "/bad.jinja"])
        #expect(bad.status != 0 && bad.stderr.contains("syntax error") && bad.stderr.contains("(pass a template file with --chat-template FILE)"), "\(bad.stderr)")
        #expect(!bad.stderr.contains("--chat-format"), "\(bad.stderr)")
        // eval has --chat-format: its fix names both.
        let evalBad = try LEP.run(["eval", m, "-o", t + "/eval", "--tasks", "chat_format", "--chat-template", t + "/bad.jinja"])
        #expect(evalBad.status != 0 && evalBad.stderr.contains("or pick a built-in format with --chat-format llama3|"), "\(evalBad.stderr)")
    }

    @Test func pipedConversationReusesTheCache() throws {
        let m = Self.dir + "/hf-bpe"
        let r = try LEP.run(["run", m, "--chat", "--json", "--max-tokens", "6"], stdin: "What is the capital of France?\nTell me a story.\n")
        #expect(r.status == 0, "\(r.stderr)")
        let data = Data(r.stdout.utf8)
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        guard lines.count == 2 else { return }
        let first = try JSONParser.parse(Array(lines[0].utf8)), second = try JSONParser.parse(Array(lines[1].utf8))
        #expect(Self.ints(first["prompt_ids"]) == Self.ints(try Self.cases("hf-bpe")[0]["ids"]))
        #expect((second["timings"]?["cached_tokens"]?.number?.int64 ?? 0) > Int64(Self.ints(first["prompt_ids"]).count))
        // The second turn from the cache equals the same prompt run from scratch.
        let ids = Self.ints(second["prompt_ids"]).map(String.init).joined(separator: ",")
        let fresh = try LEP.run(["run", m, "--ids", ids, "--max-tokens", "6", "--json"])
        #expect(Self.ints(try output(fresh)["ids"]) == Self.ints(second["ids"]))
    }

    @Test func commandsThatWriteTokenizerFilesKeepTheTemplates() throws {
        let t = makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: t) }
        let fm = FileManager.default
        for layout in ["named-jinja", "named-list"] {
            let m = try modelWithTemplates(layout, into: t)
            let templateFiles = ["chat_template.jinja", "additional_chat_templates/tool_use.jinja"]
            func same(_ out: String, _ what: String) throws {
                if layout == "named-jinja" {
                    for f in templateFiles {
                        #expect(fm.contents(atPath: out + "/" + f) == fm.contents(atPath: m + "/" + f), "\(what): \(f)")
                    }
                    let tc = try JSONParser.parse(Array(fm.contents(atPath: out + "/tokenizer_config.json") ?? Data()))
                    #expect(tc["chat_template"] == nil, "\(what): tokenizer_config.json should not repeat the template")
                } else {
                    let a = try JSONParser.parse(Array(fm.contents(atPath: out + "/tokenizer_config.json") ?? Data()))
                    let b = try JSONParser.parse(Array(fm.contents(atPath: m + "/tokenizer_config.json") ?? Data()))
                    #expect(a["chat_template"] != nil && a["chat_template"] == b["chat_template"], "\(what)")
                    #expect(!fm.fileExists(atPath: out + "/chat_template.jinja"), "\(what)")
                }
            }
            let prop = t + "/prop-" + layout
            var r = try LEP.run(["propagate", "--base", Self.dir + "/hf-bpe", "--instruct", m, "--donor", Self.dir + "/hf-spm", "-o", prop])
            #expect(r.status == 0, "\(r.stderr)")
            try same(prop, "propagate")
            let initOut = t + "/init-" + layout
            r = try LEP.run(["vocab", "init", "--model", m, "--tokenizer", Self.dir + "/hf-spm", "-o", initOut])
            #expect(r.status == 0, "\(r.stderr)")
            try same(initOut, "vocab init")
            let build = t + "/build-" + layout
            r = try LEP.run(["vocab", "build", "--mode", "replace", "--old", m, "--new", Self.dir + "/hf-spm/tokenizer.model", "-o", build])
            #expect(r.status == 0, "\(r.stderr)")
            try same(build, "vocab build")
            let conv = t + "/convert-" + layout
            r = try LEP.run(["convert", m, conv, "--dtype", "bf16"])
            #expect(r.status == 0, "\(r.stderr)")
            try same(conv, "convert")
            let recipe = t + "/union-\(layout).yml"
            try
                "merge_method: linear\nmodels:\n  - model: \(m)\n    parameters:\n      weight: 0.5\n  - model: \(Self.dir)/hf-spm\n    parameters:\n      weight: 0.5\ndtype: float32\ntokenizer_source: union\n"
                .write(toFile: recipe, atomically: true, encoding: .utf8)
            let merged = t + "/merge-" + layout
            r = try LEP.run(["merge", recipe, merged])
            #expect(r.status == 0, "\(r.stderr)")
            try same(merged, "merge (union tokenizer)")
            // The propagated model still chats with the named template.
            r = try LEP.run(["run", prop, "--chat", "hi", "--chat-template-name", "tool_use", "--max-tokens", "1", "--json"])
            #expect(r.status == 0, "\(r.stderr)")
        }
    }

    @Test func evalFindsTheJinjaTemplate() throws {
        let t = makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: t) }
        let r = try LEP.run(["eval", Self.dir + "/hf-bpe", "-o", t + "/report", "--tasks", "copy", "--max-items", "1"])
        #expect(r.status == 0, "\(r.stderr)")
        let report = String(decoding: FileManager.default.contents(atPath: t + "/report/report.json") ?? Data(), as: UTF8.self)
        #expect(report.contains("\"chat_template\": \"chat_template.jinja\""))
    }
}
