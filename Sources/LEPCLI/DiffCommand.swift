import LEPJSON
import Merging
import Pipelines
import Propagation
import Recipes
import SafeTensors
import Support
import Surgery
import Vocabulary

/// `lep diff BASE TUNED -o DELTA`: a zstd-compressed task vector.
enum DiffCommand: Command {
    static let name = "diff"
    static let summary = "write the task vector TUNED − BASE (zstd), e.g. a chat vector"
    static let usage = "BASE TUNED -o DELTA [--density D] [--dtype bf16|f16|f32] [--force] [--json]"
    static let details = """
        DELTA is a directory: task_vector.json (tensors, provenance) and task_vector.zst (one zstd frame
        per tensor, byte planes split). --density keeps the largest ⌊D·n⌋ |δ| of each tensor. --dtype f32
        makes 'lep apply BASE DELTA' reproduce TUNED exactly; the default (TUNED's dtype) is smaller.
        """
    static let options = [
        OptionSpec(name: "output", value: "DELTA", help: "output directory (-o DELTA)"),
        OptionSpec(name: "density", value: "D", help: "fraction of each delta kept by magnitude (default 1)"),
        OptionSpec(name: "dtype", value: "bf16|f16|f32", help: "storage dtype of the delta (default: TUNED's)"),
        OptionSpec(name: "force", value: nil, help: "replace DELTA if it exists"),
        OptionSpec(name: "json", value: nil, help: "print the summary as JSON")
    ]

    static func run(_ args: Arguments) throws -> Int32 {
        let p = try args.positionals(["BASE", "TUNED"])
        guard let out = args.value("output") else { throw UsageError("-o DELTA is required") }
        var o = TaskVector.DiffOptions()
        if let d = args.value("density") {
            guard let v = Double(d), v > 0, v <= 1 else { throw UsageError("--density expects a number in (0, 1], got '\(d)'") }
            o.density = v
        }
        if let d = args.value("dtype") {
            guard let dt = DType(userName: d), dt.isStandardFloat else { throw UsageError("--dtype must be bf16, f16 or f32, got '\(d)'") }
            o.dtype = dt
        }
        o.force = args.flag("force")
        o.toolVersion = LEPTool.version
        try AtomicOutputDirectory.check(target: out, force: o.force, inputs: [p[0], p[1]])
        let progress = Progress("diff")
        let s = try TaskVector.diff(base: p[0], tuned: p[1], output: out, options: o, progress: progress.update)
        progress.finish()
        if args.flag("json") {
            Terminal.out(
                JSONWriter.compact(
                    .object(
                        JSONObject([
                            ("output", .string(out)), ("tensors", .number(JSONNumber(s.tensors))), ("raw_bytes", .number(JSONNumber(s.rawBytes))),
                            ("compressed_bytes", .number(JSONNumber(s.compressedBytes))), ("tuned_bytes", .number(JSONNumber(s.tunedBytes))),
                            ("seconds", .number(JSONNumber(progress.elapsed)))
                        ]))))
            return 0
        }
        Terminal.out(
            "wrote \(out): \(s.tensors) tensors, \(Format.bytes(s.compressedBytes)) compressed from \(Format.bytes(s.rawBytes)) raw; TUNED is \(Format.bytes(s.tunedBytes)), ratio \(Format.fixed(s.ratio, 2)) in \(Format.fixed(progress.elapsed, 2)) s"
        )
        return 0
    }
}

/// `lep apply BASE DELTA -o OUT`: base + scale·delta.
enum ApplyCommand: Command {
    static let name = "apply"
    static let summary = "add a task vector made by 'lep diff' to a model: BASE + scale·DELTA"
    static let usage = "BASE DELTA -o OUT [--scale S] [--force] [--json]"
    static let details = "OUT keeps BASE's dtypes, config and tokenizer files. Tensor names and shapes must match the delta's."
    static let options = [
        OptionSpec(name: "output", value: "OUT", help: "output model directory (-o OUT)"),
        OptionSpec(name: "scale", value: "S", help: "multiply the delta by S (default 1)"),
        OptionSpec(name: "force", value: nil, help: "replace OUT if it exists"),
        OptionSpec(name: "json", value: nil, help: "print the summary as JSON")
    ]

    static func run(_ args: Arguments) throws -> Int32 {
        let p = try args.positionals(["BASE", "DELTA"])
        guard let out = args.value("output") else { throw UsageError("-o OUT is required") }
        var o = TaskVector.ApplyOptions()
        if let s = args.value("scale") {
            guard let v = Double(s), v.isFinite else { throw UsageError("--scale expects a number, got '\(s)'") }
            o.scale = v
        }
        o.force = args.flag("force")
        try AtomicOutputDirectory.check(target: out, force: o.force, inputs: [p[0], p[1]])
        let progress = Progress("apply")
        let n = try TaskVector.apply(base: p[0], delta: p[1], output: out, options: o, progress: progress.update)
        progress.finish()
        if args.flag("json") {
            Terminal.out(
                JSONWriter.compact(
                    .object(
                        JSONObject([
                            ("output", .string(out)), ("tensors", .number(JSONNumber(n))), ("scale", .number(JSONNumber(o.scale))), ("seconds", .number(JSONNumber(progress.elapsed)))
                        ]))))
            return 0
        }
        Terminal.out("wrote \(out): \(n) tensors, BASE + \(Format.fixed(o.scale, 3))·DELTA in \(Format.fixed(progress.elapsed, 2)) s")
        return 0
    }
}
