import Foundation
import LEPJSON
import Testing
import TestSupport
@testable import Tokenizers

/// NFC/NFD/NFKC/NFKD normalisers against HF `tokenizers` (fixtures/normalizers, gen_normalizers.py).
@Suite struct UnicodeNormalizerTests {
    static let cases: [[String: String]] = {
        let path = SharedData.fixtures + "/normalizers/cases.json"
        guard let data = FileManager.default.contents(atPath: path),
            let rows = try? JSONSerialization.jsonObject(with: data) as? [[String: String]]
        else { return [] }
        return rows
    }()

    func normalizer(_ json: String) throws -> Normalizer {
        let parsed = try Normalizer.parse(try JSONParser.parse(json), path: "tokenizer.json")
        return try #require(parsed)
    }

    @Test(arguments: ["NFC", "NFD", "NFKC", "NFKD"])
    func matchesHFTokenizers(_ form: String) throws {
        #expect(Self.cases.count >= 20)
        let n = try normalizer(#"{"type":"\#(form)"}"#)
        for c in Self.cases {
            let got = n.apply(c["text"]!, continuation: false)
            let want = c[form]!
            #expect(
                Array(got.unicodeScalars) == Array(want.unicodeScalars),
                "\(form)(\(c["text"]!.debugDescription)) = \(got.debugDescription), tokenizers \(want.debugDescription)")
        }
        // It writes back as it was read.
        #expect(JSONWriter.compact(n.json()) == #"{"type":"\#(form)"}"#)
    }

    @Test func sequenceWithLowercase() throws {
        let n = try normalizer(#"{"type":"Sequence","normalizers":[{"type":"NFKC"},{"type":"Lowercase"}]}"#)
        for c in Self.cases {
            #expect(Array(n.apply(c["text"]!, continuation: false).unicodeScalars) == Array(c["NFKC+Lowercase"]!.unicodeScalars), "\(c["text"]!.debugDescription)")
        }
    }
}
