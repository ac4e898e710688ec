#if canImport(Glibc)
import Glibc
#endif
import LEPJSON
import Merging
import Pipelines
import Propagation
import Recipes
import SafeTensors
import Support
import Surgery
import Vocabulary

/// `lep merge RECIPE -o OUT` (or mergekit-yaml's `RECIPE OUT`): run a merge recipe (lep JSON or mergekit YAML).
enum MergeCommand: Command {
    static let name = "merge"
    static let summary = "merge checkpoints with a recipe (mergekit YAML or lep JSON): ties, slerp, dare, ..."
    static let usage = "RECIPE (OUT | -o OUT | --dry-run) [--force] [--seed S] [--shard-size SIZE] [--json]"
    static let details = """
        RECIPE is a mergekit YAML file (run unchanged) or a lep JSON recipe ("lep_recipe": 1, comments
        allowed). Everything is validated before any tensor is written: inputs, tensor sets, shapes,
        dtypes, vocabulary sizes, parameters. --dry-run prints the plan and stops. Relative model paths
        are taken from the current directory, as mergekit does. OUT gets the shards, config.json, the
        base's tokenizer files, the recipe (lep_recipe.*) and lep_merge.json (inputs' header hashes,
        version, seed). Arithmetic is float32; a NaN/Inf in a result is an error naming the tensor.
        See 'lep methods' for the methods and their parameters. `lep merge RECIPE OUT` is mergekit-yaml's form.
        """
    static let options = [
        OptionSpec(name: "output", value: "OUT", help: "output model directory (-o OUT)"),
        OptionSpec(name: "dry-run", value: nil, help: "validate and print the plan; write nothing"),
        OptionSpec(name: "force", value: nil, help: "replace OUT if it exists"),
        OptionSpec(name: "seed", value: "S", help: "seed for random methods (overrides the recipe's seed)"),
        OptionSpec(name: "shard-size", value: "SIZE", help: "maximum shard size (default 5GB); 0 = one file"),
        OptionSpec(name: "json", value: nil, help: "print the plan (--dry-run) or the summary as JSON")
    ]

    static func run(_ args: Arguments) throws -> Int32 {
        let dryRun = args.flag("dry-run")
        let recipePath: String
        var out: String?
        if dryRun && args.value("output") == nil && args.positionals.count == 1 {
            recipePath = args.positionals[0]
        } else {
            let p = try args.positionalsAndOutput(["RECIPE"])
            recipePath = p.inputs[0]
            out = p.output
        }
        // The output path is checked before the recipe's models are opened.
        if let out, !dryRun { try AtomicOutputDirectory.check(target: out, force: args.flag("force"), inputs: [recipePath]) }
        var recipe = try Recipe.load(path: recipePath, baseDirectory: ".")
        if let s = args.value("seed") {
            guard let v = UInt64(s) else { throw UsageError("--seed expects a non-negative integer, got '\(s)'") }
            recipe.seed = v
        }
        let json = args.flag("json")
        // Matching vocabularies by token string reads every tokenizer: say so before it starts.
        let announce = recipe.tokenizerSource == .union && !json && getenv("LEP_QUIET") == nil
        if announce { Terminal.err("merge: planning: tokenizer_source union, matching the models' vocabularies by token string …") }
        let planStart = Terminal.now()
        let plan = try MergePlan.make(recipe)
        if announce { Terminal.err("merge: planned in \(Format.fixed(Terminal.now() - planStart, 1)) s") }
        if dryRun && json {
            Terminal.out(JSONWriter.pretty(.object(JSONObject([("method", .string(plan.method.name)), ("plan", .array(plan.describe().map { .string($0) }))]))))
            return 0
        }
        for line in plan.describe() { dryRun ? Terminal.out(line) : (json ? () : Terminal.err(line)) }
        if dryRun { return 0 }
        guard let out else { throw UsageError("give OUT (or -o OUT), or --dry-run") }
        var options = MergeOptions()
        options.force = args.flag("force")
        options.toolVersion = LEPTool.version
        if let s = args.value("shard-size") { options.maxShardBytes = s == "0" ? nil : try Arguments.byteSize(s, option: "shard-size") }
        let progress = Progress("merge")
        let summary = try MergeExecutor.run(plan, output: out, options: options, progress: progress.update)
        progress.finish()
        if json {
            Terminal.out(
                JSONWriter.pretty(
                    .object(
                        JSONObject([
                            ("output", .string(out)), ("method", .string(plan.method.name)), ("tensors", .number(JSONNumber(summary.tensors))),
                            ("shards", .number(JSONNumber(summary.shards))), ("bytes", .number(JSONNumber(summary.bytes))), ("seconds", .number(JSONNumber(progress.elapsed)))
                        ]))))
            return 0
        }
        Terminal.out(
            "wrote \(out): \(summary.tensors) tensors in \(summary.shards) shard\(summary.shards == 1 ? "" : "s"), \(Format.bytes(summary.bytes)) in \(Format.fixed(progress.elapsed, 2)) s (\(plan.method.name))"
        )
        return 0
    }
}

/// `lep methods`: the merge methods, their parameters and references.
enum MethodsCommand: Command {
    static let name = "methods"
    static let summary = "list merge methods with their parameters, defaults and references"
    static let usage = "[--json]"
    static let details = ""
    static let options = [OptionSpec(name: "json", value: nil, help: "print the methods as JSON")]

    static func run(_ args: Arguments) throws -> Int32 {
        _ = try args.positionals([])
        if args.flag("json") {
            Terminal.out(
                JSONWriter.pretty(
                    .array(
                        MethodRegistry.all.map { m in
                            .object(
                                JSONObject([
                                    ("name", .string(m.name)), ("summary", .string(m.summary)), ("base_model_required", .bool(m.basePolicy == .required)),
                                    ("min_models", .number(JSONNumber(m.inputCount.lowerBound))), ("random", .bool(m.isRandom)),
                                    (
                                        "parameters",
                                        .array(
                                            m.parameters.map { p in
                                                .object(
                                                    JSONObject([
                                                        ("name", .string(p.name)), ("scope", .string(p.scope.rawValue)), ("kind", .string(p.kind.rawValue)),
                                                        ("default", p.defaultValue.map { .string("\($0)") } ?? .null), ("help", .string(p.help))
                                                    ]))
                                            })
                                    ),
                                    ("reference", .string(m.reference))
                                ]))
                        })))
            return 0
        }
        for m in MethodRegistry.all {
            var head = "\(m.name): \(m.summary)"
            head += m.basePolicy == .required ? " [base_model required" : " [no base"
            head += ", \(m.inputCount.lowerBound == m.inputCount.upperBound ? "\(m.inputCount.lowerBound)" : "\(m.inputCount.lowerBound)+") model\(m.inputCount.upperBound == 1 ? "" : "s")"
            head += m.isRandom ? ", random: seed]" : "]"
            Terminal.out(head)
            for p in m.parameters {
                let d = p.defaultValue.map { "default \($0)" } ?? "required"
                Terminal.out("    \(p.name.padding(to: 11)) \(p.scope.rawValue.padding(to: 9)) \(p.kind.rawValue.padding(to: 6)) \(d.padding(to: 15)) \(p.help)")
            }
            Terminal.out("    reference: \(m.reference)")
        }
        return 0
    }
}

/// The Surgery commands, in the order `lep --help` lists them (appended to `CommandRegistry.all`).
enum SurgeryCommands {
    static let all: [any Command.Type] = [MergeCommand.self, MethodsCommand.self, LoraCommand.self, DiffCommand.self, ApplyCommand.self]
}
