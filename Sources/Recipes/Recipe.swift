import LEPJSON
import SafeTensors
import Support
import Surgery

/// A merge recipe: lep's JSON format (`"lep_recipe": 1`, comments allowed) or a mergekit YAML file.
///
/// Both forms use mergekit's keys: `merge_method`, `base_model`, `models: [{model, parameters}]`,
/// `parameters`, `dtype`, `out_dtype`, `tokenizer_source`, `slices`. lep adds `seed` (random methods)
/// and `lep_recipe` (the format version, required in JSON recipes). Unknown keys are errors naming the
/// key. Relative model paths are resolved against `baseDirectory` (the current directory for
/// `lep merge`, as mergekit does).
public struct Recipe: Sendable, Equatable {
    /// The JSON recipe format version this build reads.
    public static let formatVersion = 1

    /// A model reference: a directory, optionally with a PEFT adapter applied first (`path+adapter`).
    public struct ModelRef: Equatable, Sendable, CustomStringConvertible {
        /// The model directory (resolved).
        public let path: String
        /// The adapter directory, when `model+adapter` was written.
        public let adapter: String?
        /// The text as written in the recipe.
        public let written: String

        /// The reference as written in the recipe.
        public var description: String { written }

        /// A reference to `path` (with `adapter` applied first, when given), written as `written`.
        public init(path: String, adapter: String?, written: String) {
            self.path = path; self.adapter = adapter; self.written = written
        }
    }

    /// One `models[i]` entry.
    public struct Entry: Equatable, Sendable {
        /// The model of the entry.
        public let model: ModelRef
        /// `models[i].parameters`: the per-model settings, by parameter name.
        public let parameters: [String: ParameterSetting]
        /// The recipe key of this entry (`models[1]`).
        public let key: String
    }

    /// A `slices` entry of a passthrough (layer-stacking) recipe: layers `[start, end)` of `model`.
    public struct LayerSlice: Equatable, Sendable {
        /// The model the layers come from.
        public let model: ModelRef
        /// First layer taken (`layer_range[0]`, 0-based).
        public let start: Int
        /// One past the last layer taken (`layer_range[1]`).
        public let end: Int
        /// `parameters.scale` of a passthrough source: factor applied to the slice's tensors (nil: 1).
        public let scale: Double?
        /// The recipe key of the slice's source (`slices[2].sources[0]`), for errors.
        public let key: String
    }

    /// How vocabularies of different sizes are reconciled.
    public enum TokenizerSource: Equatable, Sendable {
        /// Vocabularies must agree.
        case none
        /// Keep the base's vocabulary; rows matched by token string.
        case base
        /// The union of all vocabularies; rows matched by token string.
        case union
    }

    /// Which form the recipe was written in.
    public enum Form: String, Sendable { case json, yaml }

    /// `merge_method`, a name in the method registry.
    public var method: String
    /// `base_model` (nil when the recipe has none).
    public var base: ModelRef?
    /// `models`, in recipe order (or the models of a whole-model `slices` entry).
    public var models: [Entry]
    /// The top-level `parameters` (merged with a slice's own `parameters`), by name.
    public var parameters: [String: ParameterSetting]
    /// `dtype`: inputs are rounded to it before merging, and it is the output dtype unless `out_dtype`
    /// is given; nil keeps each tensor's dtype.
    public var dtype: DType?
    /// `out_dtype`: the output tensors' dtype (nil: `dtype`, else each input tensor's).
    public var outDtype: DType?
    /// `tokenizer_source` (default ``TokenizerSource/none``).
    public var tokenizerSource: TokenizerSource
    /// `seed` of the random methods (default 0).
    public var seed: UInt64
    /// The sources of `slices`: the layer stack of a passthrough recipe, or the one whole-model slice of
    /// another method (its ranges checked by the planner); nil when the recipe uses `models`.
    public var layerStack: [LayerSlice]?
    /// JSON (`{` first) or mergekit's YAML.
    public var form: Form
    /// The recipe text as given (copied next to the output).
    public var text: String

