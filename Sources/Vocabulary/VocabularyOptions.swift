import Surgery

/// What `lep vocab build` and a pipeline's `vocab_build` step ask for, parsed by one function
/// (``init(parsing:)``) so both accept and refuse the same options (see `OptionValues`).
public struct VocabularyBuildRequest: Sendable {
    /// The old tokenizer (a model folder or tokenizer file).
    public var old: String
    /// The new tokenizer.
    public var new: String
    /// The output folder.
    public var output: String
    /// The build options.
    public var options: VocabularyBuilder.Options

    /// The keys ``init(parsing:)`` reads: options with a value, then switches.
    public static let valueKeys = ["mode", "old", "new", "output", "corpus", "keep", "add"]
    /// The switches it reads.
    public static let flagKeys = ["force"]

    /// Required: mode, old, new, output; `corpus` is required by mode optimize.
    public init(parsing o: OptionValues) throws(SurgeryError) {
        guard let mode = try o.choice("mode", VocabularyBuilder.Mode.self) else {
            throw .invalidOption(option: "mode", reason: "is required (replace, extend or optimize)")
        }
        old = try o.required("old")
        new = try o.required("new")
        output = try o.required("output")
        options = VocabularyBuilder.Options(mode: mode)
        options.corpus = o.string("corpus")
        if let k = try o.integer("keep") { options.keep = k }
        options.add = try o.integer("add")
        options.force = o.flag("force")
        if mode == .optimize, options.corpus == nil { throw .invalidOption(option: "corpus", reason: "mode optimize needs a corpus file") }
    }
}

/// What `lep vocab init` and a pipeline's `vocab_init` step ask for, parsed by one function
/// (``init(parsing:readingFiles:)``).
public struct EmbeddingInitRequest: Sendable {
    /// The base model folder.
    public var model: String
    /// The new tokenizer.
    public var tokenizer: String
    /// The output folder.
    public var output: String
    /// The initialisation options.
    public var options: EmbeddingInitializer.Options
    /// The occurrence map file of `agg: occurrence`.
    public var occurrenceMap: String?

    /// The keys it reads with a value.
    public static let valueKeys = ["model", "tokenizer", "output", "agg", "occurrence_map", "shard_size"]
    /// The switches it reads.
    public static let flagKeys = ["force"]

    /// Required: model, tokenizer, output; `occurrence_map` exactly with `agg: occurrence`, loaded (and
    /// checked) unless `readingFiles` is false (a pipeline's plan).
    public init(parsing o: OptionValues, readingFiles: Bool = true) throws(SurgeryError) {
        model = try o.required("model")
        tokenizer = try o.required("tokenizer")
        output = try o.required("output")
        options = EmbeddingInitializer.Options()
        options.force = o.flag("force")
        if let s = try o.shardSize("shard_size") { options.maxShardBytes = s }
        occurrenceMap = o.string("occurrence_map")
        switch o.string("agg") ?? "mean" {
        case "mean": options.aggregation = .mean
        case "sum": options.aggregation = .sum
        case "occurrence":
            guard let f = occurrenceMap else { throw .invalidOption(option: "occurrence_map", reason: "agg occurrence needs an occurrence map file ({new_id: {old_id: count}})") }
            if readingFiles { options.aggregation = .occurrence(try OccurrenceMap.load(path: f)) }
        case let a: throw .invalidOption(option: "agg", reason: "must be mean, sum or occurrence, got '\(a)'")
        }
        if occurrenceMap != nil, o.string("agg") != "occurrence" {
            throw .invalidOption(option: "occurrence_map", reason: "only applies to agg occurrence")
        }
    }
}
