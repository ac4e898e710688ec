import Support

/// Every way a checkpoint-surgery operation (recipe, merge, LoRA, task vector, vocabulary, propagation) is refused; each case names the culprit
/// (recipe key, tensor, file) and, where it helps, the fix.
public enum SurgeryError: Error, Equatable, Sendable {
    /// The recipe file cannot be read.
    case cannotReadRecipe(path: String)
    /// The recipe text does not parse (JSON or YAML); `line` is 1-based.
    case recipeSyntax(path: String, line: Int, message: String)
    /// A recipe key is unknown (`models[1].parameters.foo`).
    case unknownKey(key: String, known: [String])
    /// A recipe key is missing.
    case missingKey(key: String)
    /// A recipe key has a value of the wrong type or out of range.
    case invalidValue(key: String, reason: String)
    /// The merge method is not known.
    case unknownMethod(name: String, known: [String])
    /// The recipe's inputs do not fit the method (count, base).
    case methodInputs(method: String, reason: String)
    /// An input model cannot be opened.
    case cannotOpenModel(path: String, reason: String)
    /// A tensor is present in one input and absent from another.
    case missingTensor(tensor: String, model: String)
    /// Input shapes disagree for a tensor.
    case shapeMismatch(tensor: String, model: String, shape: [Int], expected: [Int])
    /// A tensor is not a floating-point tensor lep can merge.
    case unsupportedDType(tensor: String, model: String, dtype: String)
    /// Vocabulary sizes differ and nothing says how to reconcile them.
    case vocabularyMismatch(model: String, rows: Int, baseRows: Int)
    /// A tokenizer file needed to reconcile vocabularies is missing or unreadable.
    case tokenizerUnreadable(model: String, reason: String)
    /// A merged tensor holds NaN or ±Inf.
    case nonFiniteOutput(tensor: String, count: Int)
    /// A per-tensor computation is impossible (a zero weight sum with normalize...).
    case tensorFailure(tensor: String, reason: String)
    /// A LoRA adapter is malformed or does not fit its base model.
    case invalidAdapter(path: String, reason: String)
    /// A task-vector (delta) file is malformed or does not fit the base.
    case invalidDelta(path: String, reason: String)
    /// An occurrence map (`{new_id: {old_id: count}}`) is unreadable or malformed.
    case invalidOccurrenceMap(path: String, reason: String)
    /// zstd failed.
    case compression(path: String, reason: String)
    /// An option has a value the operation refuses, or is missing or out of place. `option` is the
    /// option's neutral name, as a pipeline key spells it (`alpha_scale`); the command line and the
    /// pipeline runner word it as their users wrote it (`--alpha-scale`, `steps[2] 'p'.alpha_scale`).
    case invalidOption(option: String, reason: String)
    /// Writing the output failed or was refused (it exists, it overlaps an input, a full disk...).
    case output(FileError)
    /// An error from a lower layer (safetensors, tokenizers) that no case here names, with its context.
    case io(String)
    /// Building or mapping a vocabulary failed (`stage`: the tokenizer or step at fault).
    case vocabulary(stage: String, reason: String)
    /// Propagation: a model (`role`: base, instruct, donor) lacks an embedding module it needs.
    case missingEmbedding(role: String, model: String, tensor: String, reason: String)
    /// Propagation: the models' embeddings do not fit together (tying, hidden size, row counts);
    /// `what` names the property, `found` what was found, `fix` what the three models must satisfy.
    case incompatibleEmbeddings(what: String, found: String, fix: String)
    /// Propagation: a model's tokenizer has more ids than its embedding rows (it belongs to other weights).
    case tokenizerLargerThanEmbeddings(role: String, model: String, ids: Int, rows: Int)
    /// Propagation: the fit found no row pairs, or its solution X has non-finite entries.
    case fitFailed(tensor: String?, reason: String)
    /// Propagation: a special-token id (`place`: the config key that holds it) is not an id of the instruct tokenizer.
    case specialTokenIdUnknown(place: String, id: Int)
    /// Propagation: an instruct special token (`place`: where it is named; `id`: its instruct id when the
    /// place holds an id) is not a single token of the output vocabulary.
    case specialTokenNotInOutput(place: String, id: Int?, token: String)
    /// Propagation: base and instruct tokenizers give `mismatches` of the base's `common` ids different
    /// tokens (`example`: the first of them).
    case tokenizersDisagree(mismatches: Int, common: Int, example: String)
    /// A tensor that must be an embedding matrix `[V, h]` (`role`: base, instruct, donor) has another shape.
    case notAnEmbedding(role: String, tensor: String, shape: [Int])
    /// Propagation: a file of an input model that the output's files are assembled from is unreadable
    /// or malformed.
    case unreadableModelFile(path: String, reason: String)
    /// Propagation: the instruct tokenizer has `count` added tokens the donor lacks (the first is
    /// `first`), and the donor has no tokenizer.json to append them to.
    case addedTokensWithoutTokenizerJSON(count: Int, first: String)
    /// Propagation: the instruct model's chat templates cannot be read.
    case unreadableChatTemplates(reason: String)
    /// Propagation with the reference code's behaviour: the input is one on which the authors' code
    /// fails too.
    case referenceCodeFails(reason: String)
    /// Propagation: the LoRA donor's merged embedding rows cannot be written to or read back from `path`.
    case loraDonorRows(path: String, reason: String)
    /// Propagation: the fitted maps cannot be saved to `path`.
    case saveFit(path: String, reason: String)
    /// An external program (a pipeline's command step, `spm_train`) cannot be started, failed, or did
    /// not write its output; `reason` names it and the fix.
    case externalCommand(command: String, reason: String)
    /// A pipeline step failed: the pipeline file, the step's label and type, and the step's error as
    /// worded for pipelines (options as step keys).
    case pipelineStep(pipeline: String, step: String, type: String, reason: String)
}

