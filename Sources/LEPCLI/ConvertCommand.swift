import GGUF
import GGUFConversion
import Models
import SafeTensors
import Support

/// `lep convert IN OUT` (or `IN -o OUT`): re-type and re-shard.
enum ConvertCommand: Command {
    static let name = "convert"
    static let summary = "re-type and/or re-shard a checkpoint (streaming, atomic)"
    static let usage = "IN (OUT | -o OUT) [--dtype bf16|f16|f32|f64|q8_0] [--shard-size SIZE] [--force] [--json]"
    static let details = """
        Floating-point tensors are converted with round-to-nearest-even; other tensors are copied.
        config.json (torch_dtype/dtype updated), generation_config.json, tokenizer files and chat
        templates are carried over. OUT is built in a hidden temporary sibling and renamed into place.
        An OUT ending in .safetensors is written as that one file (no shards, no other files), e.g.
        lep convert a.safetensors b.safetensors --dtype f32. IN may have a model type lep cannot run
        (qwen2, ...): only the tensors and config.json's dtype change.
        From llama.cpp: IN.gguf (llama architecture: LLaMA, Mistral and relatives; tensors F32, F16,
        BF16, Q8_0, Q4_0, Q4_1, Q4_K, Q5_K, Q6_K) becomes a Hugging Face folder: tensors dequantised
        (--dtype bf16|f16|f32; default the file's float type, F32 for quantised files), q/k rows put
        back in HF order, config.json and generation_config.json from the metadata, the tokenizer
        rebuilt (gpt2 → tokenizer.json byte-level BPE, llama → SentencePiece tokenizer.model), chat
        templates as chat_template.jinja.
        To llama.cpp: an OUT ending in .gguf writes one GGUF file (--dtype f16 (default), bf16, f32
        or q8_0) following convert_hf_to_gguf.py: hyper-parameters, rope_freqs for LLaMA-3 RoPE
        scaling, sliding window, q/k permuted, the tokenizer (tokens, scores, types, merges, special
        ids, add-bos) and chat templates; 1-D tensors stay F32.
        """
    static let options = [
        OptionSpec(name: "output", value: "OUT", help: "output directory, or a .safetensors file (instead of the OUT argument)"),
        OptionSpec(name: "dtype", value: "bf16|f16|f32|f64", help: "target dtype for float tensors (default: keep)"),
        OptionSpec(name: "shard-size", value: "SIZE", help: "maximum shard size, e.g. 5GB (default), 500MB; 0 = one file"),
        OptionSpec(name: "force", value: nil, help: "replace OUT if it exists"),
        OptionSpec(name: "json", value: nil, help: "print a JSON summary")
    ]

    static func run(_ args: Arguments) throws -> Int32 {
        let (inputs, output) = try args.positionalsAndOutput(["IN"])
        let p = [inputs[0], output]
        if p[0].hasSuffix(".gguf") && !PathUtilities.isDirectory(p[0]) { return try fromGGUF(p[0], p[1], args) }
        if p[1].hasSuffix(".gguf") { return try toGGUF(p[0], p[1], args) }
        var options = CheckpointConverter.Options()
        if let d = args.value("dtype") {
            guard let dt = DType(userName: d), dt.isStandardFloat else { throw UsageError("--dtype must be bf16, f16, f32 or f64, got '\(d)'") }
            options.dtype = dt
        }
        if output.hasSuffix(".safetensors"), let s = args.value("shard-size"), s != "0" {
            throw UsageError("--shard-size: \(output) is one .safetensors file; write a folder to shard")
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
            Terminal.out(
                "wrote \(p[1]): \(summary.tensors) tensors in \(summary.shards) shard\(summary.shards == 1 ? "" : "s"), \(Format.bytes(summary.bytesWritten)) in \(Format.fixed(seconds, 2)) s; carried \(summary.carriedFiles.isEmpty ? "no other files" : summary.carriedFiles.joined(separator: ", "))"
            )
        }
        return 0
    }

    static func fromGGUF(_ input: String, _ output: String, _ args: Arguments) throws -> Int32 {
        var options = GGUFImporter.Options()
        if let d = args.value("dtype") {
            guard let dt = DType(userName: d), [.BF16, .F16, .F32].contains(dt) else { throw UsageError("--dtype for a GGUF input must be bf16, f16 or f32, got '\(d)'") }
            options.dtype = dt
        }
        if let s = args.value("shard-size") { options.maxShardBytes = s == "0" ? nil : try Arguments.byteSize(s, option: "shard-size") }
        options.force = args.flag("force")
        let progress = Progress("convert")
        let s = try GGUFImporter.convert(input: input, output: output, options: options, progress: progress.update)
        progress.finish()
        let types = s.inputTypes.map { "\($0.count) \($0.type)" }.joined(separator: ", ")
        if args.flag("json") {
            Terminal.out("{\"tensors\": \(s.tensors), \"bytes\": \(s.bytesWritten), \"dtype\": \"\(s.dtype.rawValue)\", \"seconds\": \(Format.fixed(progress.elapsed, 3))}")
        } else {
            Terminal.out("read \(input): \(s.architecture)" + (types.isEmpty ? "" : ", tensors \(types)"))
            Terminal.out("tokenizer: \(s.tokenizer)" + (s.chatTemplates.isEmpty ? "; no chat template" : "; chat templates: \(s.chatTemplates.joined(separator: ", "))"))
            Terminal.out(
                "wrote \(output): " + (s.tensors == 0 ? "" : "\(s.tensors) tensors as \(s.dtype.rawValue), \(Format.bytes(s.bytesWritten)) ")
                    + "in \(Format.fixed(progress.elapsed, 2)) s; \(s.files.joined(separator: ", "))")
        }
        return 0
    }

    static func toGGUF(_ input: String, _ output: String, _ args: Arguments) throws -> Int32 {
        var options = GGUFExporter.Options()
        if let d = args.value("dtype") {
            let types: [DType: GGMLType] = [.F16: .f16, .BF16: .bf16, .F32: .f32]
            guard let t = d.lowercased() == "q8_0" ? .q8_0 : DType(userName: d).flatMap({ types[$0] }) else { throw UsageError("--dtype for a GGUF output must be f16, bf16, f32 or q8_0, got '\(d)'") }
            options.type = t
        }
        guard args.value("shard-size") == nil else { throw UsageError("--shard-size does not apply to a GGUF output (one file)") }
        options.force = args.flag("force")
        let progress = Progress("convert")
        let s = try GGUFExporter.convert(input: input, output: output, options: options, progress: progress.update)
        progress.finish()
        let types = s.types.map { "\($0.count) \($0.type)" }.joined(separator: ", ")
        if args.flag("json") {
            Terminal.out("{\"tensors\": \(s.tensors), \"bytes\": \(s.bytes), \"metadata\": \(s.metadataEntries), \"seconds\": \(Format.fixed(progress.elapsed, 3))}")
        } else {
            Terminal.out("wrote \(output): \(s.tensors) tensors (\(types)), \(Format.bytes(s.bytes)) of tensor data, \(s.metadataEntries) metadata entries in \(Format.fixed(progress.elapsed, 2)) s")
            Terminal.out("tokenizer: \(s.tokenizer)" + (s.chatTemplates.isEmpty ? "; no chat template" : "; chat templates: \(s.chatTemplates.joined(separator: ", "))"))
        }
        return 0
    }
}
