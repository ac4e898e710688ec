import Foundation
import Testing
import TestSupport

/// `lep pipeline` through the binary: --set, --dry-run, the pause at an external step, --from, and a
/// failing external command.
@Suite struct PipelineCLITests {
    static let root = SharedData.packageRoot

    static func lep(_ args: [String]) throws -> LEP.Result { try LEP.run(args, cwd: root) }

    static func sets(_ work: String) -> [String] {
        [
            "--set", "BASE=fixtures/lep/bl/base", "--set", "INSTRUCT=fixtures/lep/bl/instruct",
            "--set", "NEW_SPM=fixtures/vocab/new_bpe.model", "--set", "WORK=\(work)", "--set", "DONOR=\(work)/init", "--set", "TRAIN_PAUSE=true"
        ]
    }

    @Test func unboundPlaceholdersAreNamed() throws {
        let r = try Self.lep(["pipeline", "recipes/lep/llama3_bpe.yml", "--dry-run"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("--set WORK=VALUE") && r.stderr.contains("unset: BASE, INSTRUCT, NEW_SPM, WORK"), "\(r.stderr)")
    }

    @Test func dryRunThenPauseThenResume() throws {
        let work = makeTempDir()
        let dry = try Self.lep(["pipeline", "recipes/lep/llama3_bpe.yml", "--dry-run"] + Self.sets(work))
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("pause steps[2] 'train' external") && dry.stdout.contains("--from propagate"))
        #expect(!FileManager.default.fileExists(atPath: work + "/init"))
        let first = try Self.lep(["pipeline", "recipes/lep/llama3_bpe.yml"] + Self.sets(work))
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("pipeline paused at 'train'") && first.stdout.contains("--from propagate"))
        let second = try Self.lep(["pipeline", "recipes/lep/llama3_bpe.yml", "--from", "propagate"] + Self.sets(work))
        #expect(second.status == 0, "\(second.stderr)")
        #expect(FileManager.default.fileExists(atPath: work + "/llama3-8b-instruct-lep-bpe/lep_propagation.json"))
    }

    /// `--json`: the plan and the run's summary as JSON on stdout, progress lines on stderr.
    @Test func jsonPlanAndSummary() throws {
        let work = makeTempDir()
        let dry = try Self.lep(["pipeline", "recipes/lep/llama3_bpe.yml", "--dry-run", "--json"] + Self.sets(work))
        #expect(dry.status == 0, "\(dry.stderr)")
        let plan = try JSONSerialization.jsonObject(with: Data(dry.stdout.utf8)) as? [String: Any]
        let run = plan?["run"] as? [[String: Any]] ?? []
        #expect(run.map { $0["name"] as? String } == ["vocab", "init", "train"], "\(dry.stdout)")
        #expect(run.last?["pauses"] as? Bool == true && plan?["resume_from"] as? String == "propagate")
        let first = try Self.lep(["pipeline", "recipes/lep/llama3_bpe.yml", "--json"] + Self.sets(work))
        #expect(first.status == 0, "\(first.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as? [String: Any]
        #expect(summary?["status"] as? String == "paused" && summary?["paused_at"] as? String == "train", "\(first.stdout)")
        let steps = summary?["steps"] as? [[String: Any]] ?? []
        #expect(steps.map { $0["name"] as? String } == ["vocab", "init"])
        #expect(steps.allSatisfy { ($0["seconds"] as? Double ?? -1) >= 0 } && steps.last?["output"] as? String == "\(work)/init")
        #expect(first.stderr.contains("[init] vocab_init"), "\(first.stderr)")
    }

    /// Without TRAIN_PAUSE the 'train' step runs its command; here PYTHON=false makes it fail, which stops the
    /// run with an error naming the step (no Python is needed).
    @Test func failingTrainCommandStopsTheRun() throws {
        let work = makeTempDir()
        let sets = [
            "--set", "BASE=fixtures/lep/bl/base", "--set", "INSTRUCT=fixtures/lep/bl/instruct",
            "--set", "NEW_SPM=fixtures/vocab/new_bpe.model", "--set", "WORK=\(work)", "--set", "PYTHON=false"
        ]
        let dry = try Self.lep(["pipeline", "recipes/lep/llama3_bpe.yml", "--dry-run"] + sets)
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("run   steps[2] 'train' external") && dry.stdout.contains("command: false scripts/train_embeddings.py \(work)/init --text \(work)/train.txt -o \(work)/donor"))
        let r = try Self.lep(["pipeline", "recipes/lep/llama3_bpe.yml"] + sets)
        #expect(r.status != 0)
        #expect(r.stderr.contains("steps[2] 'train'") && r.stderr.contains("exited with status 1"), "\(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: work + "/init/model.safetensors"))
    }
}
