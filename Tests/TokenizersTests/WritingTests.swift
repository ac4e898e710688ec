import Foundation
import LEPJSON
import Testing
@testable import Tokenizers

func tempDir(_ name: String) -> String {
    let d = NSTemporaryDirectory() + "lep-tok-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
}

@Suite struct WritingTests {
    static let texts = ["Привет, мир! Hello world", "<mask> masked <mask>token", "digits 1234567 and  spaces\t\n", "🦙 hello world, Ёж"]

    @Test(arguments: ["bytebpe", "unigram_metaspace", "spm_bpe_hf"])
    func savedTokenizerJSONEncodesIdentically(name: String) throws {
        let dir = Fixtures.dir + "/" + name
        let tok = try HFTokenizer(path: dir + "/tokenizer.json", configDirectory: dir)
        let out = tempDir(name)
        defer { try? FileManager.default.removeItem(atPath: out) }
        try tok.save(directory: out)
        let back = try loadTokenizer(directory: out)
        for t in Self.texts {
            #expect(back.encode(t, addSpecialTokens: true) == tok.encode(t, addSpecialTokens: true), "\(t)")
            #expect(back.decode(tok.encode(t)) == tok.decode(tok.encode(t)))
        }
        #expect(back.vocabularySize == tok.vocabularySize)
        #expect(back.specialTokens == tok.specialTokens)
        // Saving the reloaded tokenizer gives the same bytes (stable output).
        let out2 = tempDir(name + "2")
        defer { try? FileManager.default.removeItem(atPath: out2) }
        try (back as! HFTokenizer).save(directory: out2)
        for f in ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"] {
            #expect(FileManager.default.contents(atPath: out + "/" + f) == FileManager.default.contents(atPath: out2 + "/" + f), "\(f)")
        }
    }

    @Test func sentencePieceModelRoundTrip() throws {
        let tok = try SentencePieceTokenizer(path: Fixtures.dir + "/spm_bpe.model")
        let bytes = try #require(FileManager.default.contents(atPath: Fixtures.dir + "/spm_bpe.model"))
        let reparsed = try SentencePieceModel(bytes: tok.model.serialized(), path: "x")
        #expect(reparsed == tok.model)
        #expect(reparsed.pieces == tok.model.pieces)
        #expect(tok.model.serialized().count == bytes.count)  // same fields, re-encoded
        let out = tempDir("spm")
        defer { try? FileManager.default.removeItem(atPath: out) }
        try tok.save(directory: out)
        let back = try loadTokenizer(directory: out)
        for t in Self.texts { #expect(back.encode(t, addSpecialTokens: true) == tok.encode(t, addSpecialTokens: true)) }
    }

    @Test func addTokensMatchesThemInText() throws {
        var tok = try HFTokenizer(path: Fixtures.dir + "/bytebpe/tokenizer.json")
        let before = tok.vocabularySize
        let ids = try tok.addTokens(["<|new|>", "<|other|>"], special: true)
        #expect(ids == [before, before + 1])
        #expect(tok.encode("a<|new|>b", addSpecialTokens: false).contains(before))
        #expect(tok.decode(tok.encode("a<|new|>b", addSpecialTokens: false), skipSpecialTokens: true) == "ab")
        #expect(try tok.addTokens(["<|new|>"], special: true) == [before])  // idempotent
    }

    /// One call with a list (one rebuild of the matchers) gives what one call per token gives: ids,
    /// added tokens, special ids and matching in text; a token of the model vocabulary keeps its id.
    @Test func addingAListEqualsAddingOneByOne() throws {
        let path = Fixtures.dir + "/bytebpe/tokenizer.json"
        var batch = try HFTokenizer(path: path), single = try HFTokenizer(path: path)
        let existing = try #require(batch.token(for: 5))
        let list: [(content: String, special: Bool)] = [("<|x|>", true), ("plain", false), (existing, false), ("<|x|>", true), ("<|y|>", true), ("plain", false)]
        let ids = try batch.addTokens(list)
        var one: [Int] = []
        for e in list { one += try single.addTokens([e.content], special: e.special) }
        #expect(ids == one)
        #expect(ids[2] == 5 && ids[0] == ids[3] && ids[1] == ids[5])
        #expect(batch.addedTokens == single.addedTokens)
        #expect(batch.specialTokens == single.specialTokens)
        #expect(batch.vocabularySize == single.vocabularySize)
        #expect(batch.encode("a<|y|>b plain", addSpecialTokens: false) == single.encode("a<|y|>b plain", addSpecialTokens: false))
        #expect(batch.encode("a<|y|>b", addSpecialTokens: false).contains(ids[4]))
    }

    @Test func bpeBuilderAddsTokensAndPriorityMerges() throws {
        let tok = try HFTokenizer(path: Fixtures.dir + "/bytebpe/tokenizer.json")
        let text = " Ёжиков"
        let old = tok.encode(text, addSpecialTokens: false)
        #expect(old.count > 1)
        var b = try BPEVocabularyBuilder(base: tok)
        // Merge the old pieces pairwise into one token, with priority over the old merges.
        var pieces = old.map { tok.token(for: $0)! }
        while pieces.count > 1 {
            try b.addMerge(pieces[0], pieces[1], highPriority: true)
            pieces = [pieces[0] + pieces[1]] + pieces.dropFirst(2)
        }
        let newTok = try b.build()
        let ids = newTok.encode(text, addSpecialTokens: false)
        #expect(ids.count == 1 && newTok.token(for: ids[0]) == pieces[0])
        #expect(newTok.tokenText(ids[0]) == text)
        // Added tokens keep their ids after the new ones? They must not collide: the builder appends after them.
        #expect(ids[0] > tok.addedTokens.map(\.id).max()!)
        #expect(throws: TokenizerError.mergeMissingToken(merge: "nope x", token: "nope")) { try b.addMerge("nope", "x", highPriority: false) }
    }
}

