import CJSONC
import TestSupport
import Foundation
import Testing
@testable import LEPJSON

@Suite struct JSONParserTests {
    @Test(arguments: [
        "", " ", "{", "[1,]", "{\"a\":1,}", "01", "1.", ".5", "-", "1e", "+1", "NaN", "Infinity", "'a'",
        "\"\\x\"", "\"a\nb\"", "[1] 2", "{\"a\" 1}", "{1:2}", "tru", "nul", "\"\\ud800\"", "\"\\udc00x\"",
        "/* c */ 1", "[\"\\u12\"]"
    ])
    func rejectsInvalidJSON(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(text) }
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0xFF, 0x22]) }
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0xC3, 0x22]) }
    }

    @Test func duplicateKeysRejectedByDefault() throws {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(#"{"a":1,"a":2}"#) }
        let v = try JSONParser.parse(#"{"a":1,"a":2}"#, duplicateKeys: .lastWins)
        #expect(v["a"]?.number?.int64 == 2)
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(deep) }
    }

    @Test func keepsOrderNumbersAndEscapes() throws {
        let text = #"{"z":1,"a":[true,false,null],"n":-12.5e3,"big":18446744073709551615,"s":"é\u00e9\ud83d\ude00\n\"\\\/"}"#
        let v = try JSONParser.parse(text)
        #expect(v.object?.keys == ["z", "a", "n", "big", "s"])
        #expect(v["n"]?.number?.double == -12500)
        #expect(v["big"]?.number?.uint64 == UInt64.max)
        #expect(v["big"]?.number?.int64 == nil)
        #expect(v["s"]?.string == "éé😀\n\"\\/")
        // Compact output re-parses to the same tree.
        #expect(try JSONParser.parse(JSONWriter.compact(v)) == v)
        #expect(try JSONParser.parse(JSONWriter.pretty(v)) == v)
    }

    @Test func compactWriterEscapesLikeSerde() {
        let v = JSONValue.string("a\u{1}\u{1F}\t\"é/")
        #expect(JSONWriter.compact(v) == #""a\u0001\u001f\t\"é/""#)
    }

    /// Differential check against json-c on real tokenizer/config files: same structure and strings.
    @Test(
        .enabled(if: FileManager.default.fileExists(atPath: Self.realdata), "needs ../shared/realdata (absent): skipped"),
        arguments: [
            "llama3/tokenizer_config.json", "llama3/special_tokens_map.json",
            "ruadapt/hf_tokenizers/darulm_20_05_24_part1-2_32000_unigram_hf/tokenizer.json"
        ])
    func agreesWithJSONC(_ file: String) throws {
        let path = Self.realdata + "/" + file
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let ours = try JSONParser.parse(bytes)
        guard let obj = json_object_from_file(path) else { Issue.record("json-c failed on \(file)"); return }
        defer { json_object_put(obj) }
        var mismatches = 0
        compare(ours, obj, path: "$", mismatches: &mismatches)
        #expect(mismatches == 0)
    }

    func compare(_ v: JSONValue, _ c: OpaquePointer, path: String, mismatches: inout Int) {
        guard mismatches < 5 else { return }
        switch v {
        case .null: if json_object_get_type(c) != json_type_null { mismatches += 1; Issue.record("\(path): null") }
        case .bool(let b): if (json_object_get_boolean(c) != 0) != b { mismatches += 1; Issue.record("\(path): bool") }
        case .number(let n):
            if abs(json_object_get_double(c) - n.double) > 1e-12 * max(1, abs(n.double)) { mismatches += 1; Issue.record("\(path): \(n.text)") }
        case .string(let s):
            let len = Int(json_object_get_string_len(c))
            let cs = String(decoding: UnsafeRawBufferPointer(start: json_object_get_string(c), count: len), as: UTF8.self)
            if cs != s { mismatches += 1; Issue.record("\(path): string \(s) vs \(cs)") }
        case .array(let a):
            guard json_object_get_type(c) == json_type_array, json_object_array_length(c) == a.count else {
                mismatches += 1; Issue.record("\(path): array"); return
            }
            for (i, x) in a.enumerated() {
                guard let item = json_object_array_get_idx(c, i) else {
                    if x != .null { mismatches += 1; Issue.record("\(path)[\(i)]: null in json-c") }
                    continue
                }
                compare(x, item, path: "\(path)[\(i)]", mismatches: &mismatches)
            }
        case .object(let o):
            guard json_object_get_type(c) == json_type_object, Int(json_object_object_length(c)) == o.count else {
                mismatches += 1; Issue.record("\(path): object"); return
            }
            for (k, x) in o.members {
                var child: OpaquePointer?
                guard json_object_object_get_ex(c, k, &child) != 0 else { mismatches += 1; Issue.record("\(path).\(k) missing"); return }
                guard let child else {  // json-c represents null as a NULL object
                    if x != .null { mismatches += 1; Issue.record("\(path).\(k): null in json-c") }
                    continue
                }
                compare(x, child, path: "\(path).\(k)", mismatches: &mismatches)
            }
        }
    }

    static let realdata: String = SharedData.realdata
}
