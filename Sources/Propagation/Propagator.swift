#if canImport(Glibc)
import Glibc
#endif
import LEPJSON
import Merging
import Models
import SafeTensors
import Support
import Surgery
import TensorMath
import Tokenizers
import Vocabulary

/// `lep propagate`: learned embedding propagation (Documentation/Propagation.md §5-§6) from a donor into an instruct model.
///
/// Reference math, per embedding module (embed_tokens; lm_head when untied), S/T/D = base/instruct/donor rows:
/// ```
/// X   = argmin ‖A·X − B‖_F        (A, B: the mode's row pairs; swap: X = I)
/// OUT[0..<V_donor] = D · X         (delta: D + (conv(T) − conv(S))·P)
/// OUT[i] = T[j]                    for output added tokens whose string is instruct token j
/// OUT[i] = mean(OUT[0..<V_donor])  for the remaining rows beyond V_donor (reported)
/// ```
/// X is solved in float64 from normal equations accumulated as ``Options/fitPrecision`` says (``StreamingLeastSquares``,
/// ``FitPrecision``), kept in float32, applied with float32
/// accumulation and written in the instruct dtype (RNE). `compatReference` swaps in the reference
/// code's row pairs, dense `dgelsy` solve, X rounded to the checkpoint dtype and added-token rule
/// (``ReferenceCompat``).
public enum Propagator {
    /// What to do.
    public struct Options: Sendable {
        /// The base model folder.
        public var base: String
        /// The instruct model folder (its layers and added tokens go to the output).
        public var instruct: String
        /// The donor folder (or a PEFT adapter with ``donorBase``).
        public var donor: String
        /// The output folder (written atomically).
        public var output: String
        /// LoRA donors (Documentation/Propagation.md §7): the initialised base the adapter in `donor` was trained on.
        public var donorBase: String?
        /// LoRA donors: the adapter's layer deltas are added to the instruct layers scaled by 1/alphaScale.
        public var alphaScale: Double?
        /// How X is fitted (``PropagationMode``).
        public var mode: PropagationMode = .conversion
        /// `delta` mode: how tokens in both vocabularies are treated.
        public var deltaShared: DeltaShared = .projected
        /// Text of a chat template replacing the instruct one.
        public var chatTemplate: String?
        /// Reproduce the reference code bit for bit (Documentation/Propagation.md §10, ``ReferenceCompat``): its row pairs,
        /// a dense `dgelsy` solve, X rounded to the checkpoint dtype, its added-token rows. Not for `delta`.
        public var compatReference = false
        /// JSON occurrence map for `conversion-occurrence`.
        public var occurrenceMap: String?
        /// Replace an existing output.
        public var force = false
        /// Largest output shard in bytes; nil writes one file.
        public var maxShardBytes: Int? = 5_000_000_000
        /// Compare the donor's layers with the base's (a donor must only differ in its embeddings).
        public var checkDonorLayers = true
        /// Recorded in the provenance file.
        public var toolVersion = "unknown"
        /// Benchmarks: write X (F64) and the row pairs (CSR) to this safetensors file.
        public var saveFit: String?
        /// Rows per block when streaming (fit and apply).
        public var blockRows = 2048
        /// How the fit accumulates its normal equations (`--fit-precision`); `delta` and `compatReference` always use float64.
        public var fitPrecision: FitPrecision = .mixed
        /// Mixed precision: fit again in float64 when ``MixedPrecisionCheck`` predicts too many output elements off
        /// (false only to measure the unchecked mixed fit, as the tests do).
        public var mixedPrecisionRefit = true
        /// The required inputs and output; everything else at its default.
        public init(base: String, instruct: String, donor: String, output: String) {
            self.base = base; self.instruct = instruct; self.donor = donor; self.output = output
        }
    }

    /// The fit of one module.
    public struct ModuleReport: Sendable {
        /// The module's tensor (`model.embed_tokens.weight` or `lm_head.weight`).
        public let tensor: String
        /// nil for swap.
        public let solution: StreamingLeastSquares.Solution?
        /// Seconds the fit took.
        public let seconds: Double
        /// Mixed precision: the predicted fraction of output elements off by more than one step
        /// (``MixedPrecisionCheck``), nil when not checked.
        public var predictedOffFraction: Double?
        /// Mixed precision: why the fit was redone in float64, when it was.
        public var float64Refit: String?
    }

