import Foundation
import LEPJSON
import Merging
import Models
import Pipelines
import Propagation
import Recipes
import SafeTensors
import Surgery
import SurgeryTestSupport
import TestSupport
import Testing
import Tokenizers
import Vocabulary

/// Pipeline recipes (`lep pipeline`): every file in recipes/lep/ validates with its placeholders bound to
/// fixture models, the LLaMA-3-style and Mistral-style pipelines run on fixtures/lep, and bad pipelines
/// are refused before anything runs, naming the step and the key.
@Suite struct PipelineTests {
    static let root = SharedData.packageRoot
    static let dir = root + "/recipes/lep"
    static let files: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".yml") || $0.hasSuffix(".json") }.sorted()

    /// Placeholder bindings to fixture models for a recipe in recipes/lep/.
    static func bindings(_ file: String, work: String) -> [(String, String)] {
        let fam = file.hasPrefix("mistral") ? "sp" : "bl"
        var b: [(String, String)] = [
            ("BASE", "\(root)/fixtures/lep/\(fam)/base"), ("INSTRUCT", "\(root)/fixtures/lep/\(fam)/instruct"),
            ("NEW_SPM", "\(root)/fixtures/vocab/" + (file.contains("unigram") ? "new_unigram.model" : "new_bpe.model")),
            ("WORK", work)
        ]
        if fam == "sp" { b.append(("OLD_TOKENIZER", "\(root)/fixtures/vocab/old_spm_dir/tokenizer.model")) }
        if file.contains("optimized") { b += [("CORPUS", "\(root)/scripts/fixtures/tiny_corpus.txt"), ("KEEP", "200"), ("ADD", "100")] }
        return b
    }

    @Test func thePapersConfigurationsAreThere() {
        #expect(
            Self.files == [
                "llama3_bpe.yml", "llama3_extended.yml", "llama3_optimized.yml", "llama3_unigram.yml",
                "mistral_bpe.json", "mistral_extended.json", "mistral_unigram.json"
            ])
    }

    @Test(arguments: files)
    func recipeValidates(_ file: String) throws {
        let path = Self.dir + "/" + file
        // Unbound placeholders are refused, naming the variable and --set.
        #expect { try Pipeline.load(path: path) } throws: { "\($0)".contains("--set BASE=") || "\($0)".contains("--set") }
        let p = try Pipeline.load(path: path, overrides: Self.bindings(file, work: Fix.tempDir()))
        #expect(p.steps.map(\.type) == [.vocabBuild, .vocabInit, .external, .propagate, .external, .loraMerge])
        #expect(p.steps[3].options["donor"]?.string == p.steps[2].output)
        // 'train' runs scripts/train_embeddings.py on the initialised model; the run goes on to 'calibrate'.
        let train = p.steps[2]
        #expect(
            train.command
                == .shell(
                    "python3 scripts/train_embeddings.py \(p.steps[1].output!) --text \(p.variables["WORK"]!)/train.txt -o \(train.output!) "
                        + "--max-steps 10000 --seq-len 1024 --batch 4 --lr 1e-3 --gradient-checkpointing"))
        #expect(!train.pauses)
        let plan = try p.plan()
        #expect(plan.run.map(\.name) == ["vocab", "init", "train", "propagate", "calibrate"])
        #expect(plan.resumeFrom?.name == "calibrated")
        #expect(!plan.describe().isEmpty)
        // TRAIN_PAUSE=true: the run stops at 'train' (the donor is trained elsewhere).
        let paused = try Pipeline.load(path: path, overrides: Self.bindings(file, work: Fix.tempDir()) + [("TRAIN_PAUSE", "true")]).plan()
        #expect(paused.run.map(\.name) == ["vocab", "init", "train"])
        #expect(paused.resumeFrom?.name == "propagate")
        // Resuming with a trained donor (here: the fixture donor) validates too.
        var b = Self.bindings(file, work: Fix.tempDir())
        b.append(("DONOR", "\(Self.root)/fixtures/lep/\(file.hasPrefix("mistral") ? "sp" : "bl")/donor"))
        let resumed = try Pipeline.load(path: path, overrides: b).plan(from: "propagate")
        #expect(resumed.run.map(\.name) == ["propagate", "calibrate"])
    }

    /// The LLaMA-3 BPE pipeline on the byte-level fixture family: vocab_build → vocab_init, pause at
    /// 'train', then --from propagate with the (untrained) initialised model as the donor.
    @Test(arguments: ["llama3_bpe.yml", "mistral_extended.json"])
    func pipelineRunsOnFixtures(_ file: String) throws {
        let work = Fix.tempDir()
        let b = Self.bindings(file, work: work) + [("DONOR", work + "/init"), ("TRAIN_PAUSE", "true")]
        let p = try Pipeline.load(path: Self.dir + "/" + file, overrides: b)
        let first = try p.run(try p.plan())
        #expect(first == .paused(step: "train", description: p.steps[2].options["description"]!.string! + "; run by hand: " + p.steps[2].command!.text, resumeFrom: "propagate"))
        #expect(p.steps[2].command!.text.hasPrefix("python3 scripts/train_embeddings.py " + work + "/init --text "))
        #expect(FileManager.default.fileExists(atPath: work + "/tokenizer/tokenizer.json"))
        #expect(FileManager.default.fileExists(atPath: work + "/init/model.safetensors"))
        var lines: [String] = []
        let second = try p.run(try p.plan(from: "propagate")) { lines.append($0) }
        guard case .paused(let step, _, let resume) = second else { Issue.record("expected a pause"); return }
        #expect(step == "calibrate" && resume == "calibrated")
        let out = p.steps[3].output!
        let c = try Checkpoint(path: out)
        let tok = try loadTokenizer(directory: out)
        #expect(c.tensorCount > 0)
        #expect(try c.view("model.embed_tokens.weight").shape[0] == tok.vocabularySize)
        #expect(FileManager.default.fileExists(atPath: out + "/lep_propagation.json"))
        #expect(lines.contains { $0.contains("[propagate]") })
    }

    /// vocab_init → propagate → lora_merge-free complete run, written inline (JSON with comments), with
    /// every path from --set; the run completes without a pause.
    @Test func completePipelineFromText() throws {
        let work = Fix.tempDir()
        let text = """
            // vocab_init → propagate, no external step
            {"lep_pipeline": 1,
             "variables": {"FIX": null, "WORK": null, "OUT": "${WORK}/out"},
             "steps": [
               {"name": "init", "type": "vocab_init", "model": "${FIX}/base", "tokenizer": "${FIX}/donor", "output": "${WORK}/init"},
               {"name": "lep", "type": "propagate", "base": "${FIX}/base", "instruct": "${FIX}/instruct",
                "donor": "${steps.init.output}", "mode": "swap", "output": "${OUT}"}
             ]}
            """
        let p = try Pipeline.parse(text, path: "<test>", overrides: [("FIX", Self.root + "/fixtures/lep/bl"), ("WORK", work)])
        #expect(try p.run(try p.plan()) == .completed)
        let d = try Checkpoint(path: work + "/init"), o = try Checkpoint(path: work + "/out")
        // The output has the donor's rows plus the instruct model's extra tokens.
        let dv = try d.view("model.embed_tokens.weight"), ov = try o.view("model.embed_tokens.weight")
        #expect(ov.shape[0] >= dv.shape[0] && ov.shape[1] == dv.shape[1])
        #expect(FileManager.default.fileExists(atPath: work + "/out/lep_propagation.json"))
    }

    /// lora_merge and a nested (inline) merge recipe, YAML form.
    @Test func loraMergeThenInlineMerge() throws {
        let work = Fix.tempDir()
        let text = """
            lep_pipeline: 1
            variables:
              M: null
              WORK: null
            steps:
              - name: lora
                type: lora_merge
                model: ${M}/a
                adapter: ${M}/a_lora
                output: ${WORK}/a_merged
              - name: avg
                type: merge
                recipe:
                  merge_method: linear
                  models:
                    - model: ${steps.lora.output}
                      parameters: {weight: 0.5}
                    - model: ${M}/b
                      parameters: {weight: 0.5}
                  dtype: float32
                output: ${WORK}/avg
            """
        let p = try Pipeline.parse(text, path: "<test>", overrides: [("M", Fix.merge + "/models"), ("WORK", work)])
        #expect(try p.run(try p.plan()) == .completed)
        #expect(try Checkpoint(path: work + "/avg").tensorCount > 0)
        #expect(FileManager.default.fileExists(atPath: work + "/a_merged/" + MergeExecutor.provenanceName))
    }

    /// lora_merge's dtype takes the names a recipe's out_dtype (and the command line) takes.
    @Test func loraMergeDtypeNamesAreTheRecipeOnes() throws {
        func step(_ dtype: String) -> String {
            "{\"lep_pipeline\": 1, \"steps\": [{\"name\": \"l\", \"type\": \"lora_merge\", \"model\": \"m\", \"adapter\": \"a\", \"output\": \"o\", \"dtype\": \"\(dtype)\"}]}"
        }
        for name in ["bf16", "bfloat16", "fp16", "half", "float32", "float64", "F64"] {
            #expect(throws: Never.self) { try Pipeline.parse(step(name), path: "<t>") }
            #expect(DType(userName: name)?.isStandardFloat == true)
        }
        #expect(throws: SurgeryError.invalidValue(key: "steps[0] 'l'.dtype", reason: "expected bfloat16, float16, float32 or float64 (or bf16, f16, f32, f64), got \"int8\"")) {
            try Pipeline.parse(step("int8"), path: "<t>")
        }
    }

    static func refusal(_ text: String, set: [(String, String)] = [], from: String? = nil) -> String {
        do {
            let p = try Pipeline.parse(text, path: "<test>", overrides: set)
            _ = try p.plan(from: from)
            return "accepted"
        } catch { return "\(error)" }
    }

    static let head = "{\"lep_pipeline\": 1, \"variables\": {\"B\": \"/nonexistent-base\", \"U\": null}, \"steps\": ["

    @Test func errorsNameTheStepAndKey() {
        let init0 = "{\"name\": \"init\", \"type\": \"vocab_init\", \"model\": \"${B}\", \"tokenizer\": \"t\", \"output\": \"o\""
        let init1 = "{\"name\": \"init\", \"type\": \"vocab_init\", \"model\": \"${B}\", \"output\": \"o\""
        let cases: [(String, [(String, String)], String?, [String])] = [
            (Self.head + init0 + ", \"agg\": \"median\"}]}", [], nil, ["steps[0] 'init'.agg", "mean, sum, occurrence"]),
            (Self.head + init0 + ", \"modle\": 1}]}", [], nil, ["steps[0] 'init'.modle"]),
            (Self.head + "{\"name\": \"init\", \"type\": \"vocab_init\", \"model\": \"x\", \"output\": \"o\"}]}", [], nil, ["steps[0] 'init'.tokenizer"]),
            (
                Self.head + init0 + "}, {\"name\": \"p\", \"type\": \"propagate\", \"base\": \"a\", \"instruct\": \"b\", \"donor\": \"${steps.later.output}\", \"output\": \"q\"}]}", [], nil,
                ["steps[1] 'p'.donor", "no earlier step is named 'later'", "init"]
            ),
            (Self.head + init1 + ", \"tokenizer\": \"${U}\"}]}", [], nil, ["steps[0] 'init'.tokenizer", "--set U=VALUE"]),
            (Self.head + init1 + ", \"tokenizer\": \"${NOPE}\"}]}", [], nil, ["steps[0] 'init'.tokenizer", "${NOPE} is not declared"]),
            (Self.head + init0 + "}]}", [("X", "1")], nil, ["--set X", "declares no variable"]),
            (Self.head + init0 + "}]}", [], "nope", ["--from nope", "init"]),
            (Self.head + init0 + "}]}", [], nil, ["steps[0] 'init'.model", "/nonexistent-base", "does not exist"]),
            (Self.head + "{\"name\": \"x\", \"type\": \"train\"}]}", [], nil, ["steps[0].type", "external"]),
            (Self.head + init0 + "}, " + init0 + "}]}", [], nil, ["steps[1].name", "unique"]),
            (
                Self.head + init0 + "}, {\"name\": \"i2\", \"type\": \"vocab_init\", \"model\": \"a\", \"tokenizer\": \"t\", \"output\": \"o\"}]}", [], nil,
                ["steps[1] 'i2'.output", "also the output of step 'init'"]
            ),
            ("{\"lep_pipeline\": 1, \"variables\": {\"A\": \"${C}\", \"C\": \"${A}\"}, \"steps\": [{\"type\": \"external\", \"description\": \"d\"}]}", [], nil, ["refers to itself"]),
            ("{\"lep_pipeline\": 2, \"steps\": []}", [], nil, ["lep_pipeline", "format 1"]),
            (
                Self.head + "{\"name\": \"p\", \"type\": \"propagate\", \"base\": \"a\", \"instruct\": \"b\", \"donor\": \"d\", \"output\": \"q\", \"delta_shared\": \"exact\"}]}", [], nil,
                ["steps[0] 'p'.delta_shared", "only applies to mode delta"]
            ),
            (Self.head + "{\"name\": \"m\", \"type\": \"merge\", \"recipe\": {\"merge_method\": \"linear\", \"modles\": []}, \"output\": \"q\"}]}", [], nil, ["steps[0] 'm'.recipe", "modles"])
        ]
        for (text, set, from, needles) in cases {
            let e = Self.refusal(text, set: set, from: from)
            for n in needles { #expect(e.contains(n), "\(e) should mention \(n)") }
        }
    }

    @Test func variablesSubstituteAndHyphenatedKeysAreAccepted() throws {
        let text = """
            lep_pipeline: 1
            variables:
              A: /x
              B: ${A}/y
            steps:
              - name: t
                type: external
                description: "cost $$5 at ${B}"
                output: ${B}/z
            """
        let p = try Pipeline.parse(text, path: "<test>", overrides: [("A", "/q")])
        #expect(p.steps[0].output == "/q/y/z")
        #expect(p.steps[0].options["description"]?.string == "cost $5 at /q/y")
        let q = try Pipeline.parse(
            "{\"lep_pipeline\": 1, \"steps\": [{\"name\": \"i\", \"type\": \"vocab_init\", \"model\": \"a\", \"tokenizer\": \"t\", \"output\": \"o\", \"agg\": \"occurrence\", \"occurrence-map\": \"m.json\"}]}",
            path: "<t>")
        #expect(q.steps[0].options["occurrence_map"]?.string == "m.json")
    }
}

