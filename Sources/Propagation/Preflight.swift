#if canImport(Glibc)
import Glibc
#endif
import Merging
import Models
import SafeTensors
import Surgery
import Tokenizers
import Vocabulary

/// The three opened models of a propagation, checked against each other before any heavy work:
/// tying agrees, hidden sizes agree, the donor's rows match its tokenizer, base and
/// instruct share ids for the base vocabulary, instruct has at least the base's rows; a donor whose
/// transformer layers differ from the base's is only warned about (it is then not an embedding-only donor).
public struct PropagationInputs: @unchecked Sendable {
    /// One opened model.
    public struct Model: @unchecked Sendable {
        /// "base", "instruct" or "donor" (how messages name the model).
        public let role: String
        /// The folder as given.
        public let path: String
        /// Its opened safetensors checkpoint.
        public let checkpoint: Checkpoint
        /// Its `config.json`.
        public let config: ModelConfig
        /// Its tokenizer.
        public let tokenizer: any Tokenizer
    }

    /// The base model (the donor was initialised from it).
    public let base: Model
    /// The instruct model fine-tuned from the base.
    public let instruct: Model
    /// The donor: the base with the new vocabulary and trained embeddings (or the LoRA donor's base).
    public let donor: Model
    /// True when all three tie lm_head to embed_tokens.
    public let tied: Bool
    /// Hidden size h.
    public let hidden: Int
    /// The embedding tensors processed: embed_tokens, plus lm_head when untied.
    public let modules: [String]
    /// Non-fatal findings (padding rows, donor layers that differ from the base's).
    public private(set) var warnings: [String] = []
    /// The LoRA donor (Documentation/Propagation.md §7) when the donor is a PEFT adapter; `donor` is then its donor base.
    public let lora: LoraDonor?
    /// The merged LoRA donor rows (a temporary F32 file), once ``materializeLoraDonorRows(at:)`` ran.
    public private(set) var loraDonorRows: Checkpoint?

    /// The input embedding tensor.
    public static let embedName = TensorLayout.embedTokens
    /// The output projection tensor (absent when tied).
    public static let headName = TensorLayout.lmHead

