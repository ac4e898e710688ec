import Foundation
import Testing
import TestSupport

/// `lep merge`, `lep methods`, `lep lora merge`, `lep diff` / `lep apply` through the binary.
@Suite struct MergeCLITests {
    static let root = SharedData.packageRoot

    static func lep(_ args: [String], cwd: String = root) throws -> LEP.Result { try LEP.run(args, cwd: cwd) }

    static func temp() -> String { makeTempDir() }

    @Test func dryRunPrintsThePlanAndWritesNothing() throws {
        let out = Self.temp() + "/out"
        let r = try Self.lep(["merge", "recipes/ties.yml", "-o", out, "--dry-run"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("method:      ties"))
        #expect(r.stdout.contains("base    base_model: fixtures/merge/models/base"))
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func mergeWritesAModelDirectory() throws {
        let out = Self.temp() + "/out"
        let r = try Self.lep(["merge", "recipes/chat_vector.json", "-o", out])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("wrote \(out): 21 tensors"))
        for f in ["model.safetensors", "config.json", "lep_recipe.json", "lep_merge.json"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + f), "\(f) missing")
        }
        // Refuses to overwrite without --force.
        let again = try Self.lep(["merge", "recipes/chat_vector.json", "-o", out])
        #expect(again.status == 1)
        #expect(try Self.lep(["merge", "recipes/chat_vector.json", "-o", out, "--force"]).status == 0)
    }

    @Test func errorsNameTheCulprit() throws {
        let dir = Self.temp()
        try "merge_method: linear\nmodels:\n  - model: fixtures/merge/models/a\n    parameters: {wieght: 1}\n".write(toFile: dir + "/bad.yml", atomically: true, encoding: .utf8)
        let r = try Self.lep(["merge", dir + "/bad.yml", "-o", dir + "/out"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("models[0].parameters.wieght"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/out"))
    }

    @Test func methodsListsEveryMethod() throws {
        let r = try Self.lep(["methods"])
        #expect(r.status == 0)
        for m in ["linear", "task_arithmetic", "ties", "dare_linear", "dare_ties", "breadcrumbs", "breadcrumbs_ties", "della", "della_linear", "slerp", "model_stock", "passthrough"] {
            #expect(r.stdout.contains("\n\(m): ") || r.stdout.hasPrefix("\(m): "), "\(m) not listed")
        }
    }

    @Test func loraMergeAndTaskVectors() throws {
        let dir = Self.temp()
        let m = "fixtures/merge/models"
        let l = try Self.lep(["lora", "merge", "\(m)/a", "\(m)/a_lora", "-o", dir + "/merged"])
        #expect(l.status == 0, "\(l.stderr)")
        let d = try Self.lep(["diff", "\(m)/base", "\(m)/a", "-o", dir + "/delta", "--dtype", "f32"])
        #expect(d.status == 0, "\(d.stderr)")
        #expect(d.stdout.contains(", ratio "))
        let a = try Self.lep(["apply", "\(m)/base", dir + "/delta", "-o", dir + "/back"])
        #expect(a.status == 0, "\(a.stderr)")
        let orig = FileManager.default.contents(atPath: Self.root + "/\(m)/a/model.safetensors")
        #expect(FileManager.default.contents(atPath: dir + "/back/model.safetensors") == orig, "apply(diff) did not reproduce the tuned model")
    }
}
