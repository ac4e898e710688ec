import Foundation
import LEPJSON
import Testing
import TestSupport
@testable import Tokenizers

/// Chat templates found wherever transformers keeps them (fixtures/gguf, saved by transformers 5).
@Suite struct ChatTemplateSetTests {
    static let dir = SharedData.fixtures + "/gguf"

    func text(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    func temp() throws -> String {
        let p = NSTemporaryDirectory() + "lep-chatset-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        return p
    }

    @Test func jinjaFileOfTransformers5() throws {
        let set = try #require(try ChatTemplateSet.load(directory: Self.dir + "/hf-bpe"))
        #expect(set.storage == .jinjaFiles)
        #expect(set.names == ["default"])
        #expect(try set.template(named: nil).source == text(Self.dir + "/hf-bpe/chat_template.jinja"))
        #expect(ChatTemplateSet.files(in: Self.dir + "/hf-bpe") == ["chat_template.jinja"])
    }

    @Test func namedTemplatesInBothLayouts() throws {
        let jinja = try #require(try ChatTemplateSet.load(directory: Self.dir + "/named-jinja"))
        let list = try #require(try ChatTemplateSet.load(directory: Self.dir + "/named-list"))
        #expect(jinja.storage == .jinjaFiles && list.storage == .tokenizerConfigList)
        #expect(jinja.names == ["default", "tool_use"] && list.names == ["default", "tool_use"])
        #expect(jinja.templates == list.templates)
        #expect(try jinja.template(named: "tool_use").source == text(Self.dir + "/named-jinja/additional_chat_templates/tool_use.jinja"))
        #expect(ChatTemplateSet.files(in: Self.dir + "/named-jinja") == ["chat_template.jinja", "additional_chat_templates/tool_use.jinja"])
        #expect(throws: TokenizerError.self) { try list.template(named: "rag") }
        do { _ = try list.template(named: "rag") } catch { #expect(error.description.contains("default, tool_use")) }
    }

    @Test func tokenizerConfigStringAndChatTemplateJSON() throws {
        let toy = try #require(try ChatTemplateSet.load(directory: SharedData.fixtures + "/toy/instruct"))
        #expect(toy.storage == .tokenizerConfigString && toy.names == ["default"])
        let t = try temp()
        defer { try? FileManager.default.removeItem(atPath: t) }
        try #"{"chat_template": "{{ messages[0]['content'] }}"}"#.write(toFile: t + "/chat_template.json", atomically: true, encoding: .utf8)
        let j = try #require(try ChatTemplateSet.load(directory: t))
        #expect(j.storage == .chatTemplateJSON && j.templates[0].source == "{{ messages[0]['content'] }}")
        // The .jinja file wins over tokenizer_config.json, which wins over chat_template.json (transformers' order).
        try #"{"chat_template": "from config"}"#.write(toFile: t + "/tokenizer_config.json", atomically: true, encoding: .utf8)
        #expect(try ChatTemplateSet.load(directory: t)?.templates[0].source == "from config")
        try "from jinja".write(toFile: t + "/chat_template.jinja", atomically: true, encoding: .utf8)
        #expect(try ChatTemplateSet.load(directory: t)?.templates[0].source == "from jinja")
        #expect(try ChatTemplateSet.load(directory: SharedData.fixtures + "/forward/llama3-f32") == nil)
    }

    @Test func encodedKeepsTheForm() throws {
        let jinja = try #require(try ChatTemplateSet.load(directory: Self.dir + "/named-jinja"))
        let (files, value) = jinja.encoded()
        #expect(value == nil)
        #expect(files.map(\.name) == ["chat_template.jinja", "additional_chat_templates/tool_use.jinja"])
        #expect(files[1].bytes == Array(try text(Self.dir + "/named-jinja/additional_chat_templates/tool_use.jinja").utf8))
        let list = try #require(try ChatTemplateSet.load(directory: Self.dir + "/named-list"))
        let (lf, lv) = list.encoded()
        let original = try JSONParser.parse(Array(try text(Self.dir + "/named-list/tokenizer_config.json").utf8))
        #expect(lf.isEmpty && lv == original["chat_template"])
    }

    @Test func malformedTemplatesAreClearErrors() throws {
        let t = try temp()
        defer { try? FileManager.default.removeItem(atPath: t) }
        try #"{"chat_template": [{"name": "default"}]}"#.write(toFile: t + "/tokenizer_config.json", atomically: true, encoding: .utf8)
        #expect(throws: TokenizerError.invalidField(path: t + "/tokenizer_config.json", key: "chat_template[0]", expected: "an object with string \"name\" and \"template\"")) {
            try ChatTemplateSet.load(directory: t)
        }
        try #"{"chat_template": 5}"#.write(toFile: t + "/tokenizer_config.json", atomically: true, encoding: .utf8)
        #expect(throws: TokenizerError.self) { try ChatTemplateSet.load(directory: t) }
    }
}
