import LEPJSON
import Models
import SafeTensors

/// `lep synth`: a random checkpoint with a real family's names, shapes and config.
enum SynthCommand: Command {
    static let name = "synth"
    static let summary = "write a random checkpoint of a model family (tests, benchmarks)"
    static let usage =
        "--preset tiny-llama3|tiny-mistral|llama3-8b|mistral-7b [--layers N] [--vocab N] [--hidden N] [--seed S] [--dtype bf16|f16|f32] [--shard-size SIZE] [--force] [--json] (OUT | -o OUT)"
    static let details = """
        Same seed, same bytes. Weights ~ N(0, 0.02²) (approximately), norm weights 1. The config.json
        and generation_config.json are those of the family (LLaMA-3-8B, Mistral-7B-v0.1, or tiny
        versions with GQA, llama3 RoPE scaling / a short sliding window).
        """
    static let options = [
        OptionSpec(name: "output", value: "OUT", help: "output directory (instead of the OUT argument)"),
        OptionSpec(name: "preset", value: "NAME", help: Synthesizer.Preset.allCases.map(\.rawValue).joined(separator: " | ")),
        OptionSpec(name: "layers", value: "N", help: "number of layers"),
        OptionSpec(name: "vocab", value: "N", help: "vocabulary size"),
        OptionSpec(name: "hidden", value: "N", help: "hidden size (intermediate size scales with it)"),
        OptionSpec(name: "seed", value: "S", help: "random seed (default 0)"),
        OptionSpec(name: "dtype", value: "bf16|f16|f32", help: "storage dtype (default bf16)"),
        OptionSpec(name: "shard-size", value: "SIZE", help: "maximum shard size (default 5GB); 0 = one file"),
        OptionSpec(name: "force", value: nil, help: "replace OUT if it exists"),
        OptionSpec(name: "json", value: nil, help: "print the summary as JSON")
    ]

    static func run(_ args: Arguments) throws -> Int32 {
        let out = try args.positionalsAndOutput([]).output
        guard let presetName = args.value("preset") else { throw UsageError("--preset is required") }
        guard let preset = Synthesizer.Preset(rawValue: presetName) else {
            throw UsageError("unknown preset '\(presetName)' (known: \(Synthesizer.Preset.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        var o = Synthesizer.Options()
        o.layers = try args.int("layers")
        o.vocab = try args.int("vocab")
        o.hidden = try args.int("hidden")
        if let s = args.value("seed") {
            guard let v = UInt64(s) else { throw UsageError("--seed expects a non-negative integer, got '\(s)'") }
            o.seed = v
        }
        if let d = args.value("dtype") {
            guard let dt = DType(userName: d), dt == .BF16 || dt == .F16 || dt == .F32 else { throw UsageError("--dtype must be bf16, f16 or f32, got '\(d)'") }
            o.dtype = dt
        }
        if let s = args.value("shard-size") { o.maxShardBytes = s == "0" ? nil : try Arguments.byteSize(s, option: "shard-size") }
        o.force = args.flag("force")
        let progress = Progress("synth")
        let config: ModelConfig
        do {
            config = try Synthesizer.synthesize(preset, options: o, output: out, progress: progress.update)
        } catch let e as ModelError {
            if case .invalidOption(let o, let r) = e { throw UsageError("\(ErrorWording.flag(o)): \(r)") }
            throw e
        }
        progress.finish()
        if args.flag("json") {
            Terminal.out(
                JSONWriter.compact(
                    .object(
                        JSONObject([
                            ("output", .string(out)), ("preset", .string(preset.rawValue)), ("layers", .number(JSONNumber(config.numHiddenLayers))),
                            ("hidden", .number(JSONNumber(config.hiddenSize))), ("vocab", .number(JSONNumber(config.vocabSize))),
                            ("parameters", .number(JSONNumber(config.parameterCount))), ("dtype", .string(o.dtype.rawValue)), ("seconds", .number(JSONNumber(progress.elapsed)))
                        ]))))
            return 0
        }
        Terminal.out(
            "wrote \(out): \(preset.rawValue), \(config.numHiddenLayers) layers, hidden \(config.hiddenSize), vocab \(config.vocabSize), \(Format.count(config.parameterCount)) parameters (\(o.dtype.rawValue)) in \(Format.fixed(progress.elapsed, 2)) s"
        )
        return 0
    }
}
