import Glibc
import LEPJSON
import Models
import SafeTensors
import Support
import Surgery
import TensorMath
import Tokenizers

/// `lep vocab init` (Documentation/Propagation.md §4): a complete HF checkpoint of a base model with a new tokenizer, whose
/// `embed_tokens` / `lm_head` rows are initialised from the base rows of each new token's sub-tokens.
///
/// Row `i` of each embedding module:
/// - `TokenMapping.Source.copy(j)`: the old row `j` verbatim (specials by string, byte tokens);
/// - `.subTokens(ids)`: `mean` (default) / `sum` / occurrence-weighted mean of the old rows `ids`
///   (a repeated id counts each time, as the reference's `E[ids].mean(0)`), accumulated in float32,
///   written back in the checkpoint dtype with round-to-nearest-even;
/// - `.unmapped`: the mean of all old rows (float64 accumulation), reported.
/// Every other tensor is copied byte for byte; the output is written atomically (temporary sibling,
/// fsync, rename). Peak memory: one block of output rows in float32 (~64 MB) beyond the mapped inputs.
public enum EmbeddingInitializer {
    /// How sub-token rows are combined.
    public enum Aggregation: Sendable, Equatable {
        case mean, sum
        /// Weights per new id: old id → count (`{new_id: {old_id: count}}`). New ids absent from the
        /// map fall back to `mean` over their sub-tokens (counted in the summary).
        case occurrence(OccurrenceMap.Counts)

        /// Same kind (occurrence maps are not compared).
        public static func == (a: Aggregation, b: Aggregation) -> Bool {
            switch (a, b) {
            case (.mean, .mean), (.sum, .sum): return true
            case (.occurrence(let x), .occurrence(let y)):
                return x.count == y.count
                    && x.allSatisfy { k, v in
                        guard let w = y[k], w.count == v.count else { return false }
                        return zip(v, w).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
                    }
            default: return false
            }
        }

        /// The name the options use: mean, sum or occurrence.
        public var name: String {
            switch self {
            case .mean: "mean"
            case .sum: "sum"
            case .occurrence: "occurrence"
            }
        }
    }

    /// Options of one run.
    public struct Options: Sendable {
        /// How a new token's sub-token rows are combined.
        public var aggregation: Aggregation = .mean
        /// Replace an existing output.
        public var force = false
        /// Largest output shard in bytes; nil writes one file.
        public var maxShardBytes: Int? = 5_000_000_000
        /// Mean aggregation, 5 GB shards, no force.
        public init() {}
    }

    /// What was done, for the report.
    public struct Summary: Sendable {
        /// Rows of the base embeddings.
        public var oldRows: Int
        /// Rows written (the new vocabulary).
        public var newRows: Int
        /// Hidden size.
        public var hidden: Int
        /// New tokens the old vocabulary has (their row copied).
        public var copied: Int
        /// New tokens whose row combines their old sub-tokens' rows.
        public var aggregated: Int
        /// New ids that got the mean of all old rows.
        public var unmapped: [Int]
        /// Occurrence aggregation: ids absent from the map (plain mean used).
        public var occurrenceFallback: Int
        /// The tensors initialised (embed_tokens, and lm_head when untied).
        public var modules: [String]
        /// What changed in config.json (vocab_size, special ids).
        public var configNotes: [String]
        /// Seconds spent mapping new tokens to old ids.
        public var mappingSeconds: Double
        /// Seconds spent writing the output.
        public var writeSeconds: Double
    }

    /// The provenance file written beside the weights.
    public static let provenanceName = "lep_vocab_init.json"
    static let embedName = TensorLayout.embedTokens
    static let headName = TensorLayout.lmHead