extension PipelineTests {
    @Test func existingOutputsAreRefusedBeforeAnythingRuns() throws {
        let work = Fix.tempDir()
        try FileManager.default.createDirectory(atPath: work + "/out", withIntermediateDirectories: true)
        let text = """
            {"lep_pipeline": 1, "variables": {"FIX": null, "WORK": null},
             "steps": [
               {"name": "init", "type": "vocab_init", "model": "${FIX}/base", "tokenizer": "${FIX}/donor", "output": "${WORK}/init"},
               {"name": "lep", "type": "propagate", "base": "${FIX}/base", "instruct": "${FIX}/instruct",
                "donor": "${steps.init.output}", "output": "${WORK}/out"}]}
            """
        let set = [("FIX", Self.root + "/fixtures/lep/bl"), ("WORK", work)]
        #expect { try Pipeline.parse(text, path: "<t>", overrides: set).plan() } throws: { "\($0)".contains("steps[1] 'lep'.output") && "\($0)".contains("force: true") }
        #expect(!FileManager.default.fileExists(atPath: work + "/init"))
        let forced = try Pipeline.parse(text.replacingOccurrences(of: "\"lep_pipeline\": 1,", with: "\"lep_pipeline\": 1, \"force\": true,"), path: "<t>", overrides: set)
        #expect(try forced.run(try forced.plan()) == .completed)
    }
}

