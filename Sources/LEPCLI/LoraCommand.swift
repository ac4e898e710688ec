import LEPJSON
import Merging
import Pipelines
import Propagation
import Recipes
import SafeTensors
import Support
import Surgery
import Vocabulary

/// `lep lora merge MODEL ADAPTER -o OUT`: fold a PEFT LoRA adapter into a model.
enum LoraCommand: Command {
    static let name = "lora"
    static let summary = "merge a PEFT LoRA adapter into a model: lora merge MODEL ADAPTER -o OUT"
    static let usage = "merge MODEL ADAPTER -o OUT [--dtype bf16|f16|f32] [--force] [--json]"
    static let details = """
        W + (lora_alpha / r)·B·A for each target module (rsLoRA: lora_alpha / √r; alpha_pattern and
        rank_pattern honoured); modules_to_save tensors replace the base's. The adapter is checked
        against the model (targets exist, shapes fit) before anything is written. Same as a merge recipe
        with 'passthrough' and 'MODEL+ADAPTER'.
        """
    static let options = [
        OptionSpec(name: "output", value: "OUT", help: "output model directory (-o OUT)"),
        OptionSpec(name: "force", value: nil, help: "replace OUT if it exists"),
        OptionSpec(name: "dtype", value: "bf16|f16|f32", help: "output dtype (default: the model's)"),
        OptionSpec(name: "json", value: nil, help: "print the summary as JSON")
    ]

    static func run(_ args: Arguments) throws -> Int32 {
        let p = try args.positionals(["merge", "MODEL", "ADAPTER"])
        guard p[0] == "merge" else { throw UsageError("unknown lora subcommand '\(p[0])' (known: merge)") }
        guard args.value("output") != nil else { throw UsageError("-o OUT is required") }
        var values = SharedOptions.values(args, valueKeys: ["output", "dtype"], flagKeys: LoraMergeRequest.flagKeys)
        values.values["model"] = p[1]
        values.values["adapter"] = p[2]
        let q = try SharedOptions.parsed { () throws(SurgeryError) in try LoraMergeRequest(parsing: values) }
        let out = q.output
        try AtomicOutputDirectory.check(target: out, force: q.force, inputs: [q.model, q.adapter])
        let plan = try MergePlan.make(try q.recipe())
        var options = MergeOptions()
        options.force = q.force
        options.toolVersion = LEPTool.version
        let progress = Progress("lora merge")
        let summary = try MergeExecutor.run(plan, output: out, options: options, progress: progress.update)
        progress.finish()
        if args.flag("json") {
            Terminal.out(
                JSONWriter.compact(
                    .object(
                        JSONObject([
                            ("output", .string(out)), ("tensors", .number(JSONNumber(summary.tensors))), ("model", .string(p[1])), ("adapter", .string(p[2])),
                            ("seconds", .number(JSONNumber(progress.elapsed)))
                        ]))))
            return 0
        }
        Terminal.out("wrote \(out): \(summary.tensors) tensors, adapter \(p[2]) merged into \(p[1]) in \(Format.fixed(progress.elapsed, 2)) s")
        return 0
    }
}
