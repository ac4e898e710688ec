import Foundation
import Testing
import TestSupport

/// The conventions users bring from mergekit and transformers, and the CLI's exit codes and options.
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
        let r = try LEP.run(
            ["vocab", "train", "--corpus", corpus, "--type", "bpe", "--size", "400", "-o", tmp + "/t.model"],
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

    /// vocab build/init refuse through the parsers pipelines use, worded as flags (exit 64).
    @Test func vocabOptionsRefusedAsFlags() throws {
        let cases: [([String], String)] = [
            (
                ["vocab", "init", "--model", Self.toy + "/base", "--tokenizer", Self.toy + "/donor", "--occurrence-map", "m.json", "-o", "x"],
                "--occurrence-map: only applies to agg occurrence"
            ),
            (
                ["vocab", "build", "--mode", "extend", "--old", Self.toy + "/base", "--new", Self.toy + "/donor", "--keep", "many", "-o", "x"],
                "--keep: expects an integer"
            ),
            (
                ["vocab", "build", "--mode", "optimize", "--old", Self.toy + "/base", "--new", Self.toy + "/donor", "-o", "x"],
                "--corpus: mode optimize needs a corpus file"
            )
        ]
        for (args, message) in cases {
            let r = try LEP.run(args)
            #expect(r.status == 64 && r.stderr.contains(message), "\(args): \(r.status) \(r.stderr)")
        }
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
            (["-o", tmp + "/x", "--fit-precision", "float32"], 64, "--fit-precision"),
            // The rules between options, worded as flags (a pipeline step gets the same rules, worded as keys).
            (["-o", tmp + "/x", "--delta-shared", "exact"], 64, "--delta-shared: only applies to mode delta"),
            (["-o", tmp + "/x", "--alpha-scale", "2"], 64, "--alpha-scale: applies to LoRA donors"),
            (["-o", tmp + "/x", "--mode", "sideways"], 64, "--mode: unknown value 'sideways'"),
            // The library names the option neutrally; the command line words it as the flag typed.
            (["-o", tmp + "/x", "--donor-base", Self.toy + "/base"], 1, "error: --donor-base: "),
            (["-o", tmp + "/out"], 1, "already exists; choose another output or pass --force to replace it")
        ]
        for (extra, status, message) in cases {
            let r = try LEP.run(common + extra)
            #expect(r.status == status && r.stderr.contains(message), "\(extra): \(r.status) \(r.stderr)")
            #expect(!r.stderr.contains("[propagate]"), "\(extra): refused after a stage began: \(r.stderr)")
        }
    }

    @Test func propagateFitPrecisionIsRecorded() throws {
        let tmp = makeTempDir(); defer { try? FileManager.default.removeItem(atPath: tmp) }
        let common = ["propagate", "--base", Self.toy + "/base", "--instruct", Self.toy + "/instruct", "--donor", Self.toy + "/donor", "--json"]
        for precision in ["mixed", "float64"] {
            let r = try LEP.run(common + ["-o", tmp + "/" + precision, "--fit-precision", precision])
            #expect(r.status == 0, "\(precision): \(r.stderr)")
            let doc = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
            let modules = doc?["modules"] as? [[String: Any]] ?? []
            #expect(modules.count == 2, "\(r.stdout)")
            for m in modules {
                // mixed: kept, or refitted in float64 with the reason recorded.
                let used = m["fit_precision"] as? String
                if precision == "float64" { #expect(used == "float64") } else { #expect(used == "mixed" || m["float64_refit_reason"] is String, "\(m)") }
            }
        }
        let help = try LEP.run(["help", "propagate"])
        #expect(help.stdout.contains("--fit-precision"))
    }

    /// `LEP_THREADS` sets the threads of the float64 fit's BLAS/LAPACK calls, whatever OpenBLAS's own
    /// `OPENBLAS_NUM_THREADS` says: the streaming fit and `--compat reference`'s gelsy alike.
    @Test func lepThreadsGovernsTheFitsBLASThreads() throws {
        let tmp = makeTempDir(); defer { try? FileManager.default.removeItem(atPath: tmp) }
        let common = ["propagate", "--base", Self.toy + "/base", "--instruct", Self.toy + "/instruct", "--donor", Self.toy + "/donor", "--json"]
        for (extra, name) in [(["--fit-precision", "float64"], "stream"), (["--compat", "reference"], "gelsy")] {
            for (lep, openblas) in [("1", "2"), ("2", "1")] {
                let r = try LEP.run(common + extra + ["-o", tmp + "/\(name)-\(lep)"], environment: ["LEP_THREADS": lep, "OPENBLAS_NUM_THREADS": openblas])
                #expect(r.status == 0, "\(name): \(r.stderr)")
                let doc = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
                let modules = doc?["modules"] as? [[String: Any]] ?? []
                #expect(!modules.isEmpty, "\(r.stdout)")
                for m in modules { #expect((m["blas_threads"] as? Int) == Int(lep), "\(name), LEP_THREADS=\(lep): \(m)") }
            }
        }
    }

    /// Exit codes as documented: 64 for a bad command line, 1 for a failure of the work or its inputs.
    @Test func exitCodesPerCommand() throws {
        let tmp = makeTempDir(); defer { try? FileManager.default.removeItem(atPath: tmp) }
        let m = Self.toy + "/instruct", tok = SharedData.fixtures + "/tokenizers/bytebpe", none = tmp + "/nonexistent"
        let recipe = "recipes/lep/llama3_bpe.yml"
        let table: [(String, [String], Int32)] = [
            ("inspect", ["inspect"], 64), ("inspect", ["inspect", none], 1),
            ("convert", ["convert", "a"], 64), ("convert", ["convert", none, tmp + "/c"], 1),
            ("convert", ["convert", m, tmp + "/c", "-o", tmp + "/d"], 64),
            ("synth", ["synth", tmp + "/s"], 64), ("synth", ["synth", "--preset", "tiny-llama3", "-o", m], 1),
            ("run", ["run", m], 64), ("run", ["run", none, "--ids", "1"], 1), ("run", ["run", m, "--ids", "1", "--no-special"], 64),
            ("verify", ["verify"], 64), ("verify", ["verify", none], 1), ("verify", ["verify", m, "--text", none], 1),
            ("propagate", ["propagate", "-o", tmp + "/p"], 64), ("propagate", ["propagate", "--base", none, "--instruct", none, "--donor", none, "-o", tmp + "/p"], 1),
            ("vocab", ["vocab", "frobnicate", "-o", tmp + "/v"], 64), ("vocab", ["vocab", "build", "--mode", "extend", "--old", none, "--new", tok, "-o", tmp + "/v"], 1),
            ("tokenize", ["tokenize", "--text", "a"], 64), ("tokenize", ["tokenize", "--tokenizer", none, "--text", "a"], 1),
            ("detokenize", ["detokenize", "--tokenizer", tok], 64), ("detokenize", ["detokenize", "--tokenizer", tok, "--ids", "99999"], 1),
            ("tokstats", ["tokstats", "--tokenizer", tok], 64), ("tokstats", ["tokstats", "--tokenizer", tok, none], 1),
            ("merge", ["merge"], 64), ("merge", ["merge", none, tmp + "/mm"], 1),
            ("methods", ["methods", "extra"], 64),
            ("lora", ["lora", "frobnicate", m, m, "-o", tmp + "/l"], 64), ("lora", ["lora", "merge", m, none, "-o", tmp + "/l"], 1),
            ("lora", ["lora", "merge", m, m, "-o", tmp + "/l", "--dtype", "int8"], 64),
            ("diff", ["diff", m, m], 64), ("diff", ["diff", none, m, "-o", tmp + "/d"], 1),
            ("apply", ["apply", m, m], 64), ("apply", ["apply", m, none, "-o", tmp + "/a"], 1),
            ("eval", ["eval", m, "-o", tmp + "/e", "--tasks", "bogus"], 64), ("eval", ["eval", none, "-o", tmp + "/e"], 1),
            ("pipeline", ["pipeline", recipe, "--dry-run"], 64), ("pipeline", ["pipeline", none], 1),
            ("pipeline", ["pipeline", recipe, "--dry-run", "--set", "NOPE=1"], 64),
            ("repeated option", ["convert", m, tmp + "/c", "--dtype", "f32", "--dtype", "f16"], 64)
        ]
        for (name, args, status) in table {
            let r = try LEP.run(args, cwd: SharedData.packageRoot)
            #expect(r.status == status, "\(name): lep \(args.joined(separator: " ")) → \(r.status), expected \(status): \(r.stderr)")
            #expect(r.status != 64 || r.stderr.contains("usage: lep"), "\(name): a usage error prints the usage")
        }
        // --from naming no step is a usage error too.
        let work = tmp + "/w"
        let sets = [
            "--set", "BASE=fixtures/lep/bl/base", "--set", "INSTRUCT=fixtures/lep/bl/instruct", "--set", "NEW_SPM=fixtures/vocab/new_bpe.model",
            "--set", "WORK=\(work)", "--set", "DONOR=\(work)/init"
        ]
        let from = try LEP.run(["pipeline", recipe, "--dry-run", "--from", "nope"] + sets, cwd: SharedData.packageRoot)
        #expect(from.status == 64 && from.stderr.contains("nope"), "\(from.stderr)")
    }

    @Test func outputOptionAndSingleFileConvert() throws {
        let tmp = makeTempDir(); defer { try? FileManager.default.removeItem(atPath: tmp) }
        let m = Self.toy + "/instruct"
        let a = try LEP.run(["convert", m, "-o", tmp + "/a", "--dtype", "f32"])
        #expect(a.status == 0, "\(a.stderr)")
        #expect(FileManager.default.fileExists(atPath: tmp + "/a/config.json"))
        // IN.safetensors → OUT.safetensors is one file, not a folder.
        let f = try LEP.run(["convert", tmp + "/a/model.safetensors", tmp + "/b.safetensors", "--dtype", "bf16", "--json"])
        #expect(f.status == 0, "\(f.stderr)")
        var isDir: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: tmp + "/b.safetensors", isDirectory: &isDir) && !isDir.boolValue)
        #expect(try LEP.run(["inspect", tmp + "/b.safetensors"]).status == 0)
        // bf16 → f32 → bf16 gives back the instruct model's tensor bytes.
        let again = try LEP.run(["convert", tmp + "/a/model.safetensors", tmp + "/b.safetensors"])
        #expect(again.status == 1 && again.stderr.contains("--force"))
        #expect(try LEP.run(["convert", tmp + "/a/model.safetensors", tmp + "/b.safetensors", "--force"]).status == 0)
        // synth -o.
        #expect(try LEP.run(["synth", "--preset", "tiny-mistral", "-o", tmp + "/s"]).status == 0)
    }

    @Test func convertKeepsAModelTypeLepCannotRun() throws {
        let tmp = makeTempDir(); defer { try? FileManager.default.removeItem(atPath: tmp) }
        #expect(try LEP.run(["synth", "--preset", "tiny-llama3", tmp + "/m"]).status == 0)
        var config = try String(contentsOfFile: tmp + "/m/config.json", encoding: .utf8)
        config = config.replacingOccurrences(of: "\"llama\"", with: "\"qwen2\"").replacingOccurrences(of: "LlamaForCausalLM", with: "Qwen2ForCausalLM")
        try config.write(toFile: tmp + "/m/config.json", atomically: true, encoding: .utf8)
        let r = try LEP.run(["convert", tmp + "/m", tmp + "/q", "--dtype", "f32"])
        #expect(r.status == 0, "\(r.stderr)")
        let out = try String(contentsOfFile: tmp + "/q/config.json", encoding: .utf8)
        #expect(out.contains("qwen2") && out.contains("float32"))
        // inspect says why the config was not understood (it used to say "no config.json").
        let i = try LEP.run(["inspect", tmp + "/q"])
        #expect(i.stdout.contains("config.json not understood") && i.stdout.contains("qwen2"), "\(i.stdout)")
        #expect(!i.stdout.contains("no config.json"))
    }

    @Test func mergeTakesMergekitsPositionalOutput() throws {
        let tmp = makeTempDir(); defer { try? FileManager.default.removeItem(atPath: tmp) }
        let r = try LEP.run(["merge", "recipes/slerp.yml", tmp + "/out", "--json"], cwd: SharedData.packageRoot)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: tmp + "/out/config.json"))
        let summary = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        #expect(summary?["method"] as? String == "slerp", "\(r.stdout)")
        let both = try LEP.run(["merge", "recipes/slerp.yml", tmp + "/x", "-o", tmp + "/y"], cwd: SharedData.packageRoot)
        #expect(both.status == 64)
    }

    @Test func repeatedTokenizersAreAllShown() throws {
        let a = SharedData.fixtures + "/tokenizers/bytebpe", b = SharedData.fixtures + "/tokenizers/spm_bpe_hf"
        let corpus = SharedData.packageRoot + "/scripts/fixtures/tiny_corpus.txt"
        let r = try LEP.run(["tokstats", "--tokenizer", a, "--tokenizer", b, corpus, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]]
        #expect(rows?.count == 2)
    }

    @Test func promptStartingWithBOSGetsNoSecondBOS() throws {
        let tok = SharedData.fixtures + "/tokenizers/bytebpe"
        // Ids from fixtures/prompt_bos (transformers): "<|begin_of_text|>hello world" → [0, 701].
        let r = try LEP.run(["tokenize", "--tokenizer", tok, "--text", "<|begin_of_text|>hello world"])
        #expect(r.status == 0 && r.stdout == "0 701\n", "\(r.stdout)")
        #expect(r.stderr.contains("warning") && r.stderr.contains("BOS"))
        let plain = try LEP.run(["tokenize", "--tokenizer", tok, "--text", "hello world"])
        #expect(plain.stdout == "0 701\n" && !plain.stderr.contains("warning"))
        let d = try LEP.run(["detokenize", "--tokenizer", tok, "--ids", "0 701", "--json"])
        let o = try JSONSerialization.jsonObject(with: Data(d.stdout.utf8)) as? [String: Any]
        #expect(o?["text"] as? String == "<|begin_of_text|>hello world", "\(d.stdout)")
    }

    /// A byte-level old tokenizer with specials inside its vocabulary (bytebpe: ids 0-2, plus 700-702 after
    /// it): sizes count each id once, only the specials after the vocabulary move, ids stay contiguous.
    @Test func vocabExtendReportsSpecialsInsideTheOldVocabulary() throws {
        let tmp = makeTempDir(); defer { try? FileManager.default.removeItem(atPath: tmp) }
        let r = try LEP.run([
            "vocab", "build", "--mode", "extend", "--old", SharedData.fixtures + "/tokenizers/bytebpe",
            "--new", SharedData.fixtures + "/vocab/new_bpe.model", "-o", tmp + "/v", "--json"
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let o = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let tj = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: tmp + "/v/tokenizer.json"))) as? [String: Any])
        let vocab = try #require((tj["model"] as? [String: Any])?["vocab"] as? [String: Int])
        let added = try #require(tj["added_tokens"] as? [[String: Any]])
        let ids = Set(vocab.values).union(added.compactMap { $0["id"] as? Int })
        #expect(o["old_size"] as? Int == 703)
        #expect(o["vocabulary_size"] as? Int == ids.count && ids == Set(0..<ids.count), "ids must be contiguous: \(o)")
        let notes = (o["notes"] as? [String] ?? []).joined(separator: "\n")
        #expect(notes.contains("3 special tokens moved from old ids 700-702"), "\(notes)")
        #expect(notes.contains("3 special tokens inside the old vocabulary keep their ids (0-2)"), "\(notes)")
        #expect(added.contains { $0["id"] as? Int == 0 && $0["content"] as? String == "<|begin_of_text|>" })
    }

    /// Every option a command lists in its help appears in its usage line, and every command is in the
    /// overview and in the README's command table.
    @Test func usageLinesOptionListsAndReadmeAgree() throws {
        let overview = try LEP.run(["--help"]).stdout
        let names = overview.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("  "), !line.hasPrefix("  help") else { return nil }
            return line.split(separator: " ").first.map(String.init)
        }
        #expect(names.count >= 17, "\(overview)")
        let readme = try String(contentsOfFile: SharedData.packageRoot + "/README.md", encoding: .utf8)
        for name in names {
            let help = try LEP.run(["help", name]).stdout
            let lines = help.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let usage = lines.prefix { !$0.isEmpty }.joined(separator: " ")
            let optionsStart = lines.firstIndex { $0.hasPrefix("options") } ?? lines.count
            for line in lines[optionsStart...] where line.hasPrefix("  -") {
                let option = line.split(separator: " ").first { $0.hasPrefix("--") }.map(String.init) ?? ""
                let spelled = option == "--output" ? "-o" : option
                #expect(
                    usage.contains(spelled + " ") || usage.contains(spelled + "]") || usage.contains(spelled + "|") || usage.contains(spelled + ")"),
                    "lep \(name): \(option) is an option but not in the usage line: \(usage)")
            }
            #expect(readme.contains("`lep \(name)"), "README's command table lacks lep \(name)")
        }
        #expect(readme.contains("`lep vocab train"))
    }

    @Test func inspectShowsTheChatTemplate() throws {
        let r = try LEP.run(["inspect", Self.toy + "/instruct"])
        #expect(r.stdout.contains("chat template: default ("), "\(r.stdout)")
        let j = try LEP.run(["inspect", Self.toy + "/instruct", "--json"])
        let o = try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [String: Any]
        #expect((o?["chat_templates"] as? [String: Any])?["templates"] != nil, "\(j.stdout)")
    }

    /// The LEP output and the instruct model both have 2050 rows but different tokenizers: verify says so
    /// (it used to print "different vocabulary (2050 vs 2050)").
    @Test func verifySaysWhatDiffersFromTheReference() throws {
        let tmp = makeTempDir(); defer { try? FileManager.default.removeItem(atPath: tmp) }
        let p = try LEP.run([
            "propagate", "--base", Self.toy + "/base", "--instruct", Self.toy + "/instruct", "--donor", Self.toy + "/donor",
            "--mode", "swap", "-o", tmp + "/lep"
        ])
        #expect(p.status == 0, "\(p.stderr)")
        #expect(p.stdout.contains("appended 2 instruct added tokens"), "\(p.stdout)")
        let v = try LEP.run(["verify", tmp + "/lep", "--reference", Self.toy + "/instruct", "--skip-weight-scan"])
        #expect(v.stdout.contains("same vocab_size 2050, but the tokenizers split the text differently"), "\(v.stdout)")
        #expect(!v.stdout.contains("2050 vs 2050"))
    }

    @Test func writingCommandsPrintJSONSummaries() throws {
        let tmp = makeTempDir(); defer { try? FileManager.default.removeItem(atPath: tmp) }
        func object(_ r: LEP.Result) -> [String: Any]? { try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] }
        let s = try LEP.run(["synth", "--preset", "tiny-llama3", "-o", tmp + "/a", "--json"])
        #expect(object(s)?["layers"] != nil, "\(s.stdout)\(s.stderr)")
        #expect(try LEP.run(["synth", "--preset", "tiny-llama3", "--seed", "1", tmp + "/b"]).status == 0)
        let d = try LEP.run(["diff", tmp + "/a", tmp + "/b", "-o", tmp + "/d", "--json"])
        #expect(object(d)?["compressed_bytes"] != nil, "\(d.stdout)\(d.stderr)")
        let a = try LEP.run(["apply", tmp + "/a", tmp + "/d", "-o", tmp + "/c", "--json"])
        #expect(object(a)?["tensors"] != nil, "\(a.stdout)\(a.stderr)")
        let m = try LEP.run(["methods", "--json"])
        let methods = try JSONSerialization.jsonObject(with: Data(m.stdout.utf8)) as? [[String: Any]]
        #expect(methods?.contains { $0["name"] as? String == "ties" } == true)
    }

    /// Recipe numbers far out of range (gamma 1e300, -1e300) are not converted to Int unchecked.
    @Test func hugeRecipeNumbersDoNotTrap() throws {
        let tmp = makeTempDir(); defer { try? FileManager.default.removeItem(atPath: tmp) }
        for gamma in ["1e300", "-1e300"] {
            let recipe = """
                merge_method: breadcrumbs
                base_model: fixtures/merge/models/base
                models:
                  - model: fixtures/merge/models/a
                    parameters: {weight: 0.6, density: 0.8, gamma: \(gamma)}
                  - model: fixtures/merge/models/b
                    parameters: {weight: 0.4, density: 0.8, gamma: 0.05}
                """
            try recipe.write(toFile: tmp + "/r.yml", atomically: true, encoding: .utf8)
            let r = try LEP.run(["merge", tmp + "/r.yml", tmp + "/out", "--force"], cwd: SharedData.packageRoot)
            #expect(r.status == 0 || r.status == 1, "gamma \(gamma): status \(r.status) \(r.stderr)")
        }
    }
}