    /// What was done.
    public struct Report: Sendable {
        /// The mode that ran.
        public var mode: PropagationMode
        /// Row pairs the fit used.
        public var pairs: Int
        /// One report per fitted module.
        public var modules: [ModuleReport] = []
        /// Rows of the output embeddings.
        public var outputRows: Int
        /// Rows of the donor embeddings (mapped by X).
        public var donorRows: Int
        /// Output rows copied from the instruct model (added tokens).
        public var instructRowsCopied: Int
        /// Output rows set to the mean row (no donor or instruct row for them).
        public var meanFilledRows: [Int]
        /// Donor ids without a row pair (mapped by X, not fitted on).
        public var unmappedDonorIds: Int
        /// `conversion-occurrence`: new ids absent from the map (plain mean used).
        public var occurrenceFallbacks: Int
        /// Things the user should know; the run still succeeded.
        public var warnings: [String]
        /// Special-token ids moved to the output vocabulary (config and generation config).
        public var remapped: [String]
        /// Instruct added tokens appended to the output vocabulary.
        public var extras: [String]
        /// The appended instruct added tokens with their instruct and output ids (`extras` as data).
        public var appended: [OutputVocabulary.Extra] = []
        /// LoRA donors: embedding tensors merged into the donor rows, and layer tensors changed in the output.
        public var loraEmbeddingTensors: [String] = []
        /// LoRA donors: the instruct layer tensors the adapter's deltas were added to.
        public var loraLayerTensors: [String] = []
    }

    /// A progress callback: stage name and fraction done.
    public typealias Progress = @Sendable (String, Double) -> Void

