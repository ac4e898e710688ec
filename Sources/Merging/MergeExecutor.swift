import Dispatch
import LEPJSON
import Models
import Recipes
import SafeTensors
import Support
import Surgery
import TensorMath

/// Options of a merge run.
public struct MergeOptions: Sendable {
    /// Largest shard (nil = one file).
    public var maxShardBytes: Int? = 5_000_000_000
    /// Replace an existing output.
    public var force = false
    /// Tool version written to the provenance file.
    public var toolVersion = "unknown"
    /// Elements per chunk of the streaming executor (tests make it small so that tensors span many
    /// chunks; at most `Kernels.chunk`).
    package var chunkElements = 1 << 15
    /// Tensors with fewer elements select their inputs' magnitudes side by side, one thread per input;
    /// larger ones one input after another with each selection split between the threads (one pair
    /// buffer: half the memory). Tests lower it to cover both.
    package var sideBySideElements = 1 << 23
    /// Bytes per output block handed to the writer thread.
    package var blockBytes = 4 << 20
    /// Evaluates every tensor whole, then writes it, on one pipeline (the executor before streaming:
    /// the reference the streaming path is tested against).
    package var wholeTensors = false
    /// Test hook: the first shard fails as on a full disk after this many bytes.
    package var failAfter: Int?
    /// Defaults: 5 GB shards, no force.
    public init() {}
}

/// What a merge wrote.
public struct MergeSummary: Sendable {
    /// Tensors written.
    public let tensors: Int
    /// Safetensors shards written.
    public let shards: Int
    /// Tensor bytes written.
    public let bytes: Int
    /// Files copied from the base (config, tokenizer, ...).
    public let carriedFiles: [String]
}

/// Runs a `MergePlan`, tensor after tensor in the order the output files lay them out, as a
/// pipeline: while tensor t is computed, the kernel reads ahead tensor t + 1's inputs and a writer
/// thread writes the finished output blocks of the tensor (`OutputPipe`: 16 MiB in flight for
/// elementwise methods, up to 512 MiB for the selecting ones, so one tensor drains while the next
/// one's selection runs).
/// Tensors are computed in cache-sized chunks straight from the mapped inputs (`ChunkedMerge`:
/// elementwise methods, and the task-arithmetic family, whose sparsification keeps one float32
/// delta per input); the rest (vocabulary row maps, LoRA adapters, slerp, model_stock) take the
/// whole-tensor path: inputs converted to float32 scratch buffers, the method applied, the result
/// checked for NaN/Inf, about (inputs + 1) × the largest tensor in float32 at the peak. Input pages
/// are dropped from the process after use. Both paths give the same bits.
public enum MergeExecutor {
    /// Name of the provenance file written next to the shards.
    public static let provenanceName = "lep_merge.json"

    /// Merges every tensor of `plan` into `path` (atomically: a temporary sibling renamed at the end); `progress` gets (tensors done, total).
    public static func run(_ plan: MergePlan, output path: String, options: MergeOptions, progress: ((Int, Int) -> Void)? = nil) throws -> MergeSummary {
        let inputs = plan.sources.map { $0.checkpoint.directory } + plan.sources.compactMap { $0.ref.adapter }
        let output = try AtomicOutputDirectory(target: path, force: options.force, inputs: inputs)
        let specs = plan.tasks.map { TensorSpec(name: $0.name, dtype: $0.outDtype, shape: $0.shape) }
        let writer = try CheckpointWriter(output: output, tensors: specs, maxShardBytes: options.maxShardBytes)
        writer.failAfter = options.failAfter
        let byName = Dictionary(plan.tasks.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let total = writer.totalDataBytes
        defer { PairPool.shared.drain() }
        if options.wholeTensors {
            var done = 0
            let pool = BufferPool()
            try writer.writeTensors { spec, stream in
                guard let task = byName[spec.name] else { throw SurgeryError.tensorFailure(tensor: spec.name, reason: "not planned") }
                pool.reset()
                let result = try compute(task, plan, pool: pool)
                try write(result, as: task.outDtype, to: stream)
                done += stream.expected
                progress?(done, total)
            }
        } else {
            let order = writer.shards.flatMap { HeaderEncoder.layoutOrder($0.tensors) }
            var tasks: [MergePlan.TensorTask] = []
            for spec in order {
                guard let task = byName[spec.name] else { throw SurgeryError.tensorFailure(tensor: spec.name, reason: "not planned") }
                tasks.append(task)
            }
            try stream(tasks, plan, writer: writer, options: options, progress: progress)
        }
        if let config = plan.outputConfig {
            try output.writeFile("config.json", contents: Array((JSONWriter.pretty(.object(config)) + "\n").utf8))
        }
        var skip: Set<String> = ["config.json", provenanceName, "lep_recipe.json", "lep_recipe.yaml", "adapter_config.json"]
        if plan.union != nil { skip.formUnion(["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model"]) }
        var carried = try ModelDirectory.carryFiles(from: plan.carryFrom.checkpoint.directory, into: output, except: skip)
        if let u = plan.union {
            do { try u.tokenizer.save(directory: output.temporary) } catch {
                throw SurgeryError.vocabulary(stage: "tokenizer_source union", reason: "cannot write the union tokenizer: \(error.description)")
            }
            carried += ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]
        }
        try output.writeFile(plan.recipe.form == .json ? "lep_recipe.json" : "lep_recipe.yaml", contents: Array(plan.recipe.text.utf8))
        try output.writeFile(provenanceName, contents: Array((JSONWriter.pretty(provenance(plan, writer: writer, options: options)) + "\n").utf8))
        try output.commit()
        return MergeSummary(tensors: plan.tasks.count, shards: writer.shards.count, bytes: total, carriedFiles: carried)
    }

