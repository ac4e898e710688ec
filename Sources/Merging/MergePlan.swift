import LEPJSON
import Models
import Recipes
import SafeTensors
import Surgery

/// A validated merge: every input opened and checked, every output tensor planned with its inputs,
/// parameters and dtype. Built by `MergePlan.make` before any byte is written.
public struct MergePlan: @unchecked Sendable {
    /// Where one output tensor's inputs come from.
    public struct TensorTask: Sendable {
        /// Output tensor name.
        public let name: String
        /// Output shape.
        public let shape: [Int]
        /// Output dtype.
        public let outDtype: DType
        /// Base tensor (source index into `sources`, tensor name), for methods with a base.
        public let base: (source: Int, tensor: String)?
        /// Non-base inputs (source index, tensor name).
        public let inputs: [(source: Int, tensor: String)]
        /// The method's parameters for this tensor (per model and global).
        public let parameters: ResolvedParameters
        /// Layer position t ∈ [0, 1] used for gradients.
        public let t: Double
        /// Vocabulary tensors reconciled by token: per source, output row → source row (nil = fallback).
        public let rowMaps: [Int: [Int?]]
    }

    /// The recipe planned.
    public let recipe: Recipe
    /// Its merge method.
    public let method: any MergeMethod
    /// Every opened model; `sources[0]` is the base (or the first model without a base).
    public let sources: [ModelSource]
    /// One task per output tensor, in output order.
    public let tasks: [TensorTask]
    /// config.json of the output.
    public let outputConfig: JSONObject?
    /// The model whose tokenizer and other files are carried to the output.
    public let carryFrom: ModelSource
    /// Notes shown with the plan (reconciled vocabularies, dtype casts).
    public let notes: [String]
    /// `tokenizer_source: union`: the output tokenizer and how rows missing from an input are filled.
    public internal(set) var union: UnionVocabulary? = nil

    /// Total output bytes.
    public var outputBytes: Int { tasks.reduce(0) { $0 + (($1.outDtype.byteCount(elements: $1.shape.reduce(1, *))) ?? 0) } }

