import Foundation
import Testing
import TestSupport

/// Issue 16: the conventions users bring from mergekit and transformers, and the CLI bugs 3, 5, 6.
@Suite(.serialized) struct CLIConventionTests {
    static let toy = SharedData.fixtures + "/toy"

    @Test func overviewKeepsNamesApartFromSummaries() throws {
        let help = try LEP.run(["--help"])
        #expect(help.status == 0)
        #expect(!help.stdout.contains("detokenizedecode"))
        #expect(help.stdout.contains("  detokenize  decode"))
    }

    @Test func hugeSizesAreUsageErrorsNotTraps() throws {
        for size in ["1e300GB", "inf", "nanMB", "99999999999999999999"] {
            let r = try LEP.run(["convert", "a", "b", "--shard-size", size])
            #expect(r.status == 64, "\(size): \(r.status) \(r.stderr)")
        }
    }

    @Test func vocabTrainNamesTheMissingTool() throws {
        let tmp = makeTempDir(); defer { try? FileManager.default.removeItem(atPath: tmp) }
        let corpus = SharedData.packageRoot + "/scripts/fixtures/tiny_corpus.txt"
        let r = try LEP.run(["vocab", "train", "--corpus", corpus, "--type", "bpe", "--size", "400", "-o", tmp + "/t.model"],
                            environment: ["PATH": tmp])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("spm_train") && r.stderr.contains("sentencepiece"), "\(r.stderr)")
        #expect(!r.stderr.contains("usage:"))
    }

    @Test func vocabTrainRunsSpmTrain() throws {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin"
        guard path.split(separator: ":").contains(where: { FileManager.default.isExecutableFile(atPath: "\($0)/spm_train") }) else {
            print("SKIPPED vocabTrainRunsSpmTrain: spm_train is not on PATH (make deps installs Debian's sentencepiece)")
            return
        }
        let tmp = makeTempDir(); defer { try? FileManager.default.removeItem(atPath: tmp) }
        let corpus = SharedData.packageRoot + "/scripts/fixtures/tiny_corpus.txt"
        let r = try LEP.run(["vocab", "train", "--corpus", corpus, "--type", "bpe", "--size", "400", "-o", tmp + "/t.model"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: tmp + "/t.model"))
        let again = try LEP.run(["vocab", "train", "--corpus", corpus, "--type", "bpe", "--size", "400", "-o", tmp + "/t.model"])
        #expect(again.status == 1 && again.stderr.contains("--force"), "\(again.stderr)")
    }

    @Test func evalRefusesExistingAndInputFolders() throws {
        let tmp = makeTempDir(); defer { try? FileManager.default.removeItem(atPath: tmp) }
        let model = Self.toy + "/instruct"
        let inside = try LEP.run(["eval", model, "-o", model + "/report", "--tasks", "tokenizer"])
        #expect(inside.status == 1 && inside.stderr.contains("input"), "\(inside.stderr)")
        #expect(!FileManager.default.fileExists(atPath: model + "/report"))
        try FileManager.default.createDirectory(atPath: tmp + "/full", withIntermediateDirectories: true)
        try "keep".write(toFile: tmp + "/full/notes.txt", atomically: true, encoding: .utf8)
        let full = try LEP.run(["eval", model, "-o", tmp + "/full", "--tasks", "tokenizer"])
        #expect(full.status == 1 && full.stderr.contains("--force"), "\(full.stderr)")
        #expect(!FileManager.default.fileExists(atPath: tmp + "/full/report.json"))
        let forced = try LEP.run(["eval", model, "-o", tmp + "/full", "--tasks", "tokenizer", "--force", "--json"])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(FileManager.default.fileExists(atPath: tmp + "/full/report.json"))
        #expect(FileManager.default.fileExists(atPath: tmp + "/full/notes.txt"))
        let summary = try JSONSerialization.jsonObject(with: Data(forced.stdout.utf8)) as? [String: Any]
        #expect((summary?["results"] as? [Any])?.isEmpty == false, "\(forced.stdout)")
        // An empty existing folder is fine.
        try FileManager.default.createDirectory(atPath: tmp + "/empty", withIntermediateDirectories: true)
        #expect(try LEP.run(["eval", model, "-o", tmp + "/empty", "--tasks", "tokenizer"]).status == 0)
    }

    @Test func propagateRefusesBeforeAnyStage() throws {
        let tmp = makeTempDir(); defer { try? FileManager.default.removeItem(atPath: tmp) }
        let common = ["propagate", "--base", Self.toy + "/base", "--instruct", Self.toy + "/instruct", "--donor", Self.toy + "/donor"]
        try FileManager.default.createDirectory(atPath: tmp + "/out", withIntermediateDirectories: true)
        let cases: [([String], Int32, String)] = [
            (["-o", tmp + "/out"], 1, "exists"),
            (["-o", Self.toy + "/instruct", "--force"], 1, "input"),
            (["-o", tmp + "/x", "--mode", "conversion-occurrence"], 64, "--occurrence-map"),
            (["-o", tmp + "/x", "--chat-template", tmp + "/missing.jinja"], 1, "cannot read"),
        ]
        for (extra, status, message) in cases {
            let r = try LEP.run(common + extra)
            #expect(r.status == status && r.stderr.contains(message), "\(extra): \(r.status) \(r.stderr)")
            #expect(!r.stderr.contains("[propagate]"), "\(extra): refused after a stage began: \(r.stderr)")
        }
    }
}
