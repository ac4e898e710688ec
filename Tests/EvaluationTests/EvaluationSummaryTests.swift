import LEPJSON
import Testing
@testable import Evaluation

/// `lep eval --summary-json`: every model gets every key (null where a task did not run), values,
/// standard errors and item counts come from the report's entries, paired comparisons from its comparisons.
struct EvaluationSummaryTests {
    @Test func everyModelEveryKey() throws {
        let ids = ["a", "b", "c", "d"]
        let entries = [
            ReportEntry(model: "instruct", task: "tokenizer_ru", metric: "chars_per_token", value: 1.5, n: 100),
            ReportEntry(model: "donor", task: "tokenizer_ru", metric: "chars_per_token", value: 2.5, n: 60),
            ReportEntry(model: "instruct", task: "text_ru", metric: "bits_per_byte", value: 2.0, n: 100, standardError: 0.1, higherIsBetter: false),
            try ReportEntry.mean(model: "instruct", task: "copy_ru", metric: "copy99", ids: ids, scores: [1, 1, 0, 1], isMain: true),
            try ReportEntry.mean(model: "instruct", task: "chat_format", metric: "ends_turn", ids: ["x", "y"], scores: [1, 0])
        ]
        let r = try EvaluationReport(
            tool: "lep",
            models: [
                ReportModel(name: "instruct", path: "i", headerHash: "sha256:1"),
                ReportModel(name: "donor", path: "d", headerHash: "sha256:2")
            ],
            entries: entries)
        let v = try JSONParser.parse(EvaluationSummary.json(r, languages: ["en", "ru"]))
        #expect(v["format"]?.string == "lep-eval-summary/1" && v["reference"]?.string == "instruct")
        let i = try #require(v["models"]?["instruct"]?.object)
        let d = try #require(v["models"]?["donor"]?.object)
        #expect(i.keys == d.keys, "both models have the same keys")
        for k in [
            "ru_chars_per_token", "ru_bits_per_byte", "en_bits_per_byte", "copy_ru_copy99", "copy_en_copy99",
            "n_copy_ru", "n_copy_en", "chat_format", "n_chat_format", "copy_ru_copy99_stderr", "paired"
        ] {
            #expect(i[k] != nil, "missing \(k)")
        }
        #expect(i["ru_chars_per_token"]?.number?.double == 1.5 && d["ru_chars_per_token"]?.number?.double == 2.5)
        #expect(i["ru_bits_per_byte_stderr"]?.number?.double == 0.1)
        #expect(i["copy_ru_copy99"]?.number?.double == 0.75 && i["n_copy_ru"]?.number?.int64 == 4)
        #expect(abs((i["copy_ru_copy99_stderr"]?.number?.double ?? 0) - 0.25) < 1e-15)
        #expect(i["chat_format"]?.number?.double == 0.5 && i["n_chat_format"]?.number?.int64 == 2)
        #expect(d["copy_ru_copy99"] == .null && d["n_copy_ru"] == .null && d["chat_format"] == .null)
        #expect(i["en_bits_per_byte"] == .null)
    }
}
