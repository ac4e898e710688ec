import Foundation
import GGUF
@testable import GGUFConversion
import LEPJSON
import Models
import SafeTensors
import Support
import Testing
import TestSupport
import Tokenizers

/// `lep convert MODEL OUT.gguf` against the files gen_gguf.py wrote with llama.cpp's gguf.GGUFWriter
/// for the same models (scripts/fixtures/check_gguf_export.py adds gguf's reader and transformers'
/// GGUF loader; its results are in fixtures/gguf/MANIFEST.json, "export_check").
@Suite struct GGUFExportTests {
    static let dir = SharedData.fixtures + "/gguf"

    func temp() throws -> String {
        let p = NSTemporaryDirectory() + "lep-gguf-export-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        return p
    }

    @Test(arguments: [("hf-bpe", "llama-bpe"), ("hf-spm", "mistral-spm")])
    func exportMatchesGGUFWriterConventions(source: String, reference: String) throws {
        let t = try temp()
        defer { try? FileManager.default.removeItem(atPath: t) }
        let ref = try GGUFFile(path: Self.dir + "/\(reference).gguf")
        var comparedBytes = 0
        for type in [GGMLType.f32, .f16, .bf16, .q8_0] {
            var o = GGUFExporter.Options()
            o.type = type
            let out = t + "/\(source)-\(type.name).gguf"
            _ = try GGUFExporter.convert(input: Self.dir + "/" + source, output: out, options: o)
            let got = try GGUFFile(path: out)
            // Every metadata key, with its type and value (general.name and file_type aside).
            let skip: Set<String> = ["general.name", "general.file_type"]
            let a = got.header.metadata.filter { !skip.contains($0.key) }, b = ref.header.metadata.filter { !skip.contains($0.key) }
            #expect(Set(a.map(\.key)) == Set(b.map(\.key)), "\(source) \(type.name): keys")
            for (k, v) in b { #expect(got.header[k] == v, "\(source) \(type.name): metadata '\(k)'") }
            #expect(got.header["general.file_type"] == .uint32(GGUFExporter.fileType(type)))
            // Every tensor: same name, shape; where the reference has the same type, the same bytes.
            #expect(Set(got.header.tensors.map(\.name)) == Set(ref.header.tensors.map(\.name)))
            for r in ref.header.tensors {
                let g = try #require(got.header.tensor(r.name))
                #expect(g.dimensions == r.dimensions, "\(r.name)")
                #expect(g.type == (r.dimensions.count == 1 ? .f32 : type), "\(r.name)")
                if g.type == r.type {
                    #expect(Array(got.data(g)) == Array(ref.data(r)), "\(source) \(type.name): \(r.name) bytes differ from gguf's")
                    comparedBytes += 1
                }
            }
        }
        #expect(comparedBytes >= 15)
    }

    @Test func f32RoundTripGivesTheSourceBack() throws {
        let t = try temp()
        defer { try? FileManager.default.removeItem(atPath: t) }
        for source in ["hf-bpe", "hf-spm"] {
            var o = GGUFExporter.Options()
            o.type = .f32
            _ = try GGUFExporter.convert(input: Self.dir + "/" + source, output: t + "/\(source).gguf", options: o)
            _ = try GGUFImporter.convert(input: t + "/\(source).gguf", output: t + "/\(source)-back", options: .init())
            let a = try Checkpoint(path: Self.dir + "/" + source), b = try Checkpoint(path: t + "/\(source)-back")
            #expect(a.tensorNames == b.tensorNames)
            for n in a.tensorNames { #expect(try a.view(n).floats() == b.view(n).floats(), "\(source) \(n)") }
            #expect(FileManager.default.contents(atPath: Self.dir + "/\(source)/chat_template.jinja") == FileManager.default.contents(atPath: t + "/\(source)-back/chat_template.jinja"))
        }
    }

    @Test func namedTemplatesAndRefusals() throws {
        let t = try temp()
        defer { try? FileManager.default.removeItem(atPath: t) }
        let fm = FileManager.default
        let m = t + "/named"
        try fm.copyItem(atPath: Self.dir + "/hf-bpe", toPath: m)
        try fm.copyItem(atPath: Self.dir + "/named-jinja/additional_chat_templates", toPath: m + "/additional_chat_templates")
        _ = try GGUFExporter.convert(input: m, output: t + "/named.gguf", options: .init())
        let g = try GGUFFile(path: t + "/named.gguf")
        let toolUse = try String(contentsOfFile: m + "/additional_chat_templates/tool_use.jinja", encoding: .utf8)
        #expect(g.header["tokenizer.chat_templates"] == .array(.string, [.string("tool_use")]))
        #expect(g.header["tokenizer.chat_template.tool_use"] == .string(toolUse))
        // Import puts them back in transformers 5's layout.
        _ = try GGUFImporter.convert(input: t + "/named.gguf", output: t + "/back", options: .init())
        #expect(fm.contents(atPath: t + "/back/additional_chat_templates/tool_use.jinja") == Data(toolUse.utf8))
        // An existing output is kept unless forced; no temporary file is left.
        #expect(throws: FileError.outputExists(path: t + "/named.gguf")) { try GGUFExporter.convert(input: m, output: t + "/named.gguf", options: .init()) }
        #expect(try fm.contentsOfDirectory(atPath: t).filter { $0.hasPrefix(".") }.isEmpty)
        var o = GGUFExporter.Options()
        o.type = .q4_0
        #expect(throws: GGUFError.conversion(path: t + "/q4.gguf", reason: "lep writes GGUF tensors as f16, bf16, f32 or q8_0, not Q4_0")) {
            try GGUFExporter.convert(input: m, output: t + "/q4.gguf", options: o)
        }
        #expect(!fm.fileExists(atPath: t + "/q4.gguf"))
        // A SentencePiece-style tokenizer.json without its tokenizer.model: scores derived from the
        // merges; the imported tokenizer gives transformers' ids (texts that start with a space aside:
        // llama.cpp always adds the space prefix, transformers' Metaspace "first" does not then).
        let spm = t + "/spm-json-only"
        try fm.copyItem(atPath: Self.dir + "/hf-spm", toPath: spm)
        try fm.removeItem(atPath: spm + "/tokenizer.model")
        _ = try GGUFExporter.convert(input: spm, output: t + "/spm.gguf", options: .init())
        _ = try GGUFImporter.convert(input: t + "/spm.gguf", output: t + "/spm-back", options: .init())
        let tok = try loadTokenizer(directory: t + "/spm-back")
        let ref = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: Self.dir + "/mistral-spm.expected.json"))))
        var checked = 0
        for c in ref["texts"]?.array ?? [] {
            guard let text = c["text"]?.string, !text.hasPrefix(" ") else { continue }
            let want = (c["source_ids"]?.array ?? []).compactMap { $0.number?.int64.map { Int($0) } }
            #expect(tok.encode(text) == want, "'\(text)'")
            checked += 1
        }
        #expect(checked == 4)
    }
}