    /// Runs `lep vocab init`: `base` model directory, `tokenizer` (directory or file) of the new
    /// vocabulary, `output` directory.
    public static func run(
        base: String, tokenizer: String, output path: String, options: Options,
        progress: ((Int, Int) -> Void)? = nil
    ) throws -> Summary {
        // Validate everything before writing.
        let checkpoint: Checkpoint
        do { checkpoint = try Checkpoint(path: base) } catch { throw SurgeryError.cannotOpenModel(path: base, reason: "\(error)") }
        let config: ModelConfig
        do { config = try ModelConfig.load(directory: checkpoint.directory) } catch { throw SurgeryError.cannotOpenModel(path: base, reason: "\(error)") }
        let oldTok: any Tokenizer
        do { oldTok = try loadTokenizer(directory: checkpoint.directory) } catch {
            throw SurgeryError.tokenizerUnreadable(model: base, reason: "\(error) (the base model's own tokenizer is needed to split new tokens)")
        }
        let newTok: any Tokenizer
        do { newTok = try loadTokenizer(path: tokenizer) } catch { throw SurgeryError.tokenizerUnreadable(model: tokenizer, reason: "\(error)") }
        guard checkpoint.contains(embedName) else { throw SurgeryError.missingTensor(tensor: embedName, model: base) }
        var modules = [embedName]
        if checkpoint.contains(headName) { modules.append(headName) }
        if !config.tieWordEmbeddings && !checkpoint.contains(headName) { throw SurgeryError.missingTensor(tensor: headName, model: base) }
        let embInfo = try lifting { try checkpoint.info(embedName) }
        guard embInfo.shape.count == 2 else { throw SurgeryError.tensorFailure(tensor: embedName, reason: "shape \(embInfo.shape) is not [V, h]") }
        let oldRows = embInfo.shape[0], hidden = embInfo.shape[1]
        for m in modules {
            let info = try lifting { try checkpoint.info(m) }
            guard info.shape == [oldRows, hidden] else { throw SurgeryError.shapeMismatch(tensor: m, model: base, shape: info.shape, expected: [oldRows, hidden]) }
            guard info.dtype.floatStorage != nil else { throw SurgeryError.unsupportedDType(tensor: m, model: base, dtype: info.dtype.rawValue) }
        }
        if oldTok.vocabularySize > oldRows {
            throw SurgeryError.vocabulary(stage: "base", reason: "\(base): its tokenizer has \(oldTok.vocabularySize) ids but \(embedName) only \(oldRows) rows")
        }
        if case .occurrence(let m) = options.aggregation, let bad = m.first(where: { k, v in k >= newTok.vocabularySize || v.contains { $0.0 >= oldRows } }) {
            throw SurgeryError.vocabulary(stage: "occurrence map", reason: "entry for new id \(bad.key) is out of range (new vocabulary \(newTok.vocabularySize), old rows \(oldRows))")
        }
        let t0 = now()
        let mapping = TokenMapping(new: newTok, old: oldTok, oldRows: oldRows)
        let newRows = mapping.count
        let t1 = now()

        // Tensors: the base's, embeddings resized.
        var specs: [TensorSpec] = []
        for name in checkpoint.tensorNames {
            let info = try lifting { try checkpoint.info(name) }
            specs.append(TensorSpec(name: name, dtype: info.dtype, shape: modules.contains(name) ? [newRows, hidden] : info.shape))
        }
        let output = try AtomicOutputDirectory(target: path, force: options.force, inputs: [checkpoint.directory, tokenizer])
        do {
            let writer = try CheckpointWriter(output: output, tensors: specs, maxShardBytes: options.maxShardBytes)
            let total = writer.totalDataBytes
            var done = 0
            var fallback = 0
            try writer.writeTensors { spec, stream in
                let view = try checkpoint.view(spec.name)
                if modules.contains(spec.name) {
                    fallback = try writeRows(view, mapping: mapping, aggregation: options.aggregation, to: stream)
                    view.file.dropPages(view.fileOffset..<(view.fileOffset + view.byteCount))  // keep RSS to one module
                } else {
                    try stream.copy(fromFD: view.file.fd, offset: view.fileOffset, count: view.byteCount)
                }
                done += stream.expected
                progress?(done, total)
            }
            // Config files.
            let (cfg, notes) = remapConfig(config.raw, file: "config.json", old: oldTok, new: newTok, vocabSize: newRows)
            try output.writeFile("config.json", contents: Array((JSONWriter.pretty(.object(cfg)) + "\n").utf8))
            var genNotes: [String] = []
            if let g = WholeFile.bytes(checkpoint.directory + "/generation_config.json"), let gv = try? JSONParser.parse(g), let go = gv.object {
                let (ng, n2) = remapConfig(go, file: "generation_config.json", old: oldTok, new: newTok, vocabSize: nil)
                genNotes = n2.map { "generation_config: " + $0 }
                try output.writeFile("generation_config.json", contents: Array((JSONWriter.pretty(.object(ng)) + "\n").utf8))
            }
            let tokenizerNames = try copyTokenizer(tokenizer, into: output)
            try keepChatTemplateSetting(of: checkpoint.directory, in: output)
            let skip = Set(["config.json", "generation_config.json", provenanceName] + ModelDirectory.tokenizerFiles(in: checkpoint.directory) + tokenizerNames)
            _ = try ModelDirectory.carryFiles(from: checkpoint.directory, into: output, except: skip)
            var summary = Summary(
                oldRows: oldRows, newRows: newRows, hidden: hidden, copied: 0, aggregated: 0, unmapped: mapping.unmappedIds,
                occurrenceFallback: fallback, modules: modules, configNotes: notes + genNotes,
                mappingSeconds: t1 - t0, writeSeconds: 0)
            for s in mapping.sources {
                switch s {
                case .copy: summary.copied += 1
                case .subTokens: summary.aggregated += 1
                case .unmapped: break
                }
            }
            try output.writeFile(provenanceName, contents: Array((JSONWriter.pretty(provenance(summary, base: base, tokenizer: tokenizer, options: options, newTok: newTok)) + "\n").utf8))
            try output.commit()
            summary.writeSeconds = now() - t1
            return summary
        } catch {
            output.abort()
            throw error
        }
    }