    /// Runs the whole propagation: pre-flight, plan, fit, write (atomically).
    ///
    /// Every check that needs no tensor data (options, the output path, the occurrence map, headers,
    /// configs, tokenizers, the output files' ids) runs before the first `progress` stage; the stages
    /// (comparing the donor's layers, mapping, fitting, writing) read tensors.
    public static func run(_ o: Options, progress: Progress = { _, _ in }) throws(SurgeryError) -> Report {
        // Pre-flight, cheapest first: options, the output path, the occurrence map's syntax.
        if let a = o.alphaScale, !(a.isFinite && a > 0) {
            throw .invalidOption(option: "alpha_scale", reason: "must be a positive number, got \(a)")
        }
        if o.compatReference && o.mode == .delta {
            throw .invalidOption(option: "compat", reason: "'reference' reproduces swap, overlap, conversion, conversion-sum, conversion-occurrence and full; the reference code has no delta mode")
        }
        if o.mode == .conversionOccurrence, o.occurrenceMap == nil {
            throw .invalidOption(option: "occurrence_map", reason: "mode conversion-occurrence needs an occurrence map file ({new_id: {old_id: count}})")
        }
        let inputPaths = [o.base, o.instruct, o.donor] + (o.donorBase.map { [$0] } ?? [])
        do { try AtomicOutputDirectory.check(target: o.output, force: o.force, inputs: inputPaths) } catch { throw .output(error) }
        let occurrence = try o.occurrenceMap.map { p throws(SurgeryError) in try OccurrenceMap.load(path: p) }
        var inputs = try PropagationInputs(base: o.base, instruct: o.instruct, donor: o.donor, donorBase: o.donorBase, checkDonorLayers: false)
        if let a = o.alphaScale, inputs.lora == nil {
            throw .invalidOption(option: "alpha_scale", reason: "\(a) applies to LoRA donors only, and \(o.donor) is not a PEFT adapter")
        }
        let h = inputs.hidden
        let embedInfo = { (m: PropagationInputs.Model) throws(SurgeryError) -> TensorInfo in try lifting { try m.checkpoint.info(PropagationInputs.embedName) } }
        let vBase = try embedInfo(inputs.base).shape[0]
        let vInst = try embedInfo(inputs.instruct).shape[0]
        let vDonor = try embedInfo(inputs.donor).shape[0]
        if let occurrence, let path = o.occurrenceMap {
            for (newId, terms) in occurrence {
                guard newId < vDonor else { throw .invalidOccurrenceMap(path: path, reason: "new id \(newId) is outside the donor's \(vDonor) rows") }
                if let bad = terms.first(where: { $0.id >= vBase }) {
                    throw .invalidOccurrenceMap(path: path, reason: "entry \(newId) names old id \(bad.id), outside the base's \(vBase) rows")
                }
            }
        }
        let vocab = OutputVocabulary(donor: inputs.donor.tokenizer, donorRows: vDonor, instruct: inputs.instruct.tokenizer, instructRows: vInst)
        let assembly = try OutputAssembly(inputs: inputs, vocabulary: vocab, chatTemplate: o.chatTemplate)

        // Heavy work from here on: every stage reads tensors.
        if o.checkDonorLayers {
            progress("comparing the donor's layers with the base's", 0)
            inputs.compareDonorLayers()
        }
        // LoRA donor: merge the embedding part into the donor base's rows (temporary F32 file).
        var loraRowsPath: String?
        defer { if let p = loraRowsPath { unlink(p) } }
        if inputs.lora != nil {
            progress("merging the LoRA donor's embeddings", 0)
            let p = LoraDonor.temporaryPath(near: o.output)
            loraRowsPath = p
            try inputs.materializeLoraDonorRows(at: p)
        }

        // Row pairs.
        progress("mapping tokens", 0)
        var pairs = RowPairs()
        var mapping: TokenMapping?
        var fallbacks = 0
        let donorTokens = min(inputs.donor.tokenizer.vocabularySize, vDonor)
        switch o.mode {
        case .swap:
            break
        case _ where o.compatReference:
            break  // dense reference row pairs, per module below
        case .overlap:
            pairs = RowPairs.overlap(TokenMapping.sharedTokens(new: inputs.donor.tokenizer, old: inputs.base.tokenizer, count: donorTokens, oldRows: vBase))
        case .full:
            pairs = RowPairs.full(rows: vBase)
        case .conversion, .conversionSum, .conversionOccurrence, .delta:
            let m = TokenMapping(new: inputs.donor.tokenizer, old: inputs.base.tokenizer, count: donorTokens, oldRows: vBase)
            mapping = m
            (pairs, fallbacks) = RowPairs.conversion(m, aggregation: o.mode.aggregation!, occurrenceMap: o.mode == .conversionOccurrence ? occurrence : nil)
        }
        if o.mode != .swap && !o.compatReference && pairs.count == 0 {
            throw .fitFailed(tensor: nil, reason: "mode \(o.mode.rawValue) found no row pairs between the donor and base vocabularies")
        }
        var shared: [Int: Int] = [:]
        if o.mode == .delta && o.deltaShared == .exact {
            for (i, j) in TokenMapping.sharedTokens(new: inputs.donor.tokenizer, old: inputs.base.tokenizer, count: donorTokens, oldRows: vBase) { shared[i] = j }
        }

        // Fit every module before writing anything.
        var fits: [String: [Float]] = [:]
        var reports: [ModuleReport] = []
        var pairCount = pairs.count
        for name in inputs.modules {
            let S = try matrix(inputs.base, name), T = try matrix(inputs.instruct, name), D = try inputs.donorMatrix(name)
            let start = monotonicSeconds()
            if o.mode == .swap {
                var x = [Float](repeating: 0, count: h * h)
                for i in 0..<h { x[i * h + i] = 1 }
                fits[name] = x
                reports.append(ModuleReport(tensor: name, solution: nil, seconds: 0))
                continue
            }
            if o.compatReference {
                progress("fitting \(name) (reference row pairs, dgelsy)", 0)
                let p = try ReferenceCompat.pairs(
                    mode: o.mode, donor: inputs.donor.tokenizer, donorCount: donorTokens, instruct: inputs.instruct.tokenizer,
                    S: S, T: T, occurrence: o.mode == .conversionOccurrence ? occurrence : nil)
                let sol = try StreamingLeastSquares.gelsy(a: p.a, b: p.b, rows: p.rows, k: h, m: h)
                guard sol.x.allSatisfy(\.isFinite) else { throw .fitFailed(tensor: name, reason: "X has non-finite entries") }
                pairCount = p.rows
                // X cast to the checkpoint dtype as torch's .to(dtype) does (float64 → float32 → bf16).
                fits[name] = sol.x.map { ReferenceCompat.round(Float($0), S) }
                reports.append(ModuleReport(tensor: name, solution: sol, seconds: monotonicSeconds() - start))
                progress("fitting \(name) (reference row pairs, dgelsy)", 1)
                continue
            }
            let precision: FitPrecision = o.mode == .delta ? .float64 : o.fitPrecision
            var sol = try fit(name, pairs: pairs, S: S, T: T, D: D, mode: o.mode, precision: precision, blockRows: o.blockRows, progress: progress)
            var predicted: Double?
            var refit: String?
            if precision == .mixed {
                let outStorage = try lifting { try inputs.instruct.checkpoint.info(name) }.dtype.floatStorage ?? .bf16
                (predicted, refit) = MixedPrecisionCheck.verdict(sol, m: h, donorRows: D.rows, hidden: h, storage: outStorage) { D.row($0, into: $1) }
                if refit != nil && o.mixedPrecisionRefit {
                    sol = try fit(name, pairs: pairs, S: S, T: T, D: D, mode: o.mode, precision: .float64, blockRows: o.blockRows, progress: progress)
                }
            }
            guard sol.x.allSatisfy(\.isFinite) else { throw .fitFailed(tensor: name, reason: "X has non-finite entries") }
            // The fit's base and instruct pages leave this process's resident set (they stay in the page cache).
            for v in [S.view, T.view] { v.file.dropPages(v.fileOffset..<(v.fileOffset + v.byteCount)) }
            let x = sol.x.map { Float($0) }
            fits[name] = x
            var report = ModuleReport(tensor: name, solution: sol, seconds: monotonicSeconds() - start)
            report.predictedOffFraction = predicted
            report.float64Refit = refit
            reports.append(report)
        }

        if let path = o.saveFit { try saveFit(path, pairs: pairs, reports: reports, h: h) }

        // Write.
        let out: AtomicOutputDirectory
        do { out = try AtomicOutputDirectory(target: o.output, force: o.force, inputs: inputPaths) } catch { throw .output(error) }
        var meanFilled: [Int] = []
        var copied = 0
        let loraLayers = Set(inputs.lora?.layerTargets ?? [])
        let instructRows =
            o.compatReference
            ? ReferenceCompat.addedTokenRows(vocabulary: vocab, donor: inputs.donor.tokenizer, instruct: inputs.instruct.tokenizer, instructRows: vInst)
            : vocab.instructRows
        do {
            var specs: [TensorSpec] = []
            let instCk = inputs.instruct.checkpoint
            for name in instCk.tensorNames {
                let info = try instCk.info(name)
                if inputs.tied && name == PropagationInputs.headName { continue }
                if inputs.modules.contains(name) {
                    specs.append(TensorSpec(name: name, dtype: info.dtype, shape: [vocab.count, h]))
                } else {
                    specs.append(TensorSpec(name: name, dtype: info.dtype, shape: info.shape))
                }
            }
            let writer = try CheckpointWriter(output: out, tensors: specs, maxShardBytes: o.maxShardBytes)
            try writer.writeTensors { spec, stream in
                if let x = fits[spec.name] {
                    let r = try writeModule(
                        spec: spec, x: x, inputs: inputs, vocab: vocab, instructRows: instructRows, pairs: pairs, shared: shared,
                        mode: o.mode, blockRows: o.blockRows, stream: stream, progress: progress)
                    meanFilled = r.meanFilled
                    copied = r.copied
                } else if let lora = inputs.lora, loraLayers.contains(spec.name) {
                    try writeLoraLayer(spec: spec, lora: lora, factor: 1 / (o.alphaScale ?? 1), inputs: inputs, stream: stream)
                } else {
                    let v = try instCk.view(spec.name)
                    try stream.copy(fromFD: v.file.fd, offset: v.fileOffset, count: v.byteCount)
                }
            }
            try assembly.write(into: out)
            var report = Report(
                mode: o.mode, pairs: pairCount, modules: reports, outputRows: vocab.count, donorRows: vDonor,
                instructRowsCopied: copied, meanFilledRows: meanFilled,
                unmappedDonorIds: mapping?.unmappedIds.count ?? 0, occurrenceFallbacks: fallbacks,
                warnings: inputs.warnings, remapped: assembly.remapped,
                extras: vocab.extras.map { "\($0.token.content) (instruct \($0.instructId) → \($0.outputId))" })
            report.appended = vocab.extras
            report.loraEmbeddingTensors = inputs.lora?.embeddingTargets ?? []
            report.loraLayerTensors = inputs.lora?.layerTargets ?? []
            if mapping != nil && report.unmappedDonorIds > 0 {
                report.warnings.append("\(report.unmappedDonorIds) donor ids have no old sub-tokens (left out of the fit; mapped by X like every donor row)")
            }
            try out.writeFile(OutputAssembly.provenanceName, contents: Array(provenance(o, inputs: inputs, report: report).utf8))
            try out.commit()
            return report
        } catch let e as SurgeryError {
            out.abort(); throw e
        } catch let e as FileError {
            out.abort(); throw .output(e)
        } catch {
            out.abort(); throw .io("propagate (output): \(error)")
        }
    }