    /// The pipeline: this thread computes `tasks` (in the writer's order) into output blocks; a
    /// writer thread streams them into the shards. An error on either side stops both; the first
    /// one is thrown.
    static func stream(_ tasks: [MergePlan.TensorTask], _ plan: MergePlan, writer: CheckpointWriter, options: MergeOptions, progress: ((Int, Int) -> Void)?) throws {
        // Elementwise merges produce blocks about as fast as they are written: a few in flight. The
        // others compute a tensor in a burst (selection), then emit it: up to 512 MiB in flight lets
        // the writer drain one tensor while the next one's selection runs.
        let elementwise = tasks.allSatisfy { plan.method.isElementwise($0.parameters, inputs: $0.inputs.count) }
        let blockBytes = max(1 << 12, options.blockBytes)
        let pipe = OutputPipe(blockBytes: blockBytes, depth: elementwise ? 4 : max(4, (512 << 20) / blockBytes))
        let writerError = WriterOutcome()
        let finished = DispatchSemaphore(value: 0)
        let writerBox = UncheckedSendable(writer)
        DispatchQueue.global().async {
            do {
                try writerBox.value.writeTensors { _, stream in
                    while stream.written < stream.expected {
                        guard let block = pipe.next() else { throw SurgeryError.output(.writerMisuse("the merge stopped before the output was complete")) }
                        try stream.write(UnsafeRawBufferPointer(start: block.bytes, count: block.count))
                        pipe.release(block)
                    }
                }
            } catch {
                writerError.error = error
                pipe.fail()
            }
            finished.signal()
        }
        let total = writer.totalDataBytes
        var done = 0
        let pool = BufferPool(), scratch = ChunkScratch()
        do {
            var chunked = tasks.first.flatMap { ChunkedMerge($0, plan, chunk: options.chunkElements, sideBySide: options.sideBySideElements) }
            for (i, task) in tasks.enumerated() {
                // Read-ahead: the next tensor's inputs load while this one is computed.
                let next = i + 1 < tasks.count ? ChunkedMerge(tasks[i + 1], plan, chunk: options.chunkElements, sideBySide: options.sideBySideElements) : nil
                next?.readAhead()
                let alive: Bool
                if let chunked {
                    alive = try chunked.run(into: pipe, scratch: scratch, pool: pool)
                    chunked.dropPages()
                } else {
                    pool.reset()
                    alive = try emit(compute(task, plan, pool: pool), as: task.outDtype, tensor: task.name, into: pipe)
                }
                if !alive { break }
                done += task.shape.reduce(1, *) * (task.outDtype.floatStorage?.byteSize ?? 0)
                progress?(min(done, total), total)
                chunked = next
            }
        } catch {
            pipe.close()
            finished.wait()
            throw error
        }
        pipe.close()
        finished.wait()
        if let e = writerError.error { throw e }
    }

