import Models
import SafeTensors

/// `lep convert IN OUT`: re-type and re-shard.
enum ConvertCommand: Command {
    static let name = "convert"
    static let summary = "re-type and/or re-shard a checkpoint (streaming, atomic)"
    static let usage = "IN OUT [--dtype bf16|f16|f32] [--shard-size SIZE] [--force]"
    static let details = """
        Floating-point tensors are converted with round-to-nearest-even; other tensors are copied.
        config.json (torch_dtype updated), generation_config.json and tokenizer files are carried over.
        OUT is built in a hidden temporary sibling and renamed into place when complete.
        """
    static let options = [
        OptionSpec(name: "dtype", value: "bf16|f16|f32|f64", help: "target dtype for float tensors (default: keep)"),
        OptionSpec(name: "shard-size", value: "SIZE", help: "maximum shard size, e.g. 5GB (default), 500MB; 0 = one file"),
        OptionSpec(name: "force", value: nil, help: "replace OUT if it exists"),
        OptionSpec(name: "json", value: nil, help: "print a JSON summary"),
    ]

    static func run(_ args: Arguments) throws -> Int32 {
        let p = try args.positionals(["IN", "OUT"])
        var options = CheckpointConverter.Options()
        if let d = args.value("dtype") {
            guard let dt = DType(userName: d), dt.isStandardFloat else { throw UsageError("--dtype must be bf16, f16, f32 or f64, got '\(d)'") }
            options.dtype = dt
        }
        if let s = args.value("shard-size") { options.maxShardBytes = s == "0" ? nil : try Arguments.byteSize(s, option: "shard-size") }
        options.force = args.flag("force")
        let progress = Progress("convert")
        let summary = try CheckpointConverter.convert(input: p[0], output: p[1], options: options, progress: progress.update)
        progress.finish()
        let seconds = progress.elapsed
        if args.flag("json") {
            Terminal.out("{\"tensors\": \(summary.tensors), \"shards\": \(summary.shards), \"bytes\": \(summary.bytesWritten), \"seconds\": \(Format.fixed(seconds, 3))}")
        } else {
            Terminal.out("wrote \(p[1]): \(summary.tensors) tensors in \(summary.shards) shard\(summary.shards == 1 ? "" : "s"), \(Format.bytes(summary.bytesWritten)) in \(Format.fixed(seconds, 2)) s; carried \(summary.carriedFiles.isEmpty ? "no other files" : summary.carriedFiles.joined(separator: ", "))")
        }
        return 0
    }
}
