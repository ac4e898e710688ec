import LEPJSON
import SafeTensors
import Support
import TensorMath

/// Re-types and re-shards a checkpoint, streaming tensor by tensor.
///
/// Tensors that keep their dtype are copied file-to-file in the kernel (`copy_file_range`);
/// float tensors that change dtype are converted in 4 MiB chunks (round to nearest even) and the
/// source pages are released as soon as they are consumed, so memory stays flat whatever the size.
public enum CheckpointConverter {
    /// What `convert` should do.
    public struct Options: Sendable {
        /// Target dtype for floating-point tensors; nil keeps each tensor's dtype.
        public var dtype: DType?
        /// Maximum shard size in bytes; nil writes one file.
        public var maxShardBytes: Int? = 5_000_000_000
        /// Replace an existing output.
        public var force = false
        /// Keep dtypes, 5 GB shards, never replace an output.
        public init() {}
    }

    /// What was written.
    public struct Summary: Sendable {
        /// Tensors written.
        public let tensors: Int
        /// Shard files written (1 for a single-file output).
        public let shards: Int
        /// Tensor data bytes written (headers not included).
        public let bytesWritten: Int
        /// Other files copied from the input folder (tokenizer, config, ...), config.json included when
        /// rewritten; sorted; empty for a single-file output.
        public let carriedFiles: [String]
    }

    /// Converts `input` (a model directory or .safetensors file) into the directory `output`, or into
    /// the single file `output` when its name ends in `.safetensors` (one shard, no other files).
    public static func convert(input: String, output path: String, options: Options, progress: ((Int, Int) -> Void)? = nil) throws -> Summary {
        let singleFile = path.hasSuffix(".safetensors")
        try AtomicOutputDirectory.check(target: path, force: options.force, inputs: [input])
        let checkpoint = try Checkpoint(path: input)
        if let d = options.dtype, !d.isStandardFloat {
            throw SafeTensorsError.invalidTensorSpec(tensor: "*", reason: "the output dtype must be bf16, f16, f32 or f64, not \(d.rawValue)")
        }
        var specs: [TensorSpec] = []
        for name in checkpoint.tensorNames {
            let info = try checkpoint.info(name)
            let target = (options.dtype != nil && info.dtype.isStandardFloat) ? options.dtype! : info.dtype
            specs.append(TensorSpec(name: name, dtype: target, shape: info.shape))
        }
        // Config is validated (if present) before anything is written.
        let configPath = checkpoint.directory + "/config.json"
        var rewrittenConfig: [UInt8]?
        let isDirectoryInput = PathUtilities.isDirectory(input)
        if isDirectoryInput, !singleFile, let bytes = WholeFile.bytes(configPath), let d = options.dtype {
            // Only the dtype keys change: a model type lep cannot describe (qwen2, ...) converts too.
            guard let parsed = try? JSONParser.parse(bytes), case .object(var config) = parsed else {
                throw ModelError.invalidJSON(path: configPath, detail: "config.json is not a JSON object")
            }
            ModelConfig.setDtype(&config, d)
            rewrittenConfig = Array(JSONWriter.pretty(.object(config)).utf8)
        }
        var metadata: [String: String] = [:]
        for f in checkpoint.files { metadata.merge(f.header.metadata) { a, _ in a } }
        if metadata.isEmpty { metadata = ["format": "pt"] }

        let out = try AtomicOutputDirectory(target: path, force: options.force, inputs: [input])
        let writer = try CheckpointWriter(output: out, tensors: specs, maxShardBytes: singleFile ? nil : options.maxShardBytes, metadata: metadata)
        let total = writer.totalDataBytes
        var done = 0
        try writer.writeTensors { spec, stream in
            let view = try checkpoint.view(spec.name)
            if view.dtype == spec.dtype {
                try stream.copy(fromFD: view.file.fd, offset: view.fileOffset, count: view.byteCount)
            } else {
                let inSize = view.dtype.bitWidth / 8, outSize = spec.dtype.bitWidth / 8
                var element = 0
                while stream.written < stream.expected {
                    let start = element
                    try stream.fill(max: 1 << 22) { p, cap in
                        let n = min(cap / outSize, view.elementCount - start)
                        // Both dtypes are standard floats here, so the conversion cannot fail.
                        try? view.convert(elements: start..<(start + n), into: p, as: spec.dtype)
                        return n * outSize
                    }
                    element = stream.written / outSize
                    view.file.dropPages(view.fileOffset + start * inSize..<view.fileOffset + element * inSize)
                }
            }
            done += stream.expected
            progress?(done, total)
        }
        if singleFile {
            try out.commitFile("model.safetensors")
            return Summary(tensors: specs.count, shards: 1, bytesWritten: total, carriedFiles: [])
        }
        var carried: [String] = []
        if isDirectoryInput {
            carried = try ModelDirectory.carryFiles(from: checkpoint.directory, into: out, except: rewrittenConfig != nil ? ["config.json"] : [])
            if let rewrittenConfig {
                try out.writeFile("config.json", contents: rewrittenConfig)
                carried.append("config.json")
                carried.sort()
            }
        }
        try out.commit()
        return Summary(tensors: specs.count, shards: writer.shards.count, bytesWritten: total, carriedFiles: carried)
    }
}