@Suite struct LEPOperationsTests {
    @Test func tokenTextAndContinuationByteLevel() throws {
        let tok = try HFTokenizer(path: Fixtures.dir + "/bytebpe/tokenizer.json", configDirectory: Fixtures.dir + "/bytebpe")
        let ids = tok.encode(" Привет", addSpecialTokens: false)
        #expect(ids.compactMap { tok.tokenBytes($0) }.flatMap { $0 } == Array(" Привет".utf8))
        #expect(tok.encodeContinuation(" Привет") == ids)
        #expect(tok.encodeContinuation("<|begin_of_text|>") != [tok.id(for: "<|begin_of_text|>")!])  // no special matching
        #expect(tok.encode("<|begin_of_text|>", addSpecialTokens: false) == [tok.id(for: "<|begin_of_text|>")!])
    }

    @Test func continuationHasNoDummyPrefix() throws {
        let hf = try HFTokenizer(path: Fixtures.dir + "/spm_bpe_hf/tokenizer.json", configDirectory: Fixtures.dir + "/spm_bpe_hf")
        let spm = try SentencePieceTokenizer(path: Fixtures.dir + "/spm_bpe.model")
        for tok in [hf as any Tokenizer, spm] {
            let withPrefix = tok.encode("мир", addSpecialTokens: false)
            let cont = tok.encodeContinuation("мир")
            #expect(withPrefix != cont, "\(type(of: tok))")
            #expect(cont.compactMap { tok.tokenBytes($0) }.flatMap { $0 } == Array("мир".utf8))
            #expect(tok.encodeContinuation(" мир") == withPrefix)
            #expect(tok.encode("мир", addSpecialTokens: true).first == tok.specialTokens.bos?.id)
        }
        // Byte tokens stand for their byte.
        #expect(spm.tokenBytes(spm.id(for: "<0xE2>")!) == [0xE2])
        #expect(hf.tokenBytes(hf.id(for: "<0x0A>")!) == [0x0A])
    }
}