    /// Validates the recipe against the method and the inputs, and plans every tensor.
    public static func make(_ recipe: Recipe) throws(SurgeryError) -> MergePlan {
        guard let method = MethodRegistry.find(recipe.method) else {
            throw .unknownMethod(name: recipe.method, known: MethodRegistry.names)
        }
        try checkParameterKeys(recipe, method)
        if let stack = recipe.layerStack, method.name == "passthrough" {
            return try makeStack(recipe, method, stack)
        }
        // Roles: base (θ₀) and the merged inputs.
        var entries = recipe.models
        var base: ModelSource?
        var sources: [ModelSource] = []
        if method.basePolicy == .required {
            guard let b = recipe.base else { throw .methodInputs(method: method.name, reason: "needs base_model") }
            base = try ModelSource(ref: b, role: "base_model")
            sources.append(base!)
            entries.removeAll { $0.model == b }
        }
        guard method.inputCount.contains(entries.count) else {
            let want = method.inputCount.lowerBound == method.inputCount.upperBound ? "\(method.inputCount.lowerBound)" : "\(method.inputCount.lowerBound) or more"
            throw .methodInputs(method: method.name, reason: "takes \(want) model\(method.inputCount.upperBound == 1 ? "" : "s") besides the base, got \(entries.count)")
        }
        var inputIndex: [Int] = []
        for e in entries {
            inputIndex.append(sources.count)
            sources.append(try ModelSource(ref: e.model, role: e.key))
        }
        let reference = sources[0]
        let carry = base ?? (recipe.base.map { b in sources.first { $0.ref == b } } ?? nil) ?? reference
        let layers = reference.layerCount ?? inferLayers(reference.checkpoint.tensorNames)
        if let stack = recipe.layerStack {  // a whole-model slice written as `slices`
            for s in stack where s.start != 0 || s.end != layers {
                throw .invalidValue(key: "\(s.key).layer_range", reason: "[\(s.start), \(s.end)] must cover all \(layers) layers for \(method.name) (partial slices are passthrough-only)")
            }
        }
        // Tensor sets, shapes, dtypes, vocabularies.
        let names = reference.checkpoint.tensorNames
        var notes: [String] = []
        var vocabMaps: [Int: [Int?]] = [:]
        var outRows: Int?
        for s in sources.dropFirst() {
            for n in s.checkpoint.tensorNames where !reference.checkpoint.contains(n) { throw .missingTensor(tensor: n, model: reference.label) }
            for n in names where !s.checkpoint.contains(n) { throw .missingTensor(tensor: n, model: s.label) }
        }
        for n in names {
            let refInfo = try lifting { try reference.checkpoint.info(n) }
            for s in sources {
                let info = try lifting { try s.checkpoint.info(n) }
                guard info.dtype.isStandardFloat else { throw .unsupportedDType(tensor: n, model: s.label, dtype: info.dtype.rawValue) }
                if info.shape == refInfo.shape { continue }
                if isVocabulary(n), info.shape.count == 2, refInfo.shape.count == 2, info.shape[1] == refInfo.shape[1] {
                    guard recipe.tokenizerSource == .base || recipe.tokenizerSource == .union else {
                        throw .vocabularyMismatch(model: s.label, rows: info.shape[0], baseRows: refInfo.shape[0])
                    }
                    continue
                }
                throw .shapeMismatch(tensor: n, model: s.label, shape: info.shape, expected: refInfo.shape)
            }
        }
        if recipe.tokenizerSource == .base {
            let (maps, rows, note) = try Vocabulary.reconcile(sources: sources, reference: carry)
            vocabMaps = maps
            outRows = rows
            if let note { notes.append(note) }
        }
        var union: UnionVocabulary?
        if recipe.tokenizerSource == .union {
            let preferred = recipe.base.flatMap { b in sources.firstIndex { $0.ref == b } }
            let (maps, u, note) = try Vocabulary.union(sources: sources, reference: carry, preferred: preferred)
            vocabMaps = maps
            outRows = u.rows
            union = u
            notes.append(note)
        }
        // Per-tensor tasks.
        var tasks: [TensorTask] = []
        let baseSource = base != nil ? 0 : nil
        for n in names {
            let info = try lifting { try carry.checkpoint.info(n) }
            var shape = info.shape
            if isVocabulary(n), let rows = outRows { shape[0] = rows }
            let t = layerPosition(n, layers: layers)
            let params = try resolve(recipe, method, entries: entries, tensor: n, t: t)
            let out = recipe.outDtype ?? recipe.dtype ?? info.dtype
            tasks.append(
                TensorTask(
                    name: n, shape: shape, outDtype: out, base: baseSource.map { ($0, n) },
                    inputs: inputIndex.map { ($0, n) }, parameters: params, t: t,
                    rowMaps: isVocabulary(n) ? vocabMaps : [:]))
        }
        if let d = recipe.dtype, d == .BF16 || d == .F16 { notes.append("inputs are rounded to \(d.rawValue) before merging (dtype); arithmetic is float32") }
        var config = carry.config
        if let o = recipe.outDtype ?? recipe.dtype, config != nil { setDtype(&config!, o) }
        if let rows = outRows, config != nil { config!["vocab_size"] = .number(JSONNumber(rows)) }
        return MergePlan(recipe: recipe, method: method, sources: sources, tasks: tasks, outputConfig: config, carryFrom: carry, notes: notes, union: union)
    }