/// A library refusal of an option is worded as the pipeline user wrote it: the step's key, never a
/// command-line flag the user did not type.
extension PipelineTests {
    @Test func optionRefusalsNameTheStepKeyNotAFlag() throws {
        let work = Fix.tempDir()
        let cases = [
            ("\"donor_base\": \"${FIX}/base\"", "donor_base", "is only for a LoRA donor"),
            ("\"compat\": \"reference\", \"mode\": \"delta\"", "compat", "the reference code has no delta mode")
        ]
        for (extra, key, reason) in cases {
            let text = """
                {"lep_pipeline": 1, "variables": {"FIX": null, "WORK": null},
                 "steps": [{"name": "lep", "type": "propagate", "base": "${FIX}/base", "instruct": "${FIX}/instruct",
                            "donor": "${FIX}/donor", \(extra), "output": "${WORK}/out"}]}
                """
            let p = try Pipeline.parse(text, path: "<t>", overrides: [("FIX", Self.root + "/fixtures/lep/bl"), ("WORK", work)])
            #expect { try p.run(try p.plan()) } throws: { e in
                let m = "\(e)"
                return m.contains("recipe key 'steps[0] 'lep'.\(key)': ") && m.contains(reason) && !m.contains("--")
            }
            #expect(!FileManager.default.fileExists(atPath: work + "/out"))
        }
    }
}

