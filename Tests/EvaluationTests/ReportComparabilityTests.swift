import LEPJSON
import Testing
@testable import Evaluation

/// Per-token numbers of models with different tokenizers are not compared (no bold), bits per
/// byte still is, and the Markdown report says what `n` counts.
struct ReportComparabilityTests {
    static func report(vocabularies: (String, String), tokens: (Int, Int)) throws -> EvaluationReport {
        let models = [
            ReportModel(name: "instruct", path: "a", headerHash: "sha256:aa", details: [("vocab_size", vocabularies.0)]),
            ReportModel(name: "lep", path: "b", headerHash: "sha256:bb", details: [("vocab_size", vocabularies.1)])
        ]
        return try EvaluationReport(
            tool: "lep test", models: models, settings: JSONObject(),
            entries: [
                ReportEntry(model: "instruct", task: "text_ru", metric: "bits_per_byte", value: 1.5, n: tokens.0, isMain: true, higherIsBetter: false),
                ReportEntry(model: "lep", task: "text_ru", metric: "bits_per_byte", value: 1.2, n: tokens.1, isMain: true, higherIsBetter: false),
                ReportEntry(model: "instruct", task: "text_ru", metric: "perplexity", value: 4.0, n: tokens.0, higherIsBetter: false),
                ReportEntry(model: "lep", task: "text_ru", metric: "perplexity", value: 9.0, n: tokens.1, higherIsBetter: false)
            ])
    }

    @Test func differentTokenizersAreNotBolded() throws {
        let md = ReportWriter.markdown(try Self.report(vocabularies: ("128256", "32256"), tokens: (1000, 600)))
        #expect(md.contains("| text_ru | perplexity ↓ † | 600/1000 | 4.0000 | 9.0000 |"), "\(md)")
        #expect(md.contains("| text_ru | bits_per_byte ↓ | 600/1000 | 1.5000 | **1.2000** |"), "\(md)")
        #expect(md.contains("†: per-token values"))
        #expect(md.contains("n: what a value averages over"))
    }

    @Test func sameTokenizerStillBolded() throws {
        let md = ReportWriter.markdown(try Self.report(vocabularies: ("32000", "32000"), tokens: (600, 600)))
        #expect(md.contains("| text_ru | perplexity ↓ | 600 | **4.0000** | 9.0000 |"), "\(md)")
        #expect(!md.contains("†"))
    }
}