    /// Passthrough with `slices`: layers `[start, end)` of each slice stacked in order.
    static func makeStack(_ recipe: Recipe, _ method: any MergeMethod, _ stack: [Recipe.LayerSlice]) throws(SurgeryError) -> MergePlan {
        var sources: [ModelSource] = []
        var byRef: [String: Int] = [:]
        for s in stack where byRef[s.model.written] == nil {
            byRef[s.model.written] = sources.count
            sources.append(try ModelSource(ref: s.model, role: s.key.components(beforeLast: ".sources")))
        }
        let first = sources[byRef[stack[0].model.written]!]
        let last = sources[byRef[stack[stack.count - 1].model.written]!]
        var tasks: [TensorTask] = []
        var outLayer = 0
        func task(_ out: String, _ src: Int, _ tensor: String, scale: Double?) throws(SurgeryError) -> TensorTask {
            let info = try lifting { try sources[src].checkpoint.info(tensor) }
            guard info.dtype.isStandardFloat else { throw .unsupportedDType(tensor: tensor, model: sources[src].label, dtype: info.dtype.rawValue) }
            let params = ResolvedParameters(global: [:], perModel: [["scale": .number(scale ?? 1)]])
            return TensorTask(
                name: out, shape: info.shape, outDtype: recipe.outDtype ?? recipe.dtype ?? info.dtype, base: nil,
                inputs: [(src, tensor)], parameters: params, t: 0, rowMaps: [:])
        }
        let nonLayer = first.checkpoint.tensorNames.filter { layerIndex($0) == nil }
        for n in nonLayer where !(n.hasPrefix("model.norm.") || n.hasPrefix("lm_head.")) {
            tasks.append(try task(n, byRef[stack[0].model.written]!, n, scale: nil))
        }
        for s in stack {
            let si = byRef[s.model.written]!
            let src = sources[si]
            let layers = src.layerCount ?? inferLayers(src.checkpoint.tensorNames)
            guard s.end <= layers else { throw .invalidValue(key: "\(s.key).layer_range", reason: "[\(s.start), \(s.end)] exceeds the \(layers) layers of \(s.model.written)") }
            for l in s.start..<s.end {
                let prefix = "model.layers.\(l)."
                for n in src.checkpoint.tensorNames where n.hasPrefix(prefix) {
                    let out = "model.layers.\(outLayer)." + n.dropFirst(prefix.count)
                    tasks.append(try task(out, si, n, scale: s.scale))
                }
                outLayer += 1
            }
        }
        let lastIndex = byRef[stack[stack.count - 1].model.written]!
        for n in last.checkpoint.tensorNames where layerIndex(n) == nil && (n.hasPrefix("model.norm.") || n.hasPrefix("lm_head.")) {
            tasks.append(try task(n, lastIndex, n, scale: nil))
        }
        var config = first.config
        if config != nil {
            config!["num_hidden_layers"] = .number(JSONNumber(outLayer))
            if let o = recipe.outDtype ?? recipe.dtype { setDtype(&config!, o) }
        }
        return MergePlan(
            recipe: recipe, method: method, sources: sources, tasks: tasks, outputConfig: config, carryFrom: first,
            notes: ["stacked \(outLayer) layers from \(stack.count) slices"])
    }

    static func setDtype(_ config: inout JSONObject, _ d: DType) { ModelConfig.setDtype(&config, d) }