extension SurgeryError: CustomStringConvertible {
    /// The message: the culprit and, where there is one, the fix.
    public var description: String {
        switch self {
        case .cannotReadRecipe(let p): "\(p): cannot read the recipe file"
        case .recipeSyntax(let p, let l, let m): "\(p):\(l): \(m)"
        case .unknownKey(let k, let known):
            "unknown recipe key '\(k)'" + (known.isEmpty ? "" : " (known here: \(known.joined(separator: ", ")))")
        case .missingKey(let k): "recipe key '\(k)' is required"
        case .invalidValue(let k, let r): "recipe key '\(k)': \(r)"
        case .unknownMethod(let n, let known): "unknown merge method '\(n)' (known: \(known.joined(separator: ", ")); run 'lep methods')"
        case .methodInputs(let m, let r): "merge method '\(m)': \(r)"
        case .cannotOpenModel(let p, let r): "cannot open model '\(p)': \(r)"
        case .missingTensor(let t, let m): "tensor '\(t)' is missing from \(m); all inputs must hold the same tensors"
        case .shapeMismatch(let t, let m, let s, let e): "tensor '\(t)' has shape \(s) in \(m) but \(e) in the base; inputs must have the same architecture"
        case .unsupportedDType(let t, let m, let d): "tensor '\(t)' in \(m) is \(d); only F64/F32/F16/BF16 tensors can be merged"
        case .vocabularyMismatch(let m, let r, let b):
            "\(m) has \(r) vocabulary rows but the base has \(b); set tokenizer_source (base | union) to reconcile them by token string"
        case .tokenizerUnreadable(let m, let r): "\(m): cannot read the vocabulary: \(r)"
        case .nonFiniteOutput(let t, let n): "merged tensor '\(t)' has \(n) NaN/Inf values; nothing was written (check weights, normalize, lambda)"
        case .tensorFailure(let t, let r): "tensor '\(t)': \(r)"
        case .invalidAdapter(let p, let r): "LoRA adapter \(p): \(r)"
        case .invalidDelta(let p, let r): "task vector \(p): \(r)"
        case .invalidOccurrenceMap(let p, let r): "occurrence map \(p): \(r)"
        case .compression(let p, let r): "\(p): zstd: \(r)"
        case .invalidOption(let o, let r): "option '\(o)': \(r)"
        case .output(let e): e.description
        case .io(let m): m
        case .vocabulary(let s, let r): "vocabulary (\(s)): \(r)"
        case .missingEmbedding(let role, let m, let t, let r): "propagate (pre-flight): \(role) \(m) has no '\(t)'\(r.isEmpty ? "" : ": " + r)"
        case .incompatibleEmbeddings(let what, let found, let fix): "propagate (pre-flight): \(what): \(found); \(fix)"
        case .tokenizerLargerThanEmbeddings(let role, let m, let ids, let rows):
            "propagate (pre-flight): \(role) tokenizer has \(ids) ids but 'model.embed_tokens.weight' has only \(rows) rows: the tokenizer in \(m) does not belong to these weights"
        case .fitFailed(let t, let r): "propagate (least squares): " + (t.map { "\($0): " } ?? "") + r
        case .specialTokenIdUnknown(let place, let id): "propagate (special tokens): \(place) = \(id) is not an id of the instruct tokenizer"
        case .specialTokenNotInOutput(let place, let id?, let s):
            "propagate (special tokens): \(place) = \(id) ('\(s)') is not a token of the output tokenizer (the donor vocabulary lacks it and it is not an added token of instruct); add it to the donor tokenizer"
        case .specialTokenNotInOutput(let place, nil, let s):
            "propagate (special tokens): \(place) '\(s)' of the instruct tokenizer is not a token of the output tokenizer; add it to the donor tokenizer"
        case .tokenizersDisagree(let n, let common, let example):
            "propagate (pre-flight): base and instruct tokenizers disagree on \(n) of the base's \(common) ids (\(example)); the instruct model must be fine-tuned from the base with its vocabulary"
        case .notAnEmbedding(let role, let t, let shape): "propagate (pre-flight): \(role) tensor '\(t)' has shape \(shape); an embedding must be [V, h]"
        case .unreadableModelFile(let p, let r): "propagate (output files): \(p): \(r)"
        case .addedTokensWithoutTokenizerJSON(let n, let first):
            "propagate (output tokenizer): the instruct tokenizer has \(n) added tokens the donor lacks (first '\(first)') and the donor has no tokenizer.json to append them to"
        case .unreadableChatTemplates(let r): "propagate (chat template): \(r)"
        case .referenceCodeFails(let r): "propagate (row pairs): \(r)"
        case .loraDonorRows(let p, let r): "propagate (LoRA donor): \(p): \(r)"
        case .saveFit(let p, let r): "propagate (save fit): \(p): \(r)"
        case .externalCommand(_, let r): r
        case .pipelineStep(let p, let step, let type, let r): "pipeline \(p), \(step) (\(type)): \(r)"
        }
    }
}

/// Runs `body`, mapping lower-layer errors to `SurgeryError.io` so callers see one error type.
@inline(__always)
package func lifting<T>(_ body: () throws -> T) throws(SurgeryError) -> T {
    do { return try body() } catch let e as SurgeryError { throw e } catch let e as FileError { throw .output(e) } catch { throw .io("\(error)") }
}