extension PipelineTests {
    /// A pipeline's propagate step and `lep propagate` share one parser (`Propagator.Options(parsing:)`): the
    /// rules between options are refused when the file is loaded, before any step runs, naming the step's key.
    @Test func vocabularyRulesRefusedAtLoadLikeTheCommandLine() throws {
        let cases = [
            (
                "{\"name\": \"v\", \"type\": \"vocab_init\", \"model\": \"${FIX}/base\", \"tokenizer\": \"${FIX}/base\", \"occurrence_map\": \"${FIX}/base/config.json\", \"output\": \"o\"}",
                "occurrence_map", "only applies to agg occurrence"
            ),
            (
                "{\"name\": \"v\", \"type\": \"vocab_build\", \"mode\": \"extend\", \"old\": \"${FIX}/base\", \"new\": \"${FIX}/base\", \"keep\": 1.5, \"output\": \"o\"}",
                "keep", "integer"
            )
        ]
        for (step, key, reason) in cases {
            let text = "{\"lep_pipeline\": 1, \"variables\": {\"FIX\": null}, \"steps\": [\(step)]}"
            #expect { try Pipeline.parse(text, path: "<t>", overrides: [("FIX", Self.root + "/fixtures/lep/bl")]) } throws: { e in
                let m = "\(e)"
                return m.contains("steps[0] 'v'.\(key)") && m.contains(reason) && !m.contains("--")
            }
        }
    }

    @Test func propagateRulesRefusedAtLoadLikeTheCommandLine() throws {
        let cases = [
            ("\"delta_shared\": \"exact\"", "delta_shared", "only applies to mode delta"),
            ("\"mode\": \"conversion-occurrence\"", "occurrence_map", "needs an occurrence map"),
            ("\"alpha_scale\": 2", "alpha_scale", "applies to LoRA donors"),
            ("\"fit_precision\": \"half\"", "fit_precision", "one of")
        ]
        for (extra, key, reason) in cases {
            let text = """
                {"lep_pipeline": 1, "variables": {"FIX": null},
                 "steps": [{"name": "vocab", "type": "external", "description": "runs first"},
                           {"name": "lep", "type": "propagate", "base": "${FIX}/base", "instruct": "${FIX}/instruct",
                            "donor": "${FIX}/donor", \(extra), "output": "unused-out"}]}
                """
            #expect { try Pipeline.parse(text, path: "<t>", overrides: [("FIX", Self.root + "/fixtures/lep/bl")]) } throws: { e in
                let m = "\(e)"
                return m.contains("steps[1] 'lep'.\(key)") && m.contains(reason) && !m.contains("--")
            }
        }
    }
}

