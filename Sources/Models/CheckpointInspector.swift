import SafeTensors
import Support
import TensorMath

/// What `lep inspect` reports about a checkpoint.
public struct InspectionReport: Sendable {
    /// One shard file.
    public struct Shard: Sendable { public let file: String; public let bytes: Int; public let tensors: Int }
    /// One tensor.
    public struct Tensor: Sendable { public let name: String; public let dtype: String; public let shape: [Int]; public let nonFinite: Int? }
    /// A problem found, with its severity.
    public struct Problem: Sendable, Equatable {
        /// `error`: the checkpoint will not load or run correctly; `warning`: unusual but usable.
        public enum Severity: String, Sendable { case error, warning }
        /// How serious the problem is.
        public let severity: Severity
        /// What was found, naming the tensor, file or config key.
        public let message: String
    }

    /// The checkpoint as given (a model folder or a `.safetensors` file).
    public let path: String
    /// `architectures[0]` of config.json (or its `model_type`); nil without a readable config.
    public let architecture: String?
    /// The parsed config.json; nil for a single file, a folder without one, or an unsupported one (see ``configProblem``).
    public let config: ModelConfig?
    /// Elements over every tensor in the files (not the count the config implies).
    public let parameterCount: Int
    /// Per dtype, in name order: tensors and data bytes.
    public let dtypes: [(dtype: String, tensors: Int, bytes: Int)]
    /// The safetensors files, in name order.
    public let shards: [Shard]
    /// Every tensor, in natural name order.
    public let tensors: [Tensor]
    /// Rows of `model.embed_tokens.weight` (nil when there is no such tensor).
    public let embeddingRows: Int?
    /// The tokenizer's vocabulary size and the file it came from (folders only; nil without a tokenizer).
    public let tokenizerVocabulary: (size: Int, source: String)?
    /// Whether lm_head is tied to the embeddings: config.json's `tie_word_embeddings`; for a single file,
    /// false when it holds `lm_head.weight`; nil when unknown.
    public let tied: Bool?
    /// Errors and warnings, in the order found.
    public let problems: [Problem]
    /// Why config.json was not understood, when it exists but could not be read as a supported config.
    public var configProblem: String? = nil
    /// True when the report has any error-level problem.
    public var hasErrors: Bool { problems.contains { $0.severity == .error } }
}

/// Builds inspection reports.
public enum CheckpointInspector {
    /// Inspects `path`. With `checkValues` every float tensor is scanned for NaN/Inf.
    public static func inspect(path: String, checkValues: Bool, progress: ((Int, Int) -> Void)? = nil) throws -> InspectionReport {
        let checkpoint = try Checkpoint(path: path)
        var problems: [InspectionReport.Problem] = []
        func error(_ m: String) { problems.append(.init(severity: .error, message: m)) }
        func warn(_ m: String) { problems.append(.init(severity: .warning, message: m)) }

        var config: ModelConfig?
        var configProblem: String?
        let isDir = PathUtilities.isDirectory(path)
        if isDir {
            let loaded = Result { () throws(ModelError) in try ModelConfig.load(directory: checkpoint.directory) }
            switch loaded {
            case .success(let c): config = c
            case .failure(.missingConfig): warn("no config.json: architecture checks skipped")
            case .failure(let e): error(e.description); configProblem = e.description
            }
        }

        var tensors: [InspectionReport.Tensor] = []
        var byDtype: [String: (Int, Int)] = [:]
        var params = 0
        let names = checkpoint.tensorNames
        var scanned = 0
        let totalBytes = checkpoint.totalDataBytes
        for name in names {
            let view = try checkpoint.view(name)
            params += view.elementCount
            byDtype[view.dtype.rawValue, default: (0, 0)].0 += 1
            byDtype[view.dtype.rawValue, default: (0, 0)].1 += view.byteCount
            var nonFinite: Int?
            if checkValues, view.dtype.isStandardFloat {
                // WeightCheck.scan: in parallel, releasing pages as it goes.
                switch Result(catching: { () throws(SafeTensorsError) in try WeightCheck.scan(view, block: 1 << 20).nonFinite }) {
                case .success(let n):
                    nonFinite = n
                    if n > 0 { error("tensor \(name) has \(n) NaN/Inf values") }
                case .failure(let e): error("tensor \(name): its values cannot be scanned: \(e)")
                }
                scanned += view.byteCount
                progress?(scanned, totalBytes)
            }
            tensors.append(.init(name: name, dtype: view.dtype.rawValue, shape: view.shape, nonFinite: nonFinite))
        }

        let embeddingRows = (try? checkpoint.info(TensorLayout.embedTokens))?.shape.first
        var tied: Bool?
        if let config {
            tied = config.tieWordEmbeddings
            let expected = TensorLayout.expected(for: config)
            let present = Set(names)
            let expectedNames = Set(expected.map(\.name))
            for e in expected {
                if !present.contains(e.name) {
                    if e.name == TensorLayout.lmHead { error("lm_head.weight is missing but tie_word_embeddings is false") } else { error("missing tensor \(e.name) (expected shape \(e.shape))") }
                } else if let info = try? checkpoint.info(e.name), info.shape != e.shape {
                    error("tensor \(e.name) has shape \(info.shape), config.json implies \(e.shape)")
                }
            }
            for n in names where !expectedNames.contains(n) {
                if n == TensorLayout.lmHead && config.tieWordEmbeddings {
                    warn("lm_head.weight is present although tie_word_embeddings is true (it will be ignored by transformers)")
                } else if n.hasSuffix("rotary_emb.inv_freq") {
                    warn("unexpected tensor \(n) (a buffer older transformers saved; harmless)")
                } else {
                    error("unexpected tensor \(n)")
                }
            }
            if let rows = embeddingRows, rows != config.vocabSize {
                error("model.embed_tokens.weight has \(rows) rows but config.json vocab_size is \(config.vocabSize)")
            }
        } else if isDir == false {
            tied = names.contains(TensorLayout.lmHead) ? false : nil
        }

        let vocab = isDir ? TokenizerVocabulary.size(in: checkpoint.directory) : nil
        if let vocab, let rows = embeddingRows {
            if vocab.size > rows {
                error("the tokenizer (\(vocab.source)) has \(vocab.size) tokens but the embeddings have only \(rows) rows")
            } else if vocab.size < rows {
                warn("embeddings have \(rows) rows, the tokenizer (\(vocab.source)) uses \(vocab.size) (padding rows are common)")
            }
        }
        if let meta = checkpoint.indexMetadata, let total = meta["total_size"]?.number?.int64, Int(total) != checkpoint.totalDataBytes {
            warn("index total_size \(total) differs from the tensors' \(checkpoint.totalDataBytes) bytes")
        }

        let shards = checkpoint.files.map { f in
            InspectionReport.Shard(file: String(f.path.split(separator: "/").last ?? ""), bytes: f.mapped.size, tensors: f.tensors.count)
        }
        let archName = config.map { $0.architectures.first ?? $0.family.rawValue }
        var report = InspectionReport(
            path: path, architecture: archName, config: config, parameterCount: params,
            dtypes: byDtype.keys.sorted().map { ($0, byDtype[$0]!.0, byDtype[$0]!.1) },
            shards: shards, tensors: tensors, embeddingRows: embeddingRows, tokenizerVocabulary: vocab,
            tied: tied, problems: problems)
        report.configProblem = configProblem
        return report
    }
}