    /// Reads and decodes a recipe file.
    public static func load(path: String, baseDirectory: String) throws(SurgeryError) -> Recipe {
        guard let bytes = WholeFile.bytes(path) else { throw .cannotReadRecipe(path: path) }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .recipeSyntax(path: path, line: 1, message: "not UTF-8 text")
        }
        return try parse(text, path: path, baseDirectory: baseDirectory)
    }

    /// Decodes recipe text; `path` names it in errors.
    public static func parse(_ text: String, path: String, baseDirectory: String) throws(SurgeryError) -> Recipe {
        let root = try RecipeText.parse(text, path: path)
        let form: Form = RecipeText.firstSignificant(Array(text.utf8)) == UInt8(ascii: "{") ? .json : .yaml
        return try decode(root, form: form, text: text, baseDirectory: baseDirectory)
    }

    /// mergekit recipe keys lep does not implement yet, refused by name rather than as unknown keys.
    static let mergekitOnlyKeys = [
        "chat_template": "'chat_template' (choosing or writing the output's chat template)",
        "tokenizer": "the 'tokenizer:' block (per-token embedding sources)",
        "modules": "'modules' (merging modules of a multi-module model separately)"
    ]

    static func unsupportedMergekitFeature(_ key: String, _ what: String) -> SurgeryError {
        .invalidValue(
            key: key,
            reason:
                "mergekit feature \(what) is not supported yet; remove the key (lep keeps the base model's tokenizer files and chat template, or builds a union vocabulary with tokenizer_source: union)"
        )
    }

    static let topKeys = ["lep_recipe", "merge_method", "base_model", "models", "parameters", "dtype", "out_dtype", "tokenizer_source", "slices", "seed"]

    /// Builds a recipe from a parsed tree.
    public static func decode(_ root: JSONValue, form: Form, text: String, baseDirectory: String) throws(SurgeryError) -> Recipe {
        guard case .object(let o) = root else { throw .invalidValue(key: "<top level>", reason: "a recipe is a mapping of keys") }
        for k in o.keys where !topKeys.contains(k) {
            if let what = mergekitOnlyKeys[k] { throw unsupportedMergekitFeature(k, what) }
            throw .unknownKey(key: k, known: topKeys)
        }
        if form == .json {
            guard let v = o["lep_recipe"] else { throw .missingKey(key: "lep_recipe") }
            guard let n = v.number?.int64, n == Int64(formatVersion) else {
                throw .invalidValue(key: "lep_recipe", reason: "this lep reads recipe format \(formatVersion), got \(JSONWriter.compact(v))")
            }
        }
        guard let m = o["merge_method"] else { throw .missingKey(key: "merge_method") }
        guard let method = m.string else { throw .invalidValue(key: "merge_method", reason: "expected a method name") }
        var base: ModelRef?
        if let b = o["base_model"], !b.isNull {
            guard let s = b.string else { throw .invalidValue(key: "base_model", reason: "expected a model path") }
            base = try modelRef(s, key: "base_model", baseDirectory: baseDirectory)
        }
        var parameters: [String: ParameterSetting] = [:]
        if let p = o["parameters"], !p.isNull { parameters = try parameterMap(p, key: "parameters") }
        var models: [Entry] = []
        var stack: [LayerSlice]?
        if let ms = o["models"], !ms.isNull {
            guard let arr = ms.array else { throw .invalidValue(key: "models", reason: "expected a list of {model, parameters}") }
            for (i, item) in arr.enumerated() { models.append(try entry(item, key: "models[\(i)]", baseDirectory: baseDirectory)) }
        }
        if let sl = o["slices"], !sl.isNull {
            guard models.isEmpty else { throw .invalidValue(key: "slices", reason: "use either 'models' or 'slices', not both") }
            (models, stack, parameters) = try slices(sl, method: method, parameters: parameters, baseDirectory: baseDirectory)
        }
        func dtypeKey(_ k: String) throws(SurgeryError) -> DType? {
            guard let v = o[k], !v.isNull else { return nil }
            guard let s = v.string, let d = DType(userName: s), d.isStandardFloat else {
                throw .invalidValue(key: k, reason: "expected bfloat16, float16, float32 or float64")
            }
            return d
        }
        var tokenizerSource = TokenizerSource.none
        if let t = o["tokenizer_source"], !t.isNull {
            switch t.string {
            case "base": tokenizerSource = .base
            case "union": tokenizerSource = .union
            case let other?: throw unsupportedMergekitFeature("tokenizer_source", "'tokenizer_source: \(other)' (the tokenizer of one model) — lep supports 'base' and 'union'")
            case nil: throw .invalidValue(key: "tokenizer_source", reason: "expected 'base' or 'union'")
            }
        }
        var seed: UInt64 = 0
        if let s = o["seed"] {
            guard let v = s.number?.uint64 else { throw .invalidValue(key: "seed", reason: "expected a non-negative integer") }
            seed = v
        }
        return Recipe(
            method: method, base: base, models: models, parameters: parameters, dtype: try dtypeKey("dtype"),
            outDtype: try dtypeKey("out_dtype"), tokenizerSource: tokenizerSource, seed: seed,
            layerStack: stack, form: form, text: text)
    }

    static func entry(_ v: JSONValue, key: String, baseDirectory: String) throws(SurgeryError) -> Entry {
        if let s = v.string { return Entry(model: try modelRef(s, key: key, baseDirectory: baseDirectory), parameters: [:], key: key) }
        guard case .object(let o) = v else { throw .invalidValue(key: key, reason: "expected {model, parameters}") }
        for k in o.keys where k != "model" && k != "parameters" { throw .unknownKey(key: "\(key).\(k)", known: ["model", "parameters"]) }
        guard let mv = o["model"] else { throw .missingKey(key: "\(key).model") }
        guard let ms = mv.string else { throw .invalidValue(key: "\(key).model", reason: "expected a model path") }
        var params: [String: ParameterSetting] = [:]
        if let p = o["parameters"], !p.isNull { params = try parameterMap(p, key: "\(key).parameters") }
        return Entry(model: try modelRef(ms, key: "\(key).model", baseDirectory: baseDirectory), parameters: params, key: key)
    }

    /// `slices`: a layer stack for passthrough, or one slice covering whole models for other methods.
    static func slices(_ v: JSONValue, method: String, parameters: [String: ParameterSetting], baseDirectory: String) throws(SurgeryError) -> ([Entry], [LayerSlice]?, [String: ParameterSetting]) {
        guard let arr = v.array, !arr.isEmpty else { throw .invalidValue(key: "slices", reason: "expected a non-empty list of {sources}") }
        var stack: [LayerSlice] = []
        var entries: [Entry] = []
        var params = parameters
        for (i, s) in arr.enumerated() {
            let key = "slices[\(i)]"
            guard case .object(let so) = s else { throw .invalidValue(key: key, reason: "expected {sources: [...]}") }
            for k in so.keys where k != "sources" && k != "parameters" {
                if k == "base_model" || k == "residual_weight" { throw unsupportedMergekitFeature("\(key).\(k)", "a per-slice '\(k)'") }
                throw .unknownKey(key: "\(key).\(k)", known: ["sources", "parameters"])
            }
            if let p = so["parameters"], !p.isNull {
                for (k, setting) in try parameterMap(p, key: "\(key).parameters") { params[k] = setting }
            }
            guard let sources = so["sources"]?.array, !sources.isEmpty else { throw .missingKey(key: "\(key).sources") }
            if method == "passthrough" {
                guard sources.count == 1 else { throw .invalidValue(key: "\(key).sources", reason: "passthrough takes one source per slice") }
            } else if arr.count != 1 {
                throw .invalidValue(key: "slices", reason: "for '\(method)' lep supports one slice covering whole models (write 'models' instead); several slices stack layers only with passthrough")
            }
            for (j, src) in sources.enumerated() {
                let sk = "\(key).sources[\(j)]"
                guard case .object(let o) = src else { throw .invalidValue(key: sk, reason: "expected {model, layer_range}") }
                for k in o.keys where !["model", "layer_range", "parameters"].contains(k) {
                    throw .unknownKey(key: "\(sk).\(k)", known: ["model", "layer_range", "parameters"])
                }
                guard let ms = o["model"]?.string else { throw .missingKey(key: "\(sk).model") }
                let ref = try modelRef(ms, key: "\(sk).model", baseDirectory: baseDirectory)
                guard let lr = o["layer_range"]?.array, lr.count == 2, let a = lr[0].number?.int64, let b = lr[1].number?.int64, a >= 0, b > a else {
                    throw .invalidValue(key: "\(sk).layer_range", reason: "expected [start, end] with 0 ≤ start < end")
                }
                var sp: [String: ParameterSetting] = [:]
                if let p = o["parameters"], !p.isNull { sp = try parameterMap(p, key: "\(sk).parameters") }
                if method == "passthrough" {
                    for k in sp.keys where k != "scale" { throw .unknownKey(key: "\(sk).parameters.\(k)", known: ["scale"]) }
                    var scale: Double?
                    if let s = sp["scale"] {
                        guard case .number(let d) = s else { throw .invalidValue(key: "\(sk).parameters.scale", reason: "expected a number") }
                        scale = d
                    }
                    stack.append(LayerSlice(model: ref, start: Int(a), end: Int(b), scale: scale, key: sk))
                } else {
                    // Whole-model slice: the range is checked against the config by the planner.
                    stack.append(LayerSlice(model: ref, start: Int(a), end: Int(b), scale: nil, key: sk))
                    entries.append(Entry(model: ref, parameters: sp, key: sk))
                }
            }
        }
        return method == "passthrough" ? ([], stack, params) : (entries, stack, params)
    }

    static func parameterMap(_ v: JSONValue, key: String) throws(SurgeryError) -> [String: ParameterSetting] {
        guard case .object(let o) = v else { throw .invalidValue(key: key, reason: "expected a mapping of parameter names to values") }
        var out: [String: ParameterSetting] = [:]
        for (k, value) in o.members { out[k] = try setting(value, key: "\(key).\(k)") }
        return out
    }

    static func setting(_ v: JSONValue, key: String) throws(SurgeryError) -> ParameterSetting {
        switch v {
        case .number(let n): return .number(n.double)
        case .bool(let b): return .bool(b)
        case .string(let s):
            if let n = YAMLSubset.number(s) { return .number(n.double) }  // "1e-3" written as a string
            throw .invalidValue(key: key, reason: "expected a number, a Boolean, a list, or filters; got '\(s)'")
        case .array(let items):
            guard !items.isEmpty else { throw .invalidValue(key: key, reason: "an empty list") }
            if items.allSatisfy({ $0.object != nil }) {
                var entries: [FilteredSetting] = []
                for (i, item) in items.enumerated() {
                    let o = item.object!
                    for k in o.keys where k != "filter" && k != "value" { throw .unknownKey(key: "\(key)[\(i)].\(k)", known: ["filter", "value"]) }
                    var filter: String?
                    if let f = o["filter"], !f.isNull {
                        guard let s = f.string else { throw .invalidValue(key: "\(key)[\(i)].filter", reason: "expected a string") }
                        filter = s
                    }
                    guard let value = o["value"] else { throw .missingKey(key: "\(key)[\(i)].value") }
                    entries.append(FilteredSetting(filter: filter, value: try setting(value, key: "\(key)[\(i)].value")))
                }
                return .filtered(entries)
            }
            var values: [Double] = []
            for (i, item) in items.enumerated() {
                if let n = item.number { values.append(n.double); continue }
                if let s = item.string, let n = YAMLSubset.number(s) { values.append(n.double); continue }
                throw .invalidValue(key: "\(key)[\(i)]", reason: "a gradient is a list of numbers")
            }
            return .gradient(values)
        case .object:
            throw .invalidValue(key: key, reason: "expected a value, a gradient list, or a list of {filter, value}")
        case .null:
            throw .invalidValue(key: key, reason: "no value")
        }
    }

    /// `path` or `path+adapter`, resolved against `baseDirectory`.
    static func modelRef(_ s: String, key: String, baseDirectory: String) throws(SurgeryError) -> ModelRef {
        guard !s.isEmpty else { throw .invalidValue(key: key, reason: "empty model path") }
        func resolve(_ p: String) -> String { p.hasPrefix("/") ? p : (baseDirectory == "." ? p : baseDirectory + "/" + p) }
        let whole = resolve(s)
        if PathUtilities.exists(whole) || !s.contains("+") { return ModelRef(path: whole, adapter: nil, written: s) }
        let parts = s.split(separator: "+", maxSplits: 1)
        guard parts.count == 2 else { return ModelRef(path: whole, adapter: nil, written: s) }
        return ModelRef(path: resolve(String(parts[0])), adapter: resolve(String(parts[1])), written: s)
    }
}
