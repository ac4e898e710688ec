import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import LEPJSON
import Testing
@testable import Evaluation

struct ReportTests {
    static func sample() throws -> EvaluationReport {
        let models = [
            ReportModel(name: "instruct", path: "models/instruct", headerHash: "sha256:aa11", details: [("architecture", "LlamaForCausalLM")]),
            ReportModel(name: "lep-swap", path: "out/lep <swap>", headerHash: "sha256:bb22")
        ]
        var settings = JSONObject()
        settings["tasks"] = .array([.string("copy"), .string("mc")])
        settings["ctx"] = .number(JSONNumber(512))
        return try EvaluationReport(
            tool: "lep 0.1.0", models: models, settings: settings,
            entries: [
                ReportEntry(model: "instruct", task: "text-ru", metric: "bits_per_byte", value: 1.23456, n: 2699, isMain: true, higherIsBetter: false),
                ReportEntry(model: "lep-swap", task: "text-ru", metric: "bits_per_byte", value: 0.98765, n: 2699, isMain: true, higherIsBetter: false),
                ReportEntry(model: "instruct", task: "copy-ru-paragraph", metric: "copy99", value: 2.0 / 3.0, n: 3, standardError: 0.3333333, isMain: true),
                ReportEntry(model: "lep-swap", task: "copy-ru-paragraph", metric: "copy99", value: 1.0 / 3.0, n: 3, standardError: 0.3333333, isMain: true),
                ReportEntry(model: "instruct", task: "mc-ru", metric: "acc", value: 0.75, n: 18, standardError: 0.105)
            ])
    }

    @Test func markdownTable() throws {
        let md = ReportWriter.markdown(try Self.sample())
        #expect(md.contains("| task | metric | n | instruct | lep-swap |"))
        #expect(md.contains("| text-ru | bits_per_byte ↓ | 2699 | 1.2346 | **0.9877** |"))
        #expect(md.contains("| copy-ru-paragraph | copy99 | 3 | **0.6667 ± 0.3333** | 0.3333 ± 0.3333 |"))
        #expect(md.contains("| mc-ru | acc | 18 | 0.7500 ± 0.1050 | – |"))
    }

    @Test func jsonReport() throws {
        let text = ReportWriter.json(try Self.sample())
        let v = try JSONParser.parse(text)
        #expect(v["models"]?.array?.first?["header_hash"]?.string == "sha256:aa11")
        let results = try #require(v["results"]?.array)
        #expect(results.count == 5)
        #expect(results[4]["stderr"]?.number?.double == 0.105)
        #expect(results[0]["stderr"] == .null)
        #expect(v["settings"]?["ctx"]?.number?.int64 == 512)
    }

    @Test func svgChartIsWellFormedAndEscaped() throws {
        let svg = ReportWriter.svg(try Self.sample())
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(svg.hasSuffix("</svg>\n"))
        #expect(svg.contains("copy99"))
        #expect(!svg.contains("mc-ru"))  // only main metrics are charted
        #expect(svg.components(separatedBy: "<rect").count - 1 == 1 + 4 + 2)  // background, 4 bars, 2 legend keys
        let xml = XMLParser(data: Data(svg.utf8))
        #expect(xml.parse())
    }

    @Test func twoRunsAreByteIdentical() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("lep-report-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: base) }
        let a = try ReportWriter.write(try Self.sample(), to: base + "-a")
        let b = try ReportWriter.write(try Self.sample(), to: base + "-b")
        defer { try? FileManager.default.removeItem(atPath: base + "-a"); try? FileManager.default.removeItem(atPath: base + "-b") }
        #expect(a.count == 3)
        for (x, y) in zip(a, b) {
            #expect(try Data(contentsOf: URL(fileURLWithPath: x)) == Data(contentsOf: URL(fileURLWithPath: y)), "\(x)")
        }
        #expect(!(try String(contentsOfFile: a[0], encoding: .utf8)).contains("time"))
    }

    @Test func invalidReportsAreRefused() throws {
        let m = ReportModel(name: "a", path: "p", headerHash: "h")
        #expect(throws: EvaluationError.report("two models are named 'a'; give them distinct names")) {
            try EvaluationReport(tool: "t", models: [m, m], entries: [])
        }
        #expect(throws: EvaluationError.report("entry t/acc names unknown model 'b'")) {
            try EvaluationReport(tool: "t", models: [m], entries: [ReportEntry(model: "b", task: "t", metric: "acc", value: 1, n: 1)])
        }
        #expect(throws: EvaluationError.report("a t/ppl is not finite (inf)")) {
            try EvaluationReport(tool: "t", models: [m], entries: [ReportEntry(model: "a", task: "t", metric: "ppl", value: .infinity, n: 1)])
        }
    }

    @Test func decimalFormatting() {
        #expect(DecimalFormat.fixed(0.12345, 3) == "0.123")
        #expect(DecimalFormat.fixed(-0.0004, 3) == "0.000")
        #expect(DecimalFormat.fixed(-1.5, 0) == "-2")
        #expect(DecimalFormat.fixed(0.05, 4) == "0.0500")
        #expect(DecimalFormat.value(1234.56) == "1234.6")
    }
}