    /// Streams the row pairs of one module through ``StreamingLeastSquares`` and solves.
    static func fit(
        _ name: String, pairs: RowPairs, S: EmbeddingMatrix, T: EmbeddingMatrix, D: EmbeddingMatrix, mode: PropagationMode,
        precision: FitPrecision, blockRows: Int, progress: Progress
    ) throws(SurgeryError) -> StreamingLeastSquares.Solution {
        let h = S.hidden
        let block = max(1, precision == .mixed ? min(blockRows, StreamingLeastSquares.mixedBlockRows) : blockRows)
        let blocks = (pairs.count + block - 1) / block
        let ls = StreamingLeastSquares(k: h, m: h, precision: precision, checkBlocks: StreamingLeastSquares.checkBlockIndices(blocks: blocks))
        let stage = precision == .mixed ? "fitting \(name)" : "fitting \(name) (float64)"
        let a = UnsafeMutablePointer<Double>.allocate(capacity: block * h)
        let b = UnsafeMutablePointer<Double>.allocate(capacity: block * h)
        defer { a.deallocate(); b.deallocate() }
        var lo = 0
        while lo < pairs.count {
            let hi = min(pairs.count, lo + block)
            pairs.materialize(lo..<hi, from: S, into: a)
            if mode == .delta {
                for p in lo..<hi { D.row(pairs.newIds[p], into: b + (p - lo) * h) }
            } else {
                pairs.materialize(lo..<hi, from: T, into: b)
            }
            let rows = precision == .mixed && mode != .delta ? bf16Rows(pairs, lo..<hi, S: S, T: T) : nil
            ls.add(a: a, b: b, count: hi - lo, bf16: rows)
            lo = hi
            progress(stage, Double(lo) / Double(pairs.count))
        }
        return try ls.solve()
    }