    /// Streams a whole float32 result as `dtype` blocks into `pipe`; false when the writer stopped.
    static func emit(_ x: UnsafeMutableBufferPointer<Float>, as dtype: DType, tensor: String, into pipe: OutputPipe) throws(SurgeryError) -> Bool {
        guard let storage = dtype.floatStorage else { throw .unsupportedDType(tensor: tensor, model: "output", dtype: dtype.rawValue) }
        let size = storage.byteSize, per = pipe.blockBytes / size
        var k = 0
        while k < x.count {
            guard var block = pipe.acquire() else { return false }
            let n = min(per, x.count - k)
            ElementConversion.convert(UnsafeRawPointer(x.baseAddress! + k), from: .f32, to: block.bytes, as: storage, count: n)
            block.count = n * size
            pipe.submit(block)
            k += n
        }
        return true
    }

    /// Computes one output tensor in float32, in buffers of `pool` (valid until its next reset).
    static func compute(_ task: MergePlan.TensorTask, _ plan: MergePlan, pool: BufferPool) throws(SurgeryError) -> UnsafeMutableBufferPointer<Float> {
        let n = task.shape.reduce(1, *)
        var base: UnsafeMutableBufferPointer<Float>?
        if let (s, name) = task.base {
            base = pool.take(n)
            try load(plan.sources[s], name, into: base!, map: task.rowMaps[s], fallback: nil, task: task, plan: plan)
        }
        let unionFill = plan.union != nil && !task.rowMaps.isEmpty
        var fallback = unionFill ? nil : base
        if fallback == nil, !unionFill, !task.rowMaps.isEmpty, let carry = plan.sources.firstIndex(where: { $0 === plan.carryFrom }) {
            fallback = pool.take(n)
            try load(plan.sources[carry], task.name, into: fallback!, map: task.rowMaps[carry], fallback: nil, task: task, plan: plan)
        }
        var inputs: [UnsafeMutableBufferPointer<Float>] = []
        for (s, name) in task.inputs {
            let b = pool.take(n)
            try load(plan.sources[s], name, into: b, map: task.rowMaps[s], fallback: fallback, task: task, plan: plan)
            inputs.append(b)
        }
        if unionFill, let u = plan.union {
            var loaded: [(source: Int, buffer: UnsafeMutableBufferPointer<Float>)] = []
            if let (s, _) = task.base, let base { loaded.append((s, base)) }
            for ((s, _), b) in zip(task.inputs, inputs) { loaded.append((s, b)) }
            fillMissingRows(loaded, maps: task.rowMaps, preferred: u.preferred, rows: task.shape[0], cols: n / max(task.shape[0], 1))
        }
        // The result overwrites θ₀ (or the first input): one float32 buffer fewer at the peak.
        guard let out = base ?? inputs.first else { throw .tensorFailure(tensor: task.name, reason: "no inputs") }
        let seed = Kernels.mix(plan.recipe.seed ^ Kernels.stableHash(task.name))
        let job = MergeJob(tensor: task.name, shape: task.shape, base: base, inputs: inputs, parameters: task.parameters, seed: seed, output: out)
        try plan.method.merge(job)
        let bad = Kernels.nonFinite(out)
        if bad > 0 { throw .nonFiniteOutput(tensor: task.name, count: bad) }
        return out
    }

    /// Loads a source tensor, gathering rows by token when the vocabulary was reconciled.
    static func load(
        _ source: ModelSource, _ name: String, into dst: UnsafeMutableBufferPointer<Float>, map: [Int?]?, fallback: UnsafeMutableBufferPointer<Float>?, task: MergePlan.TensorTask, plan: MergePlan
    ) throws(SurgeryError) {
        guard let map else { try source.load(name, into: dst, through: plan.recipe.dtype); return }
        let info = try lifting { try source.checkpoint.info(name) }
        let cols = info.shape.count == 2 ? info.shape[1] : 1
        let tmp = UnsafeMutableBufferPointer<Float>.allocate(capacity: info.elementCount)
        defer { tmp.deallocate() }
        try source.load(name, into: tmp, through: plan.recipe.dtype)
        for (r, src) in map.enumerated() {
            let d = dst.baseAddress! + r * cols
            if let src {
                d.update(from: tmp.baseAddress! + src * cols, count: cols)
            } else if let fallback {
                d.update(from: fallback.baseAddress! + r * cols, count: cols)
            } else {
                d.update(repeating: 0, count: cols)
            }
        }
    }

