import LEPJSON
import Merging
import Pipelines
import Propagation
import Recipes
import Surgery
import Vocabulary

/// `lep pipeline RECIPE`: run a pipeline recipe (vocab build → init → external training → propagate → LoRA merge).
enum PipelineCommand: Command {
    static let name = "pipeline"
    static let summary = "run a pipeline recipe: vocab_build, vocab_init, propagate, lora_merge, merge and external steps in one file"
    static let usage = "RECIPE [--set NAME=VALUE ...] [--dry-run] [--from STEP] [--json]"
    static let details = """
        RECIPE is JSON (comments allowed) or the YAML subset of merge recipes, with "lep_pipeline": 1,
        "variables" (NAME: value; null = must be given with --set NAME=VALUE) and "steps", each with a
        "name", a "type" (vocab_build, vocab_init, propagate, lora_merge, merge, external) and the options
        of the matching command (occurrence_map or occurrence-map). Strings may use ${NAME} and
        ${steps.STEP.output} (any option of an earlier step); $$ is a literal $. Everything is validated
        before any step runs: keys, values, required options, variables, references, inputs. An "external"
        step with a "command" (a shell line, or a list [program, arg, ...]) runs it, e.g.
        scripts/train_embeddings.py, and stops the run with an error if it exits non-zero; an "external"
        step without one (or with "pause": true) stops the run and says which --from STEP resumes it.
        Relative paths are taken from the current directory. See recipes/lep/ for the paper's configurations.
        With --json, the plan (--dry-run) or the run's summary goes to stdout as JSON (steps with their
        type, output and seconds; where a paused run resumes) and the steps' progress lines to stderr.
        """
    static let options = [
        OptionSpec(name: "set", value: "NAME=VALUE", help: "bind a pipeline variable (repeatable)", repeatable: true),
        OptionSpec(name: "dry-run", value: nil, help: "validate and print the plan; run nothing"),
        OptionSpec(name: "from", value: "STEP", help: "start at STEP (earlier steps' outputs must exist)"),
        OptionSpec(name: "json", value: nil, help: "print the plan (--dry-run) or the run's summary as JSON")
    ]

    static func run(_ args: Arguments) throws -> Int32 {
        let path = try args.positionals(["RECIPE"])[0]
        var overrides: [(String, String)] = []
        for s in args.values("set") {
            guard let eq = s.firstIndex(of: "="), eq != s.startIndex else { throw UsageError("--set expects NAME=VALUE, got '\(s)'") }
            overrides.append((String(s[..<eq]), String(s[s.index(after: eq)...])))
        }
        let (pipeline, plan) = try load(path, overrides: overrides, from: args.value("from"))
        let dryRun = args.flag("dry-run"), json = args.flag("json")
        if dryRun {
            if json {
                Terminal.out(JSONWriter.pretty(planJSON(path, plan)))
                return 0
            }
            if let d = pipeline.description { Terminal.out(d) }
            for line in plan.describe() { Terminal.out(line) }
            return 0
        }
        let start = Terminal.now()
        var stepStart = start
        var done: [JSONValue] = []
        let outcome = try pipeline.run(plan, toolVersion: LEPTool.version, log: { json ? Terminal.err($0) : Terminal.out($0) }) { s in
            let now = Terminal.now()
            done.append(stepJSON(s, seconds: now - stepStart))
            stepStart = now
        }
        if json {
            var root = JSONObject([("recipe", .string(path)), ("steps", .array(done)), ("seconds", .number(JSONNumber(Terminal.now() - start)))])
            switch outcome {
            case .completed: root["status"] = .string("completed")
            case .paused(let step, let description, let resume):
                root["status"] = .string("paused")
                root["paused_at"] = .string(step)
                root["pause_description"] = .string(description)
                root["resume_from"] = resume.map { .string($0) } ?? .null
            }
            Terminal.out(JSONWriter.pretty(.object(root)))
            return 0
        }
        switch outcome {
        case .completed:
            Terminal.out("pipeline \(path): \(plan.run.count) step\(plan.run.count == 1 ? "" : "s") done in \(Format.fixed(Terminal.now() - start, 2)) s")
        case .paused(let step, let description, let resume):
            Terminal.out("pipeline paused at '\(step)': \(description)")
            if let resume {
                let sets = args.values("set").map { " --set " + Pipeline.shellQuote($0) }.joined()
                Terminal.out("when that is done: lep pipeline \(Pipeline.shellQuote(path))\(sets) --from \(resume)")
            }
        }
        return 0
    }

    static func stepJSON(_ s: Pipeline.Step, seconds: Double? = nil) -> JSONValue {
        var o = JSONObject([("name", .string(s.name)), ("type", .string(s.type.rawValue)), ("output", s.output.map { .string($0) } ?? .null)])
        if let seconds { o["seconds"] = .number(JSONNumber(seconds)) }
        return .object(o)
    }

    /// The `--dry-run --json` plan: steps skipped, run, and left for a later `--from`.
    static func planJSON(_ path: String, _ plan: Pipeline.Plan) -> JSONValue {
        .object(
            JSONObject([
                ("recipe", .string(path)),
                ("skipped", .array(plan.skipped.map { stepJSON($0) })),
                (
                    "run",
                    .array(
                        plan.run.map { s in
                            guard case .object(var o) = stepJSON(s) else { return stepJSON(s) }
                            o["pauses"] = .bool(s.pauses)
                            return .object(o)
                        })
                ),
                ("later", .array(plan.later.map { stepJSON($0) })),
                ("pause_at", plan.pauseAt.map { .string($0.name) } ?? .null),
                ("resume_from", plan.resumeFrom.map { .string($0.name) } ?? .null)
            ]))
    }

    /// Loads and plans the pipeline. A --set or --from the recipe does not know, or a variable left
    /// without a value, is a usage error (exit 64); everything else in the recipe is a failure (exit 1).
    static func load(_ path: String, overrides: [(String, String)], from: String?) throws -> (Pipeline, Pipeline.Plan) {
        let result = Result { () throws(SurgeryError) -> (Pipeline, Pipeline.Plan) in
            let p = try Pipeline.load(path: path, overrides: overrides)
            return (p, try p.plan(from: from))
        }
        switch result {
        case .success(let loaded): return loaded
        case .failure(let e):
            if case .invalidValue(let key, let reason) = e, key.hasPrefix("--set") || key.hasPrefix("--from") || reason.contains("give it with --set") {
                throw UsageError(e.description)
            }
            throw e
        }
    }
}