@Suite struct MalformedInputTests {
    func write(_ s: String, _ name: String = "tokenizer.json") -> String {
        let d = tempDir("bad")
        FileManager.default.createFile(atPath: d + "/" + name, contents: Data(s.utf8))
        return d + "/" + name
    }

    @Test func truncatedJSON() throws {
        let p = write(#"{"model": {"type": "BPE", "vocab": {"a": 0"#)
        #expect { try HFTokenizer(path: p) } throws: { e in
            if case .invalidJSON(let path, _) = e as? TokenizerError { return path == p } else { return false }
        }
    }

    @Test func unknownComponentNamesStageAndType() throws {
        let base = try String(contentsOfFile: Fixtures.dir + "/bytebpe/tokenizer.json", encoding: .utf8)
        var j = try JSONParser.parse(base).object!
        j["normalizer"] = .object(JSONObject([("type", .string("BertNormalizer"))]))
        #expect(throws: TokenizerError.unsupportedComponent(stage: "normalizer", type: "BertNormalizer")) {
            try HFTokenizer(json: .object(j))
        }
        j["normalizer"] = .null
        j["pre_tokenizer"] = .object(JSONObject([("type", .string("Split")), ("pattern", .object(JSONObject([("Regex", .string("\\w+"))]))), ("behavior", .string("Isolated"))]))
        #expect(throws: TokenizerError.unsupportedComponent(stage: "pre_tokenizer", type: "Split with Regex \\w+")) { try HFTokenizer(json: .object(j)) }
        j["pre_tokenizer"] = .null
        j["decoder"] = .object(JSONObject([("type", .string("WordPiece"))]))
        #expect(throws: TokenizerError.unsupportedComponent(stage: "decoder", type: "WordPiece")) { try HFTokenizer(json: .object(j)) }
        j["decoder"] = .null
        var m = j["model"]!.object!
        m["type"] = .string("WordLevel")
        j["model"] = .object(m)
        #expect(throws: TokenizerError.unsupportedComponent(stage: "model", type: "WordLevel")) { try HFTokenizer(json: .object(j)) }
    }

    @Test func mergeNamingAMissingToken() throws {
        let j = #"{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": [["a", "b"], ["a", "zz"]]}}"#
        #expect(throws: TokenizerError.mergeMissingToken(merge: "a zz", token: "zz")) { try HFTokenizer(json: try JSONParser.parse(j)) }
    }

    @Test func notASentencePieceModel() throws {
        let p = write("this is not a protobuf at all \u{1}\u{2}", "tokenizer.model")
        #expect { try SentencePieceTokenizer(path: p) } throws: { e in
            if case .invalidSentencePiece(let path, _) = e as? TokenizerError { return path == p } else { return false }
        }
        // The loader tells tiktoken from SentencePiece by content; a bad ranks line is named.
        let t = write("QQ== 0\nnot-base64! 1\n", "tokenizer.model")
        #expect(throws: TokenizerError.invalidTiktoken(path: t, line: 2, reason: "bad base64")) { try TiktokenTokenizer(path: t) }
    }

    @Test func invalidUTF8TextNamesTheOffset() throws {
        let d = tempDir("utf8")
        let p = d + "/t.txt"
        FileManager.default.createFile(atPath: p, contents: Data([0x61, 0xD0, 0x9F, 0x62, 0xFF, 0x63]))
        #expect(throws: TokenizerError.invalidUTF8(path: p, offset: 4)) { try readTextFile(p) }
    }

    @Test func emptyInputEncodesToNothing() throws {
        let tok = try HFTokenizer(path: Fixtures.dir + "/bytebpe/tokenizer.json")
        #expect(tok.encode("", addSpecialTokens: false) == [])
        #expect(tok.decode([]) == "")
    }
}