/// `external` steps with a `command`: run with placeholders substituted, a non-zero exit or a missing
/// output stops the run naming the step, `pause: true` shows the command instead of running it.
extension PipelineTests {
    static func commandPipeline(_ step: String, work: String) throws -> Pipeline {
        let text = """
            {"lep_pipeline": 1, "variables": {"WORK": null, "WORD": "hello"},
             "steps": [\(step),
               {"name": "after", "type": "external", "description": "the step after the command"}]}
            """
        return try Pipeline.parse(text, path: "<t>", overrides: [("WORK", work)])
    }

    @Test func commandStepRunsWithSubstitutedPlaceholders() throws {
        let work = Fix.tempDir()
        // `${WORD}` is lep's substitution; `$$` gives the shell a literal `$` (single-quoted here, so kept).
        let shell = #"{"name": "train", "type": "external", "command": "mkdir ${WORK}/made && printf '%s' '${WORD} $$HOME-free' > ${WORK}/made/said", "output": "${WORK}/made"}"#
        let p = try Self.commandPipeline(shell, work: work)
        let plan = try p.plan()
        #expect(plan.run.map(\.name) == ["train", "after"])
        #expect(plan.describe().contains { $0.contains("command: mkdir \(work)/made") })
        var lines: [String] = []
        let outcome = try p.run(plan) { lines.append($0) }
        #expect(outcome == .paused(step: "after", description: "the step after the command", resumeFrom: nil))
        #expect(try String(contentsOfFile: work + "/made/said", encoding: .utf8) == "hello $HOME-free")
        #expect(lines.contains { $0.hasPrefix("  $ mkdir ") })

        // The argument-list form runs without a shell (the quote stays one argument).
        let list = #"{"name": "train", "type": "external", "command": ["mkdir", "${WORK}/it's here"], "output": "${WORK}/it's here"}"#
        let q = try Self.commandPipeline(list, work: work)
        _ = try q.run(try q.plan())
        #expect(FileManager.default.fileExists(atPath: work + "/it's here"))
        #expect(q.steps[0].command?.text == "mkdir '\(work)/it'\\''s here'")
    }