    /// Opens and checks the three models. `checkDonorLayers` compares every other donor tensor with the
    /// base's byte for byte (reads both checkpoints once). When `donor` is a PEFT adapter directory,
    /// `donorBase` (the initialised base it was trained on) is required and plays the donor's part for
    /// the tokenizer, config and every check; the adapter is validated against it and the instruct model.
    public init(base: String, instruct: String, donor: String, donorBase: String? = nil, checkDonorLayers: Bool = true) throws(SurgeryError) {
        let isAdapter = LoraDonor.isAdapter(donor)
        if isAdapter && donorBase == nil {
            throw .invalidOption(option: "donor_base", reason: "donor \(donor) is a PEFT adapter: give the initialised base it was trained on (lep vocab init's output)")
        }
        if !isAdapter, let donorBase {
            throw .invalidOption(option: "donor_base", reason: "\(donorBase) is only for a LoRA donor, but \(donor) has no adapter_config.json")
        }
        self.base = try PropagationInputs.open(base, role: "base")
        self.instruct = try PropagationInputs.open(instruct, role: "instruct")
        self.donor = try PropagationInputs.open(donorBase ?? donor, role: isAdapter ? "donor base" : "donor")
        let models = [self.base, self.instruct, self.donor]

        // Tying: config and tensors must agree, and all three models must agree.
        var tiedFlags: [Bool] = []
        for m in models {
            let hasHead = m.checkpoint.contains(Self.headName)
            guard m.checkpoint.contains(Self.embedName) else {
                throw .missingEmbedding(role: m.role, model: m.path, tensor: Self.embedName, reason: "")
            }
            if m.config.tieWordEmbeddings && hasHead {
                // transformers may save a tied head anyway; it is then ignored and rewritten from embed_tokens.
                tiedFlags.append(true)
            } else if !m.config.tieWordEmbeddings && !hasHead {
                throw .missingEmbedding(role: m.role, model: m.path, tensor: Self.headName, reason: "config.json says tie_word_embeddings false")
            } else {
                tiedFlags.append(m.config.tieWordEmbeddings)
            }
        }
        guard Set(tiedFlags).count == 1 else {
            let desc = zip(models, tiedFlags).map { "\($0.role) \($1 ? "tied" : "untied")" }.joined(separator: ", ")
            throw .incompatibleEmbeddings(what: "tie_word_embeddings", found: "the models disagree (\(desc))", fix: "base, instruct and donor must all be tied or all untied")
        }
        tied = tiedFlags[0]
        modules = tied ? [Self.embedName] : [Self.embedName, Self.headName]

        // Shapes: [V, h] everywhere, same h, lm_head rows = embed rows.
        var h: Int?
        var rows: [String: Int] = [:]
        for m in models {
            for name in modules {
                let info = try lifting { try m.checkpoint.info(name) }
                guard info.shape.count == 2 else {
                    throw .incompatibleEmbeddings(what: "shape", found: "\(m.role) '\(name)' has shape \(info.shape)", fix: "an embedding must be [V, h]")
                }
                guard info.dtype.floatStorage != nil else { throw .unsupportedDType(tensor: name, model: m.role, dtype: info.dtype.rawValue) }
                if let h, info.shape[1] != h {
                    throw .incompatibleEmbeddings(
                        what: "hidden size mismatch", found: "\(m.role) '\(name)' has h = \(info.shape[1]) but the base has h = \(h)", fix: "the three models must be of one family")
                }
                h = h ?? info.shape[1]
                if let r = rows[m.role], r != info.shape[0] {
                    throw .incompatibleEmbeddings(
                        what: "rows", found: "\(m.role): '\(name)' has \(info.shape[0]) rows but embed_tokens has \(r)", fix: "lm_head and embed_tokens must have one row per token")
                }
                rows[m.role] = info.shape[0]
            }
        }
        hidden = h!
        let (vBase, vInst, vDonor) = (rows["base"]!, rows["instruct"]!, rows[self.donor.role]!)
        guard vInst >= vBase else {
            throw .incompatibleEmbeddings(
                what: "vocabulary", found: "instruct has \(vInst) embedding rows but the base has \(vBase)", fix: "the instruct model must keep the base vocabulary (V_inst ≥ V_base)")
        }
        for m in models where m.tokenizer.vocabularySize > rows[m.role]! {
            throw .tokenizerLargerThanEmbeddings(role: m.role, model: m.path, ids: m.tokenizer.vocabularySize, rows: rows[m.role]!)
        }
        if self.donor.config.vocabSize != vDonor {
            throw .incompatibleEmbeddings(
                what: "donor vocab_size", found: "config.json says \(self.donor.config.vocabSize) but the donor has \(vDonor) embedding rows", fix: "vocab_size must equal the rows")
        }
        if self.donor.tokenizer.vocabularySize < vDonor {
            warnings.append("donor has \(vDonor - self.donor.tokenizer.vocabularySize) padding rows beyond its tokenizer's \(self.donor.tokenizer.vocabularySize) ids (mapped by X like the others)")
        }
        // Base and instruct share ids for the base vocabulary.
        let common = min(self.base.tokenizer.vocabularySize, vBase)
        var mismatches = 0
        var example = ""
        for j in 0..<common {
            let a = self.base.tokenizer.token(for: j), b = self.instruct.tokenizer.token(for: j)
            if a != nil && a != b {
                if mismatches == 0 { example = "id \(j) is '\(a!)' in the base but '\(b ?? "<none>")' in instruct" }
                mismatches += 1
            }
        }
        guard mismatches == 0 else {
            throw .tokenizersDisagree(mismatches: mismatches, common: common, example: example)
        }
        if checkDonorLayers { warnings += PropagationInputs.compareLayers(base: self.base, donor: self.donor, skip: Set([Self.embedName, Self.headName])) }
        lora = isAdapter ? try LoraDonor(adapter: donor, donorBase: self.donor, instruct: self.instruct, tied: tied) : nil
    }