    /// Every parameter key in the recipe is declared by the method, with the right kind and place.
    static func checkParameterKeys(_ recipe: Recipe, _ method: any MergeMethod) throws(SurgeryError) {
        let specs = Dictionary(method.parameters.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let known = method.parameters.map(\.name)
        func check(_ params: [String: ParameterSetting], key: String, perModel: Bool) throws(SurgeryError) {
            for (k, v) in params.sorted(by: { $0.key < $1.key }) {
                guard let spec = specs[k] else { throw .unknownKey(key: "\(key).\(k)", known: known) }
                if perModel && spec.scope == .global {
                    throw .invalidValue(key: "\(key).\(k)", reason: "'\(k)' applies to the whole merge; set it under the top-level parameters")
                }
                try checkKind(v, spec, key: "\(key).\(k)")
            }
        }
        try check(recipe.parameters, key: "parameters", perModel: false)
        for e in recipe.models { try check(e.parameters, key: "\(e.key).parameters", perModel: true) }
    }

    static func checkKind(_ v: ParameterSetting, _ spec: ParameterSpec, key: String) throws(SurgeryError) {
        switch (v, spec.kind) {
        case (.bool, .bool), (.number, .number), (.gradient, .number): return
        case (.filtered(let entries), _):
            for (i, e) in entries.enumerated() { try checkKind(e.value, spec, key: "\(key)[\(i)].value") }
        default:
            throw .invalidValue(key: key, reason: "'\(spec.name)' is a \(spec.kind.rawValue)")
        }
    }

    /// Resolves every declared parameter for one tensor (model → top-level → default).
    static func resolve(_ recipe: Recipe, _ method: any MergeMethod, entries: [Recipe.Entry], tensor: String, t: Double) throws(SurgeryError) -> ResolvedParameters {
        var global: [String: ParameterScalar] = [:]
        var perModel = [[String: ParameterScalar]](repeating: [:], count: entries.count)
        for spec in method.parameters {
            let top = recipe.parameters[spec.name]?.resolve(tensor: tensor, t: t)
            switch spec.scope {
            case .global:
                guard let v = top ?? spec.defaultValue else { throw .missingKey(key: "parameters.\(spec.name)") }
                global[spec.name] = v
            case .perModel:
                for (i, e) in entries.enumerated() {
                    guard let v = e.parameters[spec.name]?.resolve(tensor: tensor, t: t) ?? top ?? spec.defaultValue else {
                        throw .missingKey(key: "\(e.key).parameters.\(spec.name)")
                    }
                    perModel[i][spec.name] = v
                }
            }
        }
        return ResolvedParameters(global: global, perModel: perModel)
    }

    /// True for tensors with a vocabulary axis (rows = tokens).
    public static func isVocabulary(_ name: String) -> Bool { TensorLayout.isVocabularyIndexed(name) }

    /// `i` of `model.layers.i.…`.
    static func layerIndex(_ name: String) -> Int? {
        guard name.hasPrefix("model.layers.") else { return nil }
        return Int(name.dropFirst("model.layers.".count).prefix { $0 != "." })
    }

    /// mergekit's gradient position: i / (L − 1) inside the layers (1 when L = 1), 0 elsewhere.
    static func layerPosition(_ name: String, layers: Int) -> Double {
        guard let i = layerIndex(name) else { return 0 }
        return layers > 1 ? Double(i) / Double(layers - 1) : 1
    }

    static func inferLayers(_ names: [String]) -> Int { (names.compactMap(layerIndex).max() ?? -1) + 1 }

    /// The plan as text (`lep merge --dry-run`).
    public func describe() -> [String] {
        var lines = ["method:      \(method.name) (\(method.summary))"]
        for (i, s) in sources.enumerated() {
            let role = (i == 0 && method.basePolicy == .required) ? "base" : "input"
            let adapter = s.ref.adapter.map { " + LoRA \($0)" } ?? ""
            lines.append("\(role.padded(7)) \(s.role): \(s.checkpoint.directory)\(adapter) (\(s.checkpoint.tensorCount) tensors)")
        }
        lines.append("output:      \(tasks.count) tensors, \(outputBytes) bytes; dtypes " + Set(tasks.map { $0.outDtype.rawValue }).sorted().joined(separator: ", "))
        if method.isRandom { lines.append("seed:        \(recipe.seed)") }
        for note in notes { lines.append("note:        \(note)") }
        // Parameters of the first layer-0 tensor and of the embeddings, as a sample.
        for task in tasks where task.name == TensorLayout.embedTokens || task.name.hasPrefix("model.layers.0.self_attn.q_proj") {
            var parts = task.parameters.global.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            for (i, m) in task.parameters.perModel.enumerated() where !m.isEmpty {
                parts.append("[\(i)] " + m.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
            }
            lines.append("params:      \(task.name): \(parts.joined(separator: "; "))")
        }
        return lines
    }
}

extension String {
    func padded(_ n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
    func components(beforeLast marker: String) -> String {
        guard let r = range(of: marker) else { return self }
        return String(self[..<r.lowerBound])
    }
}
