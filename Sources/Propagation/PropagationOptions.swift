import Support
import Surgery

extension Propagator.Options {
    /// The keys ``init(parsing:toolVersion:readingFiles:)`` reads: options with a value, then switches.
    public static let valueKeys = [
        "base", "instruct", "donor", "output", "mode", "delta_shared", "compat", "fit_precision", "chat_template",
        "occurrence_map", "donor_base", "alpha_scale", "shard_size", "save_fit"
    ]
    /// The switches it reads.
    public static let flagKeys = ["skip_layer_check", "force"]

    /// The options of `lep propagate` and of a pipeline's `propagate` step, validated alike: required
    /// inputs, known names, and the rules between options (`delta_shared` only with mode delta,
    /// `occurrence_map` exactly with conversion-occurrence, `alpha_scale` only with `donor_base`).
    /// Refusals name the key (``SurgeryError/invalidOption(option:reason:)``); each front end words it.
    /// `readingFiles: false` validates without reading the chat template file (a pipeline's plan).
    public init(parsing o: OptionValues, toolVersion: String = "unknown", readingFiles: Bool = true) throws(SurgeryError) {
        self.init(base: try o.required("base"), instruct: try o.required("instruct"), donor: try o.required("donor"), output: try o.required("output"))
        if let m = try o.choice("mode", PropagationMode.self) { mode = m }
        if let d = try o.choice("delta_shared", DeltaShared.self) {
            guard mode == .delta else { throw .invalidOption(option: "delta_shared", reason: "only applies to mode delta (mode is \(mode.rawValue))") }
            deltaShared = d
        }
        if let c = o.string("compat") {
            guard c == "reference" else { throw .invalidOption(option: "compat", reason: "must be 'reference', got '\(c)'") }
            compatReference = true
        }
        if let p = try o.choice("fit_precision", FitPrecision.self) { fitPrecision = p }
        if let f = o.string("chat_template"), readingFiles {
            guard let bytes = WholeFile.bytes(f) else { throw .invalidOption(option: "chat_template", reason: "cannot read '\(f)'") }
            chatTemplate = String(decoding: bytes, as: UTF8.self)
        }
        occurrenceMap = o.string("occurrence_map")
        if occurrenceMap != nil, mode != .conversionOccurrence {
            throw .invalidOption(option: "occurrence_map", reason: "only applies to mode conversion-occurrence (mode is \(mode.rawValue))")
        }
        if occurrenceMap == nil, mode == .conversionOccurrence {
            throw .invalidOption(option: "occurrence_map", reason: "mode conversion-occurrence needs an occurrence map file ({new_id: {old_id: count}})")
        }
        donorBase = o.string("donor_base")
        if let a = try o.positiveNumber("alpha_scale") {
            guard donorBase != nil else {
                throw .invalidOption(option: "alpha_scale", reason: "applies to LoRA donors (an adapter as the donor, with donor_base = the initialised base)")
            }
            alphaScale = a
        }
        if let s = try o.shardSize("shard_size") { maxShardBytes = s }
        saveFit = o.string("save_fit")
        checkDonorLayers = !o.flag("skip_layer_check")
        force = o.flag("force")
        self.toolVersion = toolVersion
    }
}
