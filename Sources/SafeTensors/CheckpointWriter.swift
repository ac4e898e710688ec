import LEPJSON
import Support

/// Writes a (possibly sharded) Hugging Face checkpoint into an `AtomicOutputDirectory`, streaming.
///
/// Tensors are assigned to shards in natural name order (so a shard holds whole consecutive
/// layers), starting a new shard when the next tensor would push the current one past
/// `maxShardBytes`. One shard is written as `model.safetensors`; several as
/// `model-0000i-of-0000N.safetensors` plus `model.safetensors.index.json` with `total_size`.
public final class CheckpointWriter {
    /// One planned output file.
    public struct Shard: Sendable {
        /// File name inside the output directory.
        public let fileName: String
        /// Tensors in this file, in natural order.
        public let tensors: [TensorSpec]
        /// Data bytes of this shard.
        public let dataBytes: Int
    }

    /// The output directory.
    public let output: AtomicOutputDirectory
    /// The shard plan.
    public let shards: [Shard]
    /// `__metadata__` written into each shard.
    public let metadata: [String: String]
    /// Test hook: a simulated full disk after this many bytes of the first shard.
    package var failAfter: Int?

    /// Plans the checkpoint. `maxShardBytes` nil (or ≤ 0) writes a single file.
    public init(output: AtomicOutputDirectory, tensors: [TensorSpec], maxShardBytes: Int?, metadata: [String: String] = ["format": "pt"]) throws(SafeTensorsError) {
        self.output = output
        self.metadata = metadata
        let ordered = tensors.sorted(by: CheckpointWriter.modelOrder)
        var groups: [[TensorSpec]] = []
        var sizes: [Int] = []
        var current: [TensorSpec] = []
        var currentSize = 0
        var names = Set<String>()
        for spec in ordered {
            guard names.insert(spec.name).inserted else { throw .invalidTensorSpec(tensor: spec.name, reason: "duplicate tensor name") }
            let size = try spec.byteCount()
            if let limit = maxShardBytes, limit > 0, !current.isEmpty, currentSize + size > limit {
                groups.append(current); sizes.append(currentSize)
                current = []; currentSize = 0
            }
            current.append(spec)
            currentSize += size
        }
        if !current.isEmpty || groups.isEmpty { groups.append(current); sizes.append(currentSize) }
        if groups.count == 1 {
            shards = [Shard(fileName: Checkpoint.singleFileName, tensors: groups[0], dataBytes: sizes[0])]
        } else {
            let n = groups.count
            shards = groups.enumerated().map { i, g in
                Shard(fileName: CheckpointWriter.shardName(i + 1, of: n), tensors: g, dataBytes: sizes[i])
            }
        }
    }

    /// The order tensors are sharded in: embeddings, layers in numeric order, final norm, then
    /// lm_head (as transformers saves them), other names in natural order.
    public static func modelOrder(_ a: TensorSpec, _ b: TensorSpec) -> Bool {
        func rank(_ n: String) -> Int { n.hasPrefix("lm_head.") ? 2 : n.hasPrefix("model.norm.") ? 1 : 0 }
        let (ra, rb) = (rank(a.name), rank(b.name))
        return ra != rb ? ra < rb : NaturalOrder.less(a.name, b.name)
    }

    /// HF's shard file name: `model-00001-of-00004.safetensors`.
    public static func shardName(_ i: Int, of n: Int) -> String {
        func pad(_ v: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, 5 - s.count)) + s }
        return "model-\(pad(i))-of-\(pad(n)).safetensors"
    }

    /// Total data bytes.
    public var totalDataBytes: Int { shards.reduce(0) { $0 + $1.dataBytes } }

    /// Writes every shard. `produce` is called once per tensor, in the order each file lays them out,
    /// and must write exactly the tensor's bytes. Writes the index when sharded. Does not commit.
    public func writeTensors(_ produce: (TensorSpec, TensorByteStream) throws -> Void) throws {
        for (i, shard) in shards.enumerated() {
            let writer = try SafeTensorsWriter(path: output.path(shard.fileName), tensors: shard.tensors, metadata: metadata, failAfter: i == 0 ? failAfter : nil)
            for spec in writer.order {
                try writer.writeTensor(spec.name) { stream in try produce(spec, stream) }
            }
            try writer.finish(sync: false)  // fsynced with the whole directory at commit
        }
        if shards.count > 1 { try output.writeFile(Checkpoint.indexFileName, contents: Array(indexJSON().utf8)) }
    }

    /// The `model.safetensors.index.json` text (tensor names sorted, as transformers writes them).
    public func indexJSON() -> String {
        var weightMap = JSONObject()
        var entries: [(String, String)] = []
        for shard in shards { for t in shard.tensors { entries.append((t.name, shard.fileName)) } }
        for (name, file) in entries.sorted(by: { $0.0 < $1.0 }) { weightMap[name] = .string(file) }
        let parameters = shards.reduce(0) { $0 + $1.tensors.reduce(0) { $0 + $1.elementCount } }
        let root = JSONObject([
            (
                "metadata",
                .object(
                    JSONObject([
                        ("total_parameters", .number(JSONNumber(parameters))),
                        ("total_size", .number(JSONNumber(totalDataBytes)))
                    ]))
            ),
            ("weight_map", .object(weightMap))
        ])
        return JSONWriter.pretty(.object(root))
    }
}