    @Test func failingCommandStopsTheRunNamingTheStep() throws {
        let work = Fix.tempDir()
        let failing = try Self.commandPipeline(#"{"name": "train", "type": "external", "command": "exit 3"}"#, work: work)
        #expect { try failing.run(try failing.plan()) } throws: {
            "\($0)".contains("steps[0] 'train'") && "\($0)".contains("exited with status 3") && "\($0)".contains("--from train")
        }
        let noOutput = try Self.commandPipeline(#"{"name": "train", "type": "external", "command": "true", "output": "${WORK}/donor"}"#, work: work)
        #expect { try noOutput.run(try noOutput.plan()) } throws: { "\($0)".contains("'\(work)/donor' does not exist") }
        let missing = try Self.commandPipeline(#"{"name": "train", "type": "external", "command": ["/nonexistent/trainer", "x"]}"#, work: work)
        #expect { try missing.run(try missing.plan()) } throws: { "\($0)".contains("cannot start '/nonexistent/trainer'") }
        // An existing output is refused before anything runs, unless force.
        try FileManager.default.createDirectory(atPath: work + "/donor", withIntermediateDirectories: true)
        let exists = try Self.commandPipeline(#"{"name": "train", "type": "external", "command": "touch ${WORK}/ran", "output": "${WORK}/donor"}"#, work: work)
        #expect { try exists.plan() } throws: { "\($0)".contains("steps[0] 'train'.output") }
        #expect(!FileManager.default.fileExists(atPath: work + "/ran"))
    }

    @Test func pausedCommandIsShownNotRun() throws {
        let work = Fix.tempDir()
        for step in [
            #"{"name": "train", "type": "external", "command": "touch ${WORK}/ran", "pause": true, "description": "train it"}"#,
            #"{"name": "train", "type": "pause", "command": "touch ${WORK}/ran"}"#
        ] {
            let p = try Self.commandPipeline(step, work: work)
            let plan = try p.plan()
            #expect(plan.run.map(\.name) == ["train"])
            guard case .paused(let name, let d, let resume) = try p.run(plan) else { Issue.record("expected a pause"); continue }
            #expect(name == "train" && resume == "after")
            #expect(d.contains("run by hand: touch \(work)/ran"))
            #expect(!FileManager.default.fileExists(atPath: work + "/ran"))
        }
        // pause: false on a `pause` step with a command runs it.
        let p = try Self.commandPipeline(#"{"name": "train", "type": "pause", "command": "touch ${WORK}/ran", "pause": false}"#, work: work)
        _ = try p.run(try p.plan())
        #expect(FileManager.default.fileExists(atPath: work + "/ran"))
    }

    @Test func badCommandValuesAreRefused() {
        let cases: [(String, [String])] = [
            (#"{"name": "t", "type": "external", "command": []}"#, ["steps[0] 't'.command", "shell command line, or a list"]),
            (#"{"name": "t", "type": "external", "command": "  "}"#, ["steps[0] 't'.command"]),
            (#"{"name": "t", "type": "external", "command": ["ok", {"a": 1}]}"#, ["steps[0] 't'.command", "every item"]),
            (#"{"name": "t", "type": "external", "command": ["", "x"]}"#, ["steps[0] 't'.command", "program"]),
            (#"{"name": "t", "type": "external", "command": "x", "pause": "maybe"}"#, ["steps[0] 't'.pause", "true or false"]),
            (#"{"name": "t", "type": "external", "description": "d", "pause": true}"#, ["steps[0] 't'.pause", "only with a command"]),
            (#"{"name": "t", "type": "external"}"#, ["steps[0] 't'.description", "required"]),
            (#"{"name": "t", "type": "external", "command": "echo ${NOPE}"}"#, ["steps[0] 't'.command", "${NOPE} is not declared"])
        ]
        for (step, needles) in cases {
            let e = Self.refusal("{\"lep_pipeline\": 1, \"variables\": {\"W\": \"/tmp\"}, \"steps\": [\(step)]}")
            for n in needles { #expect(e.contains(n), "\(e) should mention \(n)") }
        }
    }
}