    /// The rows of pairs `range` as bfloat16 in the mapped S and T, when every pair there is one old row with
    /// weight 1 (copies) and both tensors are bf16 (2-byte aligned): the mixed fit's bfloat16 products
    /// (``StreamingLeastSquares/add(a:b:count:bf16:)``) then see exactly the float64 rows' values.
    static func bf16Rows(_ pairs: RowPairs, _ range: Range<Int>, S: EmbeddingMatrix, T: EmbeddingMatrix) -> (a: [UnsafePointer<UInt16>], b: [UnsafePointer<UInt16>])? {
        guard S.view.dtype.floatStorage == .bf16, T.view.dtype.floatStorage == .bf16, S.hidden == T.hidden else { return nil }
        let (sBase, tBase) = (S.view.bytes.baseAddress!, T.view.bytes.baseAddress!)
        guard Int(bitPattern: sBase) % 2 == 0, Int(bitPattern: tBase) % 2 == 0 else { return nil }
        let rowBytes = 2 * S.hidden
        var a: [UnsafePointer<UInt16>] = [], b: [UnsafePointer<UInt16>] = []
        a.reserveCapacity(range.count)
        b.reserveCapacity(range.count)
        for p in range {
            let t = pairs.offsets[p]
            guard pairs.offsets[p + 1] == t + 1, pairs.weights[t] == 1 else { return nil }
            let id = pairs.ids[t]
            guard id < S.rows, id < T.rows else { return nil }
            a.append((sBase + id * rowBytes).assumingMemoryBound(to: UInt16.self))
            b.append((tBase + id * rowBytes).assumingMemoryBound(to: UInt16.self))
        }
        return (a, b)
    }

    static func matrix(_ m: PropagationInputs.Model, _ name: String) throws(SurgeryError) -> EmbeddingMatrix {
        try EmbeddingMatrix(view: try lifting { try m.checkpoint.view(name) }, role: m.role)
    }