    /// Streams the new rows of one embedding module; returns the occurrence-fallback count.
    static func writeRows(_ view: TensorView, mapping: TokenMapping, aggregation: Aggregation, to stream: TensorByteStream) throws -> Int {
        guard let src = view.dtype.floatStorage else { throw SurgeryError.unsupportedDType(tensor: view.name, model: "base", dtype: view.dtype.rawValue) }
        let h = view.shape[1], oldRows = view.shape[0]
        let base = UncheckedSendable(view.bytes.baseAddress!)
        let esize = src.byteSize
        // Mean of all old rows (float64), only when some row needs it.
        var meanRow = [Float](repeating: 0, count: h)
        if mapping.sources.contains(.unmapped) { meanRow = columnMean(view) }
        let blockRows = max(1, (1 << 24) / h)  // 16M floats = 64 MB per block
        let block = UnsafeMutableBufferPointer<Float>.allocate(capacity: blockRows * h)
        defer { block.deallocate() }
        var fallback = 0
        if case .occurrence(let m) = aggregation {
            for (i, s) in mapping.sources.enumerated() { if case .subTokens = s, m[i] == nil { fallback += 1 } }
        }
        let n = mapping.count
        var start = 0
        let blk = UncheckedSendable(block)
        let agg = UncheckedSendable(aggregation)
        let meanRef = UncheckedSendable(meanRow)
        while start < n {
            let count = min(blockRows, n - start)
            let s0 = start
            Parallel.forChunks(count: count, minChunk: 64) { range in
                let row = UnsafeMutablePointer<Float>.allocate(capacity: h)
                defer { row.deallocate() }
                for r in range {
                    let out = blk.value.baseAddress! + r * h
                    computeRow(
                        s0 + r, mapping: mapping, aggregation: agg.value, base: base.value, storage: src, esize: esize,
                        h: h, oldRows: oldRows, mean: meanRef.value, scratch: row, out: out)
                }
            }
            // Stream the block in the checkpoint dtype (round to nearest even).
            var k = 0
            let elements = count * h
            while k < elements {
                try stream.fill(max: 1 << 22) { p, cap in
                    let c = min(cap / esize, elements - k)
                    ElementConversion.convert(UnsafeRawPointer(block.baseAddress! + k), from: .f32, to: p, as: src, count: c)
                    k += c
                    return c * esize
                }
            }
            start += count
        }
        return fallback
    }