    /// `tokenizer_source: union` (mergekit's PermutedVocabulary): a row an input lacks takes the
    /// preferred source's row when that source has the token, else the mean of the rows of the inputs
    /// that have it (summed in source order, then divided; one input → its row), else zeros.
    static func fillMissingRows(_ loaded: [(source: Int, buffer: UnsafeMutableBufferPointer<Float>)], maps: [Int: [Int?]], preferred: Int?, rows: Int, cols: Int) {
        let row = UnsafeMutableBufferPointer<Float>.allocate(capacity: cols)
        defer { row.deallocate() }
        for r in 0..<rows {
            let has = loaded.map { maps[$0.source]?[r] != nil }
            if !has.contains(false) { continue }
            if let p = preferred, let k = loaded.firstIndex(where: { $0.source == p }), has[k] {
                row.baseAddress!.update(from: loaded[k].buffer.baseAddress! + r * cols, count: cols)
            } else {
                row.update(repeating: 0)
                var count: Float = 0
                for (k, l) in loaded.enumerated() where has[k] {
                    let src = l.buffer.baseAddress! + r * cols
                    for j in 0..<cols { row[j] += src[j] }
                    count += 1
                }
                if count > 1 { for j in 0..<cols { row[j] /= count } }
            }
            for (k, l) in loaded.enumerated() where !has[k] {
                (l.buffer.baseAddress! + r * cols).update(from: row.baseAddress!, count: cols)
            }
        }
    }

    /// Streams a float32 buffer as `dtype`.
    static func write(_ x: UnsafeMutableBufferPointer<Float>, as dtype: DType, to stream: TensorByteStream) throws {
        guard let storage = dtype.floatStorage else { throw SurgeryError.unsupportedDType(tensor: "<output>", model: "output", dtype: dtype.rawValue) }
        let size = storage.byteSize
        var k = 0
        while stream.written < stream.expected {
            try stream.fill(max: 1 << 22) { p, cap in
                let count = min(cap / size, x.count - k)
                ElementConversion.convert(UnsafeRawPointer(x.baseAddress! + k), from: .f32, to: p, as: storage, count: count)
                k += count
                return count * size
            }
        }
    }

    /// The provenance document: tool, method, seed, inputs with header hashes, outputs.
    static func provenance(_ plan: MergePlan, writer: CheckpointWriter, options: MergeOptions) -> JSONValue {
        var inputs: [JSONValue] = []
        for s in plan.sources {
            var o = JSONObject()
            o["role"] = .string(s.role)
            o["model"] = .string(s.ref.written)
            o["path"] = .string(PathUtilities.realPath(s.checkpoint.directory) ?? s.checkpoint.directory)
            o["shard_header_sha256"] = .object(JSONObject(s.headerHashes().map { ($0.file, .string($0.sha256)) }))
            if let a = s.adapter {
                o["adapter"] = .string(a.path)
                o["adapter_config_sha256"] = .string(a.configHash)
            }
            inputs.append(.object(o))
        }
        return .object(
            JSONObject([
                ("tool", .string("lep")),
                ("version", .string(options.toolVersion)),
                ("merge_method", .string(plan.method.name)),
                ("seed", .number(JSONNumber(plan.recipe.seed))),
                ("recipe_sha256", .string(SHA256.hex(Array(plan.recipe.text.utf8)))),
                ("recipe_file", .string(plan.recipe.form == .json ? "lep_recipe.json" : "lep_recipe.yaml")),
                ("arithmetic", .string("float32")),
                ("inputs", .array(inputs)),
                ("shards", .array(writer.shards.map { .string($0.fileName) })),
                ("tensors", .number(JSONNumber(plan.tasks.count)))
            ]))
    }
}

/// The writer thread's error, read by the computing thread after the writer finished.
final class WriterOutcome: @unchecked Sendable {
    var error: (any Error)?
}

/// Float32 scratch buffers reused from tensor to tensor (each grows to the largest tensor it held),
/// so the pages are faulted in once per run rather than once per tensor.
final class BufferPool {
    private var slots: [UnsafeMutableBufferPointer<Float>] = []
    private var used = 0

    /// Makes every buffer available again.
    func reset() { used = 0 }

    /// A buffer of `n` elements (contents undefined).
    func take(_ n: Int) -> UnsafeMutableBufferPointer<Float> {
        if used == slots.count { slots.append(UnsafeMutableBufferPointer(start: nil, count: 0)) }
        if slots[used].count < n {
            slots[used].deallocate()
            slots[used] = .allocate(capacity: n)
        }
        used += 1
        return UnsafeMutableBufferPointer(rebasing: slots[used - 1][0..<n])
    }

    deinit { for s in slots { s.deallocate() } }
}