    /// Streams instruct tensor `spec.name` with the LoRA donor's layer delta added (`factor` = 1/alpha_scale),
    /// in float32, written in the instruct dtype (RNE).
    static func writeLoraLayer(spec: TensorSpec, lora: LoraDonor, factor: Double, inputs: PropagationInputs, stream: TensorByteStream) throws {
        let v = try inputs.instruct.checkpoint.view(spec.name)
        guard let storage = spec.dtype.floatStorage else { throw SurgeryError.unsupportedDType(tensor: spec.name, model: "instruct", dtype: spec.dtype.rawValue) }
        var w = try v.floats()
        try w.withUnsafeMutableBufferPointer { (p) throws(SurgeryError) in
            try lora.addLayerDelta(to: p, target: spec.name, factor: factor, donorBase: inputs.donor.checkpoint)
        }
        let bad = FloatScan.nonFiniteCount(w)
        guard bad == 0 else { throw SurgeryError.nonFiniteOutput(tensor: spec.name, count: bad) }
        var encoded = [UInt8](repeating: 0, count: w.count * storage.byteSize)
        encoded.withUnsafeMutableBytes { e in w.withUnsafeBytes { ElementConversion.convert($0.baseAddress!, from: .f32, to: e.baseAddress!, as: storage, count: w.count) } }
        try encoded.withUnsafeBytes { try stream.write($0) }
    }