    @inline(__always)
    static func computeRow(
        _ i: Int, mapping: TokenMapping, aggregation: Aggregation, base: UnsafeRawPointer, storage: FloatStorage,
        esize: Int, h: Int, oldRows: Int, mean: [Float], scratch: UnsafeMutablePointer<Float>,
        out: UnsafeMutablePointer<Float>
    ) {
        func load(_ j: Int) { ElementConversion.convert(base + j * h * esize, from: storage, to: scratch, as: .f32, count: h) }
        switch mapping.sources[i] {
        case .copy(let j):
            ElementConversion.convert(base + j * h * esize, from: storage, to: out, as: .f32, count: h)
        case .unmapped:
            mean.withUnsafeBufferPointer { out.update(from: $0.baseAddress!, count: h) }
        case .subTokens(let ids):
            out.update(repeating: 0, count: h)
            var weighted: [(Int, Double)]? = nil
            if case .occurrence(let m) = aggregation, let w = m[i], !w.isEmpty, w.contains(where: { $0.1 > 0 }) { weighted = w }
            if let w = weighted {
                var total: Float = 0
                for (j, c) in w where c > 0 {
                    load(j)
                    let wf = Float(c)
                    total += wf
                    for k in 0..<h { out[k] += wf * scratch[k] }
                }
                for k in 0..<h { out[k] /= total }
            } else {
                for j in ids {
                    load(j)
                    for k in 0..<h { out[k] += scratch[k] }
                }
                if aggregation != .sum {
                    let n = Float(ids.count)
                    for k in 0..<h { out[k] /= n }
                }
            }
        }
    }

    /// Column means of a [V, h] tensor, accumulated in float64.
    static func columnMean(_ view: TensorView) -> [Float] {
        let v = view.shape[0], h = view.shape[1]
        guard let s = view.dtype.floatStorage, v > 0 else { return [Float](repeating: 0, count: h) }
        let threads = max(1, min(Parallel.threadCount, v))
        let parts = UnsafeMutableBufferPointer<Double>.allocate(capacity: threads * h)
        parts.initialize(repeating: 0)
        defer { parts.deallocate() }
        let p = UncheckedSendable(parts), base = UncheckedSendable(view.bytes.baseAddress!)
        let per = (v + threads - 1) / threads
        Parallel.forChunks(count: threads, minChunk: 1) { range in
            let row = UnsafeMutablePointer<Float>.allocate(capacity: h)
            defer { row.deallocate() }
            for t in range {
                let acc = p.value.baseAddress! + t * h
                for r in (t * per)..<min(v, (t + 1) * per) {
                    ElementConversion.convert(base.value + r * h * s.byteSize, from: s, to: row, as: .f32, count: h)
                    for k in 0..<h { acc[k] += Double(row[k]) }
                }
            }
        }
        var out = [Float](repeating: 0, count: h)
        for k in 0..<h {
            var sum = 0.0
            for t in 0..<threads { sum += parts[t * h + k] }
            out[k] = Float(sum / Double(v))
        }
        return out
    }