    /// Compares every donor tensor other than the embeddings with the base's, byte for byte (reads both
    /// checkpoints), and adds a warning for each difference. ``init`` does this when `checkDonorLayers`.
    public mutating func compareDonorLayers() {
        warnings += PropagationInputs.compareLayers(base: base, donor: donor, skip: Set([Self.embedName, Self.headName]))
    }

    /// Merges the LoRA donor's embedding part into the donor base's rows and keeps them in an F32
    /// safetensors file at `path` (the caller removes it); no-op without a LoRA donor.
    public mutating func materializeLoraDonorRows(at path: String) throws(SurgeryError) {
        guard let lora else { return }
        try lora.writeMergedRows(to: path, modules: modules, donorBase: donor.checkpoint)
        do { loraDonorRows = try Checkpoint(path: path) } catch { throw .loraDonorRows(path: path, reason: "\(error)") }
    }

    /// The donor rows of embedding tensor `name`: the merged LoRA donor rows when the adapter changes
    /// it, otherwise the donor's (or donor base's) tensor.
    public func donorMatrix(_ name: String) throws(SurgeryError) -> EmbeddingMatrix {
        if let rows = loraDonorRows, rows.contains(name) {
            return try EmbeddingMatrix(view: try lifting { try rows.view(name) }, role: "donor (LoRA merged)")
        }
        return try EmbeddingMatrix(view: try lifting { try donor.checkpoint.view(name) }, role: donor.role)
    }

    static func open(_ path: String, role: String) throws(SurgeryError) -> Model {
        let ckpt: Checkpoint
        do { ckpt = try Checkpoint(path: path) } catch { throw .cannotOpenModel(path: path, reason: "\(role): \(error)") }
        let config: ModelConfig
        do { config = try ModelConfig.load(directory: ckpt.directory) } catch { throw .cannotOpenModel(path: path, reason: "\(role): \(error)") }
        let tok: any Tokenizer
        do { tok = try loadTokenizer(directory: ckpt.directory) } catch {
            throw .tokenizerUnreadable(model: "\(role) \(ckpt.directory)", reason: "\(error)")
        }
        return Model(role: role, path: path, checkpoint: ckpt, config: config, tokenizer: tok)
    }

    /// Differences between the donor's and the base's non-embedding tensors, as warnings.
    static func compareLayers(base: Model, donor: Model, skip: Set<String>) -> [String] {
        let b = Set(base.checkpoint.tensorNames).subtracting(skip), d = Set(donor.checkpoint.tensorNames).subtracting(skip)
        var out: [String] = []
        if b != d {
            out.append("donor and base hold different tensors (\(b.subtracting(d).count) only in the base, \(d.subtracting(b).count) only in the donor): the donor is not an embedding-only donor")
        }
        var differing: [String] = []
        for name in b.intersection(d).sorted(by: NaturalOrder.less) {
            guard let vb = try? base.checkpoint.view(name), let vd = try? donor.checkpoint.view(name) else { continue }
            if vb.dtype != vd.dtype || vb.shape != vd.shape || memcmp(vb.bytes.baseAddress!, vd.bytes.baseAddress!, vb.byteCount) != 0 {
                differing.append(name)
            }
            vb.file.dropPages(vb.fileOffset..<(vb.fileOffset + vb.byteCount))
            vd.file.dropPages(vd.fileOffset..<(vd.fileOffset + vd.byteCount))
        }
        if !differing.isEmpty {
            out.append("\(differing.count) donor transformer tensors differ from the base's (first: '\(differing[0])'): the donor is not an embedding-only donor; only its embeddings are used")
        }
        return out
    }
}