    /// Streams one output embedding tensor: `[V_out, h]` in `spec.dtype`.
    static func writeModule(
        spec: TensorSpec, x: [Float], inputs: PropagationInputs, vocab: OutputVocabulary, instructRows: [Int: Int], pairs: RowPairs,
        shared: [Int: Int], mode: PropagationMode, blockRows: Int, stream: TensorByteStream,
        progress: Progress
    ) throws -> (meanFilled: [Int], copied: Int) {
        let name = spec.name
        let S = try matrix(inputs.base, name), T = try matrix(inputs.instruct, name), D = try inputs.donorMatrix(name)
        let h = D.hidden, vDonor = D.rows
        guard let storage = spec.dtype.floatStorage else { throw SurgeryError.unsupportedDType(tensor: name, model: "instruct", dtype: spec.dtype.rawValue) }
        let block = max(1, blockRows)
        var dBlock = [Float](repeating: 0, count: block * h)
        var outBlock = [Float](repeating: 0, count: block * h)
        var encoded = [UInt8](repeating: 0, count: block * h * storage.byteSize)
        var rowSum = [Double](repeating: 0, count: h)
        var tmp = [Double](repeating: 0, count: h)
        var copied = 0
        // Pair index range per donor row (pairs are sorted by new id for conversion-like modes).
        var firstPair = 0
        func emit(_ rows: Int) throws {
            encoded.withUnsafeMutableBytes { e in
                outBlock.withUnsafeBytes { ob in
                    ElementConversion.convert(ob.baseAddress!, from: .f32, to: e.baseAddress!, as: storage, count: rows * h)
                }
            }
            try encoded.withUnsafeBytes { e in try stream.write(UnsafeRawBufferPointer(rebasing: e[0..<(rows * h * storage.byteSize)])) }
        }
        var lo = 0
        while lo < vDonor {
            let hi = min(vDonor, lo + block), n = hi - lo
            dBlock.withUnsafeMutableBufferPointer { D.rows(lo..<hi, into: $0.baseAddress!) }
            if mode == .delta {
                // OUT = D + (conv(T) − conv(S))·P for donor rows with pairs; D elsewhere.
                outBlock.withUnsafeMutableBufferPointer { ob in dBlock.withUnsafeBufferPointer { ob.baseAddress!.update(from: $0.baseAddress!, count: n * h) } }
                while firstPair < pairs.count && pairs.newIds[firstPair] < lo { firstPair += 1 }
                var lastPair = firstPair
                while lastPair < pairs.count && pairs.newIds[lastPair] < hi { lastPair += 1 }
                let np = lastPair - firstPair
                if np > 0 {
                    var cs = [Double](repeating: 0, count: np * h), ct = cs
                    cs.withUnsafeMutableBufferPointer { pairs.materialize(firstPair..<lastPair, from: S, into: $0.baseAddress!) }
                    ct.withUnsafeMutableBufferPointer { pairs.materialize(firstPair..<lastPair, from: T, into: $0.baseAddress!) }
                    var diff = [Float](repeating: 0, count: np * h)
                    for q in 0..<(np * h) { diff[q] = Float(ct[q] - cs[q]) }
                    var moved = [Float](repeating: 0, count: np * h)
                    diff.withUnsafeBufferPointer { dp in
                        x.withUnsafeBufferPointer { xp in
                            moved.withUnsafeMutableBufferPointer { mp in
                                BLAS.sgemm(m: np, n: h, k: h, a: dp.baseAddress!, lda: h, b: xp.baseAddress!, ldb: h, c: mp.baseAddress!, ldc: h)
                            }
                        }
                    }
                    for q in 0..<np {
                        let r = pairs.newIds[firstPair + q] - lo
                        if shared[r + lo] != nil { continue }
                        for c in 0..<h { outBlock[r * h + c] += moved[q * h + c] }
                    }
                }
                for r in 0..<n {
                    guard let j = shared[lo + r] else { continue }
                    var s = [Double](repeating: 0, count: h), t = s
                    s.withUnsafeMutableBufferPointer { S.row(j, into: $0.baseAddress!) }
                    t.withUnsafeMutableBufferPointer { T.row(j, into: $0.baseAddress!) }
                    for c in 0..<h { outBlock[r * h + c] = dBlock[r * h + c] + Float(t[c] - s[c]) }
                }
            } else {
                // OUT = D · X
                dBlock.withUnsafeBufferPointer { dp in
                    x.withUnsafeBufferPointer { xp in
                        outBlock.withUnsafeMutableBufferPointer { op in
                            BLAS.sgemm(m: n, n: h, k: h, a: dp.baseAddress!, lda: h, b: xp.baseAddress!, ldb: h, c: op.baseAddress!, ldc: h)
                        }
                    }
                }
            }
            // Step 3: output added tokens that are single instruct tokens take the instruct row.
            for r in 0..<n {
                guard let j = instructRows[lo + r] else { continue }
                tmp.withUnsafeMutableBufferPointer { T.row(j, into: $0.baseAddress!) }
                for c in 0..<h { outBlock[r * h + c] = Float(tmp[c]) }
                copied += 1
            }
            for r in 0..<n { for c in 0..<h { rowSum[c] += Double(outBlock[r * h + c]) } }
            try emit(n)
            D.view.file.dropPages(D.view.fileOffset + lo * h * D.view.dtype.floatStorage!.byteSize..<D.view.fileOffset + hi * h * D.view.dtype.floatStorage!.byteSize)
            lo = hi
            progress("writing \(name)", Double(lo) / Double(vocab.count))
        }
        // Rows beyond V_donor: instruct rows (step 3) or the mean of OUT (step 4).
        var meanFilled: [Int] = []
        for id in vDonor..<vocab.count {
            if let j = instructRows[id] {
                tmp.withUnsafeMutableBufferPointer { T.row(j, into: $0.baseAddress!) }
                for c in 0..<h { outBlock[c] = Float(tmp[c]) }
                copied += 1
            } else {
                for c in 0..<h { outBlock[c] = Float(rowSum[c] / Double(vDonor)) }
                meanFilled.append(id)
            }
            try emit(1)
        }
        return (meanFilled, copied)
    }

    /// Writes X per module and the row pairs to one safetensors file (for comparison with numpy).
    static func saveFit(_ path: String, pairs: RowPairs, reports: [ModuleReport], h: Int) throws(SurgeryError) {
        var tensors: [(TensorSpec, [UInt8])] = []
        func bytes<T>(_ a: [T]) -> [UInt8] { a.withUnsafeBytes { Array($0) } }
        for r in reports { if let s = r.solution { tensors.append((TensorSpec(name: "x." + r.tensor, dtype: .F64, shape: [h, h]), bytes(s.x))) } }
        tensors.append((TensorSpec(name: "pairs.offsets", dtype: .I64, shape: [pairs.offsets.count]), bytes(pairs.offsets.map(Int64.init))))
        tensors.append((TensorSpec(name: "pairs.ids", dtype: .I64, shape: [pairs.ids.count]), bytes(pairs.ids.map(Int64.init))))
        tensors.append((TensorSpec(name: "pairs.weights", dtype: .F64, shape: [pairs.weights.count]), pairs.weights.isEmpty ? [] : bytes(pairs.weights)))
        let byName = Dictionary(tensors.map { ($0.0.name, $0.1) }, uniquingKeysWith: { a, _ in a })
        do {
            let w = try SafeTensorsWriter(path: path, tensors: tensors.map(\.0), metadata: ["format": "lep-fit"])
            for spec in w.order { try w.writeTensor(spec.name) { stream in try byName[spec.name]!.withUnsafeBytes { try stream.write($0) } } }
            try w.finish()
        } catch { throw .saveFit(path: path, reason: "\(error)") }
    }

