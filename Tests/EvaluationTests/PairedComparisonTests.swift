import Foundation
import LEPJSON
import Testing
@testable import Evaluation
import TestSupport

/// Paired comparisons (mean difference, standard error, 95 % bootstrap interval) against numpy:
/// fixtures/eval/paired_bootstrap.json from scripts/fixtures/gen_paired_bootstrap.py. The resample
/// means are summed in the same order as numpy's reference loop, so they agree to the last bits;
/// tolerance 1e-12.
struct PairedComparisonTests {
    static let fixture: JSONValue = (try? JSONParser.parse(String(contentsOfFile: SharedData.fixtures + "/eval/paired_bootstrap.json", encoding: .utf8))) ?? .null

    static func doubles(_ v: JSONValue?) -> [Double] { (v?.array ?? []).compactMap { $0.number?.double } }

    @Test func splitMix64MatchesTheReferenceGenerator() throws {
        var r = SplitMix64(seed: 0)
        #expect(r.next() == 0xE220_A839_7B1D_CDAF)  // splitmix64.c, seed 0
        let published = try #require(Self.fixture["splitmix64_seed0_first"]?.array).compactMap { $0.string.flatMap { UInt64($0) } }
        var s = SplitMix64(seed: 0)
        #expect(published.count == 3)
        #expect(published == [s.next(), s.next(), s.next()])
    }

    /// Worked by hand: a = [1, 0, 1, 0], b = [1, 1, 0, 1] → d = [0, 1, −1, 1], mean 0.25,
    /// sample sd √(2.75 / 3), standard error sd / 2 = 0.478713…; seed 0 draws indices 3, 0, 3, 0
    /// (outputs mod 4), so the single resample is [1, 0, 1, 0] with mean 0.5 = both interval ends.
    @Test func handWorkedExample() throws {
        var r = SplitMix64(seed: 0)
        #expect((0..<4).map { _ in r.next(below: 4) } == [3, 0, 3, 0])
        let s = try PairedComparison.statistics(reference: [1, 0, 1, 0], candidate: [1, 1, 0, 1], resamples: 1, seed: 0)
        #expect(s.mean == 0.25)
        #expect(abs(try #require(s.standardError) - (2.75 / 3).squareRoot() / 2) < 1e-15)
        #expect(s.low == 0.5 && s.high == 0.5)
    }

    @Test(arguments: ["tiny", "binary120", "continuous37"])
    func matchesNumpy(_ name: String) throws {
        let c = try #require(Self.fixture["cases"]?[name], "fixtures/eval/paired_bootstrap.json lacks case \(name)")
        let a = Self.doubles(c["a"]), b = Self.doubles(c["b"])
        let resamples = Int(try #require(c["resamples"]?.number?.int64))
        let seed = try #require(c["seed"]?.number?.uint64)
        let s = try PairedComparison.statistics(reference: a, candidate: b, resamples: resamples, seed: seed)
        #expect(a.count == Int(try #require(c["n"]?.number?.int64)))
        for (what, lep, np) in [
            ("mean", s.mean, c["mean_difference"]), ("stderr", s.standardError ?? .nan, c["stderr"]),
            ("ci_low", s.low, c["ci_low"]), ("ci_high", s.high, c["ci_high"])
        ] {
            let want = try #require(np?.number?.double)
            #expect(abs(lep - want) <= 1e-12, "\(name) \(what): lep \(lep) vs numpy \(want)")
        }
    }

    @Test func verdicts() throws {
        func c(_ mean: Double, _ lo: Double, _ hi: Double, higher: Bool = true) -> PairedComparison.Verdict {
            PairedComparison(
                model: "m", reference: "r", task: "t", metric: "x", n: 3, meanDifference: mean, standardError: nil,
                low: lo, high: hi, resamples: 10, seed: 1, higherIsBetter: higher
            ).verdict
        }
        #expect(c(0.2, 0.1, 0.3) == .better)
        #expect(c(0.2, 0.1, 0.3, higher: false) == .worse)
        #expect(c(-0.2, -0.3, -0.1) == .worse)
        #expect(c(0.1, -0.1, 0.3) == .unclear)
        #expect(c(0, 0, 0) == .same)
        // numpy case binary120: the interval excludes 0, so B is better.
        let k = try #require(Self.fixture["cases"]?["binary120"])
        let s = try PairedComparison.statistics(reference: Self.doubles(k["a"]), candidate: Self.doubles(k["b"]), resamples: 2000, seed: 20_261_204)
        #expect(s.low > 0)
    }

    @Test func comparesOnlyTheSameItemsWithTheFirstModel() throws {
        func e(_ model: String, _ task: String, _ ids: [String], _ scores: [Double]) throws -> ReportEntry {
            try ReportEntry.mean(model: model, task: task, metric: "copy99", ids: ids, scores: scores)
        }
        let entries = [
            try e("a", "copy_ru", ["x", "y", "z"], [1, 0, 0]),
            try e("b", "copy_ru", ["x", "y", "z"], [1, 1, 1]),
            try e("c", "copy_ru", ["x", "y", "w"], [1, 1, 1]),  // other items: not compared
            ReportEntry(model: "b", task: "text_ru", metric: "bits_per_byte", value: 1, n: 10, higherIsBetter: false)
        ]
        let cs = try PairedComparison.againstFirst(models: ["a", "b", "c"], entries: entries, resamples: 200, seed: 3)
        #expect(cs.count == 1)
        let only = try #require(cs.first)
        #expect(only.model == "b" && only.reference == "a" && only.task == "copy_ru" && only.n == 3)
        #expect(abs(only.meanDifference - 2.0 / 3.0) < 1e-15)
        #expect(throws: EvaluationError.metric("paired comparison of 2 scores with 3 reference scores; the items must be the same")) {
            try PairedComparison.statistics(reference: [1, 2, 3], candidate: [1, 2], resamples: 10, seed: 0)
        }
        #expect(throws: EvaluationError.self) { try e("a", "t", ["x"], [1, 2]) }
    }

    @Test func reportsShowTheComparison() throws {
        let entries = [
            try ReportEntry.mean(model: "instruct", task: "copy_ru", metric: "copy99", ids: ["1", "2", "3", "4"], scores: [1, 1, 0, 1], isMain: true),
            try ReportEntry.mean(model: "lep", task: "copy_ru", metric: "copy99", ids: ["1", "2", "3", "4"], scores: [1, 0, 0, 1], isMain: true)
        ]
        let cs = try PairedComparison.againstFirst(models: ["instruct", "lep"], entries: entries, resamples: 2000, seed: 5)
        let r = try EvaluationReport(
            tool: "lep",
            models: [
                ReportModel(name: "instruct", path: "i", headerHash: "sha256:1"),
                ReportModel(name: "lep", path: "l", headerHash: "sha256:2")
            ],
            entries: entries, comparisons: cs)
        let md = ReportWriter.markdown(r)
        #expect(md.contains("## Paired comparison with instruct"))
        #expect(md.contains("| copy_ru | copy99 | 4 | lep | -0.2500 ± 0.2500 | ["), "\(md)")
        let json = try JSONParser.parse(ReportWriter.json(r))
        let c = try #require(json["comparisons"]?.array?.first)
        #expect(c["model"]?.string == "lep" && c["reference"]?.string == "instruct")
        #expect(c["mean_difference"]?.number?.double == -0.25)
        #expect(c["resamples"]?.number?.int64 == 2000)
        #expect(c["verdict"]?.string != nil)
    }
}
