import Surgery
import TensorMath
import Tokenizers

/// `lep propagate --compat reference`: the row pairs of the authors' code (RefalMachine/ruadapt,
/// `ushanka_proj_utils.py`; Documentation/Propagation.md §10), materialised densely in float64 as it does, for
/// ``StreamingLeastSquares/gelsy(a:b:rows:k:m:)``.
///
/// The "old" tokenizer is the **instruct** model's (the reference's `model_tokenizer`); row values are
/// computed the way torch computes them on the checkpoint's bf16 rows:
/// - a special id of the new tokenizer (bos/eos/unk/pad and added special tokens) takes the old row
///   of the same string, and is skipped when the instruct vocabulary lacks it;
/// - any other id: its **raw piece** (`▁` → space when the old tokenizer is byte-level: the reference
///   tests `"llama" in name_or_path`, true for LLaMA-3's byte-level tokenizer and false for Mistral's
///   SentencePiece one) encoded as `"家" + piece` without special tokens, the ids of `"家"` alone
///   dropped from the front; one sub-token → its row; several → `mean` / `sum` in float32 rounded once
///   to the row dtype (torch's bf16 `mean`/`sum`), or, for `occurrence` with an entry in the map, the
///   map's old ids in ascending order with probabilities rounded to the row dtype, each product rounded
///   to it, summed in float32 and rounded;
/// - `union` (our `overlap`): old ids whose single-token decoding equals some new token's single-token
///   decoding; when several old ids decode to the same string the **highest** id is kept (the reference
///   keeps the last one in `get_vocab()` order, which is random per call; ascending order is one of
///   its outcomes), pairs in ascending old id;
/// - `bypass` (our `full`): conversion with the instruct tokenizer as the new one.
enum ReferenceCompat {
    /// Dense row pairs: `a`, `b` row-major `[rows, h]` float64.
    struct Pairs {
        var a: [Double] = []
        var b: [Double] = []
        var rows = 0
    }

    /// The row pairs of `mode` for one module (`S` base rows, `T` instruct rows).
    static func pairs(
        mode: PropagationMode, donor: any Tokenizer, donorCount: Int, instruct: any Tokenizer,
        S: EmbeddingMatrix, T: EmbeddingMatrix, occurrence: [Int: [(id: Int, count: Double)]]?
    ) throws(SurgeryError) -> Pairs {
        switch mode {
        case .swap, .delta:
            throw .invalidOption(option: "compat", reason: "'reference' has no row pairs for mode \(mode.rawValue)")
        case .overlap:
            var p = Pairs()
            let h = S.hidden
            var row = [Double](repeating: 0, count: h)
            for j in unionIds(old: instruct, new: donor, newCount: donorCount) {
                guard j < S.rows, j < T.rows else {
                    throw .referenceCodeFails(reason: "union: instruct id \(j) (\(instruct.token(for: j) ?? "?")) has no base row (base has \(S.rows)); the reference code fails here too")
                }
                row.withUnsafeMutableBufferPointer { S.row(j, into: $0.baseAddress!) }
                p.a += row
                row.withUnsafeMutableBufferPointer { T.row(j, into: $0.baseAddress!) }
                p.b += row
                p.rows += 1
            }
            return p
        case .full:
            return try conversion(new: instruct, count: instruct.vocabularySize, old: instruct, S: S, T: T, aggregation: .mean, occurrence: nil)
        case .conversion, .conversionSum, .conversionOccurrence:
            return try conversion(new: donor, count: donorCount, old: instruct, S: S, T: T, aggregation: mode.aggregation!, occurrence: occurrence)
        }
    }

    /// Whether `t` is a byte-level (GPT-2 alphabet) tokenizer: `Ġ` stands for the space byte.
    static func isByteLevel(_ t: any Tokenizer) -> Bool {
        guard let g = t.id(for: "Ġ") else { return false }
        return t.tokenBytes(g) == [0x20]
    }

    /// The reference's `special_encode`: `"家" + piece` encoded without special tokens, the ids of
    /// `"家"` alone dropped; `▁` → space first when `old` is byte-level.
    static func specialEncode(_ piece: String, old: any Tokenizer, byteLevel: Bool, shift: Int) -> [Int] {
        let text = byteLevel ? String(String.UnicodeScalarView(piece.unicodeScalars.map { $0 == "\u{2581}" ? " " : $0 })) : piece
        return Array(old.encode("家" + text, addSpecialTokens: false).dropFirst(shift))
    }

    /// Special ids as the reference's `all_special_ids` sees them.
    static func specialIds(_ t: any Tokenizer) -> Set<Int> {
        var s = t.specialTokens.specialIds
        for a in t.addedTokens where a.special { s.insert(a.id) }
        for p in [t.specialTokens.bos, t.specialTokens.eos, t.specialTokens.unk, t.specialTokens.pad] {
            if let p { s.insert(p.id) }
        }
        return s
    }

