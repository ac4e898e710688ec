import Foundation
import LEPJSON
import Testing
import TestSupport

/// `lep convert` to and from GGUF through the binary (fixtures/gguf).
@Suite(.serialized) struct GGUFCLITests {
    static let dir = SharedData.fixtures + "/gguf"

    @Test func roundTripThroughTheCLIAndChat() throws {
        let t = makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: t) }
        var r = try LEP.run(["convert", Self.dir + "/hf-bpe", t + "/m.gguf", "--dtype", "q8_0"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("Q8_0") && r.stdout.contains("gpt2 (llama-bpe)"))
        r = try LEP.run(["convert", t + "/m.gguf", t + "/back"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("16 Q8_0") && r.stdout.contains("chat templates: default"))
        r = try LEP.run(["run", t + "/back", "--chat", "What is the capital of France?", "--max-tokens", "4", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let j = try JSONParser.parse(Array(r.stdout.utf8))
        let cases = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: Self.dir + "/chat.json"))))
        #expect(j["prompt_ids"] == cases["hf-bpe"]?.array?.first?["ids"], "the imported tokenizer and template render the same prompt")
    }

    @Test func badInputsAreClearErrors() throws {
        let t = makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: t) }
        var r = try LEP.run(["convert", Self.dir + "/hf-bpe", t + "/m.gguf", "--dtype", "q4_0"])
        #expect(r.status == 64 && r.stderr.contains("f16, bf16, f32 or q8_0"))
        try Data("GGUF\u{3}\0\0\0".utf8).write(to: URL(fileURLWithPath: t + "/cut.gguf"))
        r = try LEP.run(["convert", t + "/cut.gguf", t + "/out"])
        #expect(r.status == 1 && r.stderr.contains(t + "/cut.gguf: file ends inside the tensor count"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: t + "/out"))
    }
}
