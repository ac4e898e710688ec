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
    static let usage = "RECIPE [--set NAME=VALUE ...] [--dry-run] [--from STEP]"
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
        """
    static let options = [
        OptionSpec(name: "set", value: "NAME=VALUE", help: "bind a pipeline variable (repeatable)", repeatable: true),
        OptionSpec(name: "dry-run", value: nil, help: "validate and print the plan; run nothing"),
        OptionSpec(name: "from", value: "STEP", help: "start at STEP (earlier steps' outputs must exist)"),
    ]

    static func run(_ args: Arguments) throws -> Int32 {
        let path = try args.positionals(["RECIPE"])[0]
        var overrides: [(String, String)] = []
        for s in args.values("set") {
            guard let eq = s.firstIndex(of: "="), eq != s.startIndex else { throw UsageError("--set expects NAME=VALUE, got '\(s)'") }
            overrides.append((String(s[..<eq]), String(s[s.index(after: eq)...])))
        }
        let (pipeline, plan) = try load(path, overrides: overrides, from: args.value("from"))
        let dryRun = args.flag("dry-run")
        if dryRun {
            if let d = pipeline.description { Terminal.out(d) }
            for line in plan.describe() { Terminal.out(line) }
            return 0
        }
        let start = Terminal.now()
        let outcome = try pipeline.run(plan, toolVersion: LEPTool.version) { Terminal.out($0) }
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