    /// `convert_embs_to_new_tok` for base and instruct rows at once.
    static func conversion(
        new: any Tokenizer, count: Int, old: any Tokenizer, S: EmbeddingMatrix, T: EmbeddingMatrix,
        aggregation: Aggregation, occurrence: [Int: [(id: Int, count: Double)]]?
    ) throws(SurgeryError) -> Pairs {
        let h = S.hidden
        let specials = specialIds(new)
        let byteLevel = isByteLevel(old)
        let shift = old.encode("家", addSpecialTokens: false).count
        let rows = min(S.rows, T.rows)
        var p = Pairs()
        p.a.reserveCapacity(count * h)
        p.b.reserveCapacity(count * h)
        var ra = [Float](repeating: 0, count: h), rb = ra
        for i in 0..<count {
            guard let piece = new.token(for: i) else { continue }
            if specials.contains(i) {
                guard let j = old.id(for: piece) else { continue }  // "Skipped token"
                guard j < rows else { throw noRow(j, old, rows, piece) }
                ra = floats(S, j); rb = floats(T, j)
            } else {
                let sub: [Int]
                var probabilities: [Double]?
                if aggregation == .occurrence, let m = occurrence?[i] {
                    sub = m.map(\.id)  // ascending old id (OccurrenceMap.load sorts)
                    let total = m.reduce(0) { $0 + $1.count }
                    probabilities = m.map { $0.count / total }
                } else {
                    sub = specialEncode(piece, old: old, byteLevel: byteLevel, shift: shift)
                }
                guard !sub.isEmpty else {
                    throw .referenceCodeFails(reason: "token \(i) '\(piece)' re-tokenises to nothing; the reference code fails on it (torch.stack)")
                }
                if let bad = sub.first(where: { $0 < 0 || $0 >= rows }) { throw noRow(bad, old, rows, piece) }
                ra = aggregate(sub, probabilities, S, aggregation)
                rb = aggregate(sub, probabilities, T, aggregation)
            }
            p.a += ra.map { Double($0) }
            p.b += rb.map { Double($0) }
            p.rows += 1
        }
        return p
    }

    static func noRow(_ j: Int, _ old: any Tokenizer, _ rows: Int, _ piece: String) -> SurgeryError {
        .referenceCodeFails(reason: "'\(piece)' needs old id \(j) (\(old.token(for: j) ?? "?")), but the base/instruct embeddings have \(rows) rows; the reference code fails here too")
    }

    /// Row `j` as float32 (exact for bf16/f16/f32 rows).
    static func floats(_ m: EmbeddingMatrix, _ j: Int) -> [Float] {
        var out = [Float](repeating: 0, count: m.hidden)
        out.withUnsafeMutableBufferPointer { m.rows(j..<(j + 1), into: $0.baseAddress!) }
        return out
    }

    /// Rounds to the row dtype of `m` (bf16 / f16: round to nearest even; f32: unchanged).
    static func round(_ v: Float, _ m: EmbeddingMatrix) -> Float {
        switch m.view.dtype.floatStorage! {
        case .bf16: return HalfPrecision.bf16ToFloat(HalfPrecision.floatToBF16(v))
        case .f16: return HalfPrecision.f16ToFloat(HalfPrecision.floatToF16(v))
        default: return v
        }
    }

    /// `get_agg_vec` on rows of `m`: torch's reduced-precision mean/sum (float32 accumulation, one rounding).
    static func aggregate(_ sub: [Int], _ probabilities: [Double]?, _ m: EmbeddingMatrix, _ aggregation: Aggregation) -> [Float] {
        let h = m.hidden
        if sub.count == 1 { return floats(m, sub[0]) }  // vector.reshape(-1) / overlap_penalty (1.0)
        var acc = [Float](repeating: 0, count: h)
        for (k, j) in sub.enumerated() {
            let r = floats(m, j)
            if let p = probabilities {
                let w = round(Float(p[k]), m)  // torch.tensor(probs, dtype=bf16)
                for c in 0..<h { acc[c] += round(w * r[c], m) }
            } else {
                for c in 0..<h { acc[c] += r[c] }
            }
        }
        if probabilities == nil && aggregation != .sum {
            let n = Float(sub.count)
            for c in 0..<h { acc[c] /= n }
        }
        return acc.map { round($0, m) }
    }

    /// `get_union_tokens`: old ids (highest per decoded string) whose decoding some new token shares, ascending.
    static func unionIds(old: any Tokenizer, new: any Tokenizer, newCount: Int) -> [Int] {
        var oldByText: [String: Int] = [:]
        for j in 0..<old.vocabularySize where old.token(for: j) != nil {
            oldByText[old.decode([j], skipSpecialTokens: false)] = j
        }
        var newTexts = Set<String>()
        for i in 0..<newCount where new.token(for: i) != nil { newTexts.insert(new.decode([i], skipSpecialTokens: false)) }
        return oldByText.filter { newTexts.contains($0.key) }.map(\.value).sorted()
    }

    /// Output ids whose row the reference copies from the instruct model (`init_added_toks`): every added
    /// token of the output vocabulary whose content the instruct tokenizer encodes as exactly one id.
    static func addedTokenRows(vocabulary v: OutputVocabulary, donor: any Tokenizer, instruct: any Tokenizer, instructRows: Int) -> [Int: Int] {
        var rows: [Int: Int] = [:]
        let added = donor.addedTokens.filter { $0.id < v.donorRows }.map { ($0.id, $0.content) } + v.extras.map { ($0.outputId, $0.token.content) }
        for (id, content) in added {
            let ids = instruct.encode(content, addSpecialTokens: false)
            if ids.count == 1, ids[0] < instructRows { rows[id] = ids[0] }
        }
        return rows
    }
}