    /// config.json / generation_config.json with `vocab_size` set and every token id
    /// (``SpecialTokenIds``) remapped by token string (a list stays a list). An id whose string the new
    /// tokenizer lacks is replaced by the new tokenizer's token of the same role (bos, eos, pad, unk)
    /// when it has one, else removed; each case is noted.
    static func remapConfig(_ o: JSONObject, file: String, old: any Tokenizer, new: any Tokenizer, vocabSize: Int?) -> (JSONObject, [String]) {
        var out = o
        var notes: [String] = []
        if let v = vocabSize { out["vocab_size"] = .number(JSONNumber(v)) }
        let roles: [String: (id: Int, token: String)] = [
            "bos_token_id": new.specialTokens.bos, "eos_token_id": new.specialTokens.eos,
            "pad_token_id": new.specialTokens.pad, "unk_token_id": new.specialTokens.unk
        ].compactMapValues { $0 }
        SpecialTokenIds.remap(&out, file: file) { (id, key, _) -> Int? in
            if let t = old.token(for: id), let n = new.id(for: t) { return n }
            if let r = roles[key] {
                notes.append("\(key) \(id) (\(old.token(for: id) ?? "?")) is not in the new vocabulary; set to the new \(r.token) (\(r.id))")
                return r.id
            }
            notes.append("\(key) \(id) (\(old.token(for: id) ?? "?")) is not in the new vocabulary; removed")
            return nil
        }
        return (out, notes)
    }

    /// The base model's chat templates when it keeps them in tokenizer_config.json (a string or a
    /// named list): the new tokenizer's tokenizer_config.json takes them over. Templates kept as files
    /// (chat_template.jinja, additional_chat_templates/) are carried with the other files.
    static func keepChatTemplateSetting(of base: String, in output: AtomicOutputDirectory) throws {
        guard let set = try ChatTemplateSet.load(directory: base), set.storage == .tokenizerConfigString || set.storage == .tokenizerConfigList else { return }
        let path = output.path("tokenizer_config.json")
        var config = JSONObject()
        if let b = WholeFile.bytes(path) {
            guard let v = try? JSONParser.parse(b, duplicateKeys: .lastWins), let o = v.object else {
                throw SurgeryError.vocabulary(stage: "chat template", reason: "the new tokenizer's tokenizer_config.json is not a JSON object")
            }
            config = o
            unlink(path)
        }
        config["chat_template"] = set.encoded().tokenizerConfigValue
        try output.writeFile("tokenizer_config.json", contents: Array((JSONWriter.pretty(.object(config)) + "\n").utf8))
    }

    /// Copies the new tokenizer's files into `output` under their HF names; returns the names.
    static func copyTokenizer(_ path: String, into output: AtomicOutputDirectory) throws -> [String] {
        var names: [String] = []
        if PathUtilities.isDirectory(path) {
            for n in ModelDirectory.tokenizerFiles(in: path) {
                try output.copyFile(from: path + "/" + n, as: n)
                names.append(n)
            }
            return names
        }
        let dir = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        let name = path.hasSuffix(".json") ? "tokenizer.json" : "tokenizer.model"
        try output.copyFile(from: path, as: name)
        names.append(name)
        for n in ["tokenizer_config.json", "special_tokens_map.json"] where PathUtilities.exists(dir + "/" + n) {
            try output.copyFile(from: dir + "/" + n, as: n)
            names.append(n)
        }
        return names
    }

    static func provenance(_ s: Summary, base: String, tokenizer: String, options: Options, newTok: any Tokenizer) -> JSONValue {
        var o = JSONObject()
        o["tool"] = .string("lep vocab init")
        o["base"] = .string(base)
        o["tokenizer"] = .string(tokenizer)
        o["aggregation"] = .string(options.aggregation.name)
        o["old_rows"] = .number(JSONNumber(s.oldRows))
        o["new_rows"] = .number(JSONNumber(s.newRows))
        o["copied_rows"] = .number(JSONNumber(s.copied))
        o["aggregated_rows"] = .number(JSONNumber(s.aggregated))
        o["occurrence_fallback_rows"] = .number(JSONNumber(s.occurrenceFallback))
        o["modules"] = .array(s.modules.map { .string($0) })
        o["unmapped_rows"] = .array(
            s.unmapped.map { id in
                .object(JSONObject([("id", .number(JSONNumber(id))), ("token", .string(newTok.token(for: id) ?? ""))]))
            })
        o["config_notes"] = .array(s.configNotes.map { .string($0) })
        return .object(o)
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}