    static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// The provenance JSON written next to the tensors.
    static func provenance(_ o: Options, inputs: PropagationInputs, report: Report) -> String {
        func num(_ d: Double) -> JSONValue { d.isFinite ? .number(JSONNumber(d)) : .null }
        func model(_ m: PropagationInputs.Model) -> JSONValue {
            .object(
                JSONObject([
                    ("path", .string(m.path)),
                    (
                        "safetensors_header_sha256",
                        .array(
                            m.checkpoint.files.map { f in
                                .object(JSONObject([("file", .string(lastComponent(f.path))), ("sha256", .string(f.headerSHA256))]))
                            })
                    )
                ]))
        }
        func lora(_ inputs: PropagationInputs) -> JSONValue {
            guard let l = inputs.lora else { return .null }
            return .object(
                JSONObject([
                    ("adapter", .string(l.adapter.path)),
                    ("adapter_config_sha256", .string(l.adapter.configHash)),
                    ("adapter_header_sha256", .array(l.adapter.checkpoint.files.map { .string($0.headerSHA256) })),
                    ("donor_base", .string(l.donorBase)),
                    ("alpha_scale", o.alphaScale.map { num($0) } ?? .null),
                    ("merged_into_donor_rows", .array(l.embeddingTargets.map { .string($0) })),
                    ("layer_deltas_added", .array(l.layerTargets.map { .string($0) }))
                ]))
        }
        let modules: [JSONValue] = report.modules.map { r in
            var pairs: [(String, JSONValue)] = [("tensor", .string(r.tensor)), ("seconds", num(r.seconds))]
            if let s = r.solution {
                pairs += [
                    ("solver", .string(s.method.rawValue)), ("rcond", num(s.rcond)), ("rank", .number(JSONNumber(s.rank))),
                    ("rows", .number(JSONNumber(s.rows))), ("relative_residual", num(s.relativeResidual)),
                    ("x_minus_identity", num(s.distanceFromIdentity))
                ]
                if let f = s.fallbackReason { pairs.append(("fallback_reason", .string(f))) }
                pairs.append(("fit_precision", .string(s.precision.rawValue)))
                pairs.append(("blas_threads", .number(JSONNumber(s.blasThreads))))
                if let p = r.predictedOffFraction { pairs.append(("mixed_precision_predicted_off_fraction", num(p))) }
                if let f = r.float64Refit { pairs.append(("float64_refit_reason", .string(f))) }
            } else {
                pairs.append(("solver", .string("identity (swap)")))
            }
            return .object(JSONObject(pairs))
        }
        let root = JSONObject([
            ("tool", .string("lep \(o.toolVersion)")),
            ("operation", .string("propagate")),
            ("mode", .string(o.mode.rawValue)),
            ("delta_shared", .string(o.deltaShared.rawValue)),
            ("compat", .string(o.compatReference ? "reference" : "none")),
            ("inputs", .object(JSONObject([("base", model(inputs.base)), ("instruct", model(inputs.instruct)), ("donor", model(inputs.donor))]))),
            ("lora_donor", lora(inputs)),
            ("row_pairs", .number(JSONNumber(report.pairs))),
            ("modules", .array(modules)),
            ("output_rows", .number(JSONNumber(report.outputRows))),
            ("donor_rows", .number(JSONNumber(report.donorRows))),
            ("instruct_rows_copied", .number(JSONNumber(report.instructRowsCopied))),
            ("mean_filled_rows", .array(report.meanFilledRows.map { .number(JSONNumber($0)) })),
            ("appended_tokens", .array(report.extras.map { .string($0) })),
            ("remapped_ids", .array(report.remapped.map { .string($0) })),
            ("warnings", .array(report.warnings.map { .string($0) }))
        ])
        return JSONWriter.pretty(.object(root)) + "\n"
    }

    static func lastComponent(_ p: String) -> String {
        guard let s = p.lastIndex(of: "/") else { return p }
        return String(p[p.index(after: s)...])
    }
}
