import Models
import Support
import Tokenizers

/// `lep verify`: is a (merged, propagated) model healthy, and how close is it to a reference?
///
/// 1. every weight finite and no tensor all zero (``WeightCheck``);
/// 2. a text (or token ids) scored with the Float32 forward pass in rolling windows: every logit finite;
///    mean NLL per token, perplexity, bits per UTF-8 byte (text input);
/// 3. with a reference of the same vocabulary and the same token ids, both score the same windows and
///    ``AgreementStatistics`` compare them (KL, same top-1, Δp); otherwise only bits per byte is comparable;
/// 4. thresholds on mean KL and same top-1 become checks.
///
/// Every check that reads no tensor data (tokenizers, the reference's vocabulary) runs before the weight scan.
public enum ModelVerification {
    /// What to score.
    public enum Input: Sendable {
        /// A text, encoded with each model's own tokenizer (BOS as the tokenizer adds it); `source` names it.
        case text(String, source: String)
        /// Token ids, the same for both models.
        case ids([Int])
    }

    /// What to check.
    public struct Options: Sendable {
        /// The text or token ids to score (default: the bundled English and Russian text).
        public var input: Input = .text(VerificationText.default, source: "bundled text (English and Russian)")
        /// A reference model folder to compare with (nil: the model alone).
        public var reference: String?
        /// Window length in tokens (at least 2).
        public var context = 512
        /// Largest mean KL divergence (nats per token, reference ‖ model) that passes; needs a reference.
        public var maxKLD: Double?
        /// Smallest fraction (0...1) of positions with the reference's top-1 token that passes; needs a reference.
        public var minTop1: Double?
        /// Whether to scan every weight for NaN/Inf and all-zero tensors first (``WeightCheck``).
        public var scanWeights = true
        /// Converted Float32 weights kept per model (``ModelWeights/defaultResidentBudget``).
        public var residentBudget = ModelWeights.defaultResidentBudget
        /// Defaults: the bundled text, no reference, windows of 512 tokens, no thresholds, weight scan on.
        public init() {}
    }

    /// One pass/fail check.
    public struct Check: Sendable {
        /// What was checked, e.g. "logits finite" or "mean KL ≤ 0.05".
        public let name: String
        /// True when the measured value meets the check.
        public let passed: Bool
        /// The measured value, or what failed (tensor names, counts).
        public let detail: String
    }

    /// The reference's side of the comparison.
    public struct ReferenceResult: Sendable {
        /// The reference folder as given.
        public let model: String
        /// The reference's `vocab_size`.
        public let vocabularySize: Int
        /// Equal vocab_size and identical token ids: agreement statistics exist.
        public let sameVocabulary: Bool
        /// Tokens the reference scored (its own encoding of a text, or the given ids).
        public let tokens: Int
        /// The reference's mean NLL per token over windows of the same length.
        public let likelihood: Likelihood
        /// The reference's bits per UTF-8 byte (text input only): comparable across vocabularies.
        public let bitsPerByte: Double?
        /// KL, same top-1 and Δp of the model against the reference (nil unless ``sameVocabulary``).
        public let agreement: AgreementStatistics?
        /// Why the models are not comparable token by token (nil when they are).
        public let difference: String?
    }

    /// Everything `lep verify` reports.
    public struct Report: Sendable {
        /// The model folder as given.
        public let model: String
        /// The model's `config.json`.
        public let config: ModelConfig
        /// The weight scan (nil when ``Options/scanWeights`` is off).
        public let weights: WeightCheck.Report?
        /// Where the tokens came from: a text's source, or "ids".
        public let inputSource: String
        /// Tokens scored (the encoded text, with BOS when the tokenizer adds one, or the ids).
        public let tokens: Int
        /// UTF-8 bytes of the text (nil for ids).
        public let textBytes: Int?
        /// Window length in tokens.
        public let context: Int
        /// Mean NLL per token and perplexity over the rolling windows.
        public let likelihood: Likelihood
        /// Bits per UTF-8 byte of the text (nil for ids).
        public let bitsPerByte: Double?
        /// Logits that were NaN or ±Inf, over every scored window (0 for a healthy model).
        public let nonFiniteLogits: Int
        /// The reference's side (nil without a reference).
        public let reference: ReferenceResult?
        /// Seconds of the model's scoring pass (with the reference's agreement windows).
        public let seconds: Double
        /// Every check in order: weights, logits, then the thresholds.
        public let checks: [Check]
        /// True when every check passed.
        public var passed: Bool { checks.allSatisfy(\.passed) }
    }

    /// Options that cannot work together, named as the options are (`max_kld`, `context`).
    public static func validate(_ o: Options) throws(ModelError) {
        guard o.context >= 2 else { throw .invalidOption(option: "ctx", reason: "must be at least 2") }
        if (o.maxKLD != nil || o.minTop1 != nil) && o.reference == nil {
            throw .invalidOption(option: "max_kld", reason: "the thresholds (max_kld, min_top1) need a reference")
        }
    }

    /// Runs the checks. `warn` gets notes (a text that already starts with BOS), `scanProgress` the
    /// weight scan's (done, total), `clock` a monotonic time in seconds (for ``Report/seconds``).
    public static func run(
        model dir: String, options o: Options, warn: (String) -> Void = { _ in }, scanProgress: (Int, Int) -> Void = { _, _ in },
        clock: () -> Double
    ) throws -> Report {
        try validate(o)
        let model = try Transformer(directory: dir, residentBudget: o.residentBudget)
        func encode(_ text: String, _ directory: String) throws -> [Int] {
            let tokenizer: any Tokenizer
            do { tokenizer = try loadTokenizer(directory: directory) } catch {
                throw EvaluationError.model(
                    path: directory, message: "text input needs the model's tokenizer, which could not be loaded: \(error.description); pass token ids instead")
            }
            let (ids, skipped) = tokenizer.encodePrompt(text, addSpecialTokens: true)
            if skipped, let bos = tokenizer.specialTokens.bos { warn("the text already starts with the BOS token \(bos.token); no second BOS added") }
            return ids
        }
        let ids: [Int], text: String?, source: String
        switch o.input {
        case .text(let t, let s): (ids, text, source) = (try encode(t, dir), t, s)
        case .ids(let i): (ids, text, source) = (i, nil, "ids")
        }
        var reference: Transformer?
        var referenceIds: [Int]?
        if let refDir = o.reference {
            let r = try Transformer(directory: refDir, residentBudget: o.residentBudget)
            reference = r
            if let text {
                referenceIds = try encode(text, refDir)
            } else {
                guard r.config.vocabSize == model.config.vocabSize else {
                    throw ModelError.incomparable(reason: "token ids with models of different vocabularies (\(model.config.vocabSize) vs \(r.config.vocabSize)); score a text instead")
                }
                referenceIds = ids
            }
        }
        var checks: [Check] = []
        // 1. Weights.
        var weights: WeightCheck.Report?
        if o.scanWeights {
            let w = try WeightCheck.scan(model.weights.checkpoint, progress: scanProgress)
            weights = w
            let detail =
                w.isHealthy
                ? "\(w.tensors) tensors, \(NumberFormat.count(w.elements)) values, max |w| \(NumberFormat.fixed(Double(w.maxAbs), 4))"
                : w.findings.map { "\($0.tensor): " + ($0.nonFinite > 0 ? "\($0.nonFinite) NaN/Inf" : "all zero") }.joined(separator: "; ")
            checks.append(Check(name: "weights finite and non-zero", passed: w.isHealthy, detail: detail))
        }
        // 2. Likelihood (and, with a same-vocabulary reference, agreement on the same windows).
        let V = model.config.vocabSize
        let sameVocabulary = reference.map { $0.config.vocabSize == V && referenceIds == ids } ?? false
        var agreement = Agreement()
        var nonFinite = 0
        let started = clock()
        let nll = try model.likelihood(of: ids, context: o.context) { (window: ArraySlice<Int>, logits: [Float]) throws(ModelError) in
            for v in logits where !v.isFinite { nonFinite += 1 }
            if sameVocabulary, let r = reference {
                let refLogits = try r.forward(Array(window), cache: r.makeCache(capacity: window.count))
                agreement.add(reference: refLogits, candidate: logits, ids: window, vocabSize: V)
            }
        }
        let seconds = clock() - started
        checks.append(Check(name: "logits finite", passed: nonFinite == 0, detail: nonFinite == 0 ? "\(nll.tokens + nll.windows) positions × \(V)" : "\(nonFinite) non-finite logits"))
        let textBytes = text?.utf8.count
        // 3. Reference, 4. thresholds.
        var refResult: ReferenceResult?
        if let r = reference, let rIds = referenceIds, let refDir = o.reference {
            let refNLL = try r.likelihood(of: rIds, context: o.context)
            let stats = sameVocabulary ? agreement.statistics : nil
            if let s = stats {
                if let m = o.maxKLD { checks.append(Check(name: "mean KL ≤ \(m)", passed: s.klMean <= m, detail: scientific(s.klMean))) }
                if let m = o.minTop1 { checks.append(Check(name: "same top-1 ≥ \(m)", passed: s.sameTop1 >= m, detail: NumberFormat.fixed(s.sameTop1, 4))) }
            } else if o.maxKLD != nil || o.minTop1 != nil {
                checks.append(Check(name: "agreement thresholds", passed: false, detail: "KL and top-1 need the same vocabulary and tokens; the models differ"))
            }
            refResult = ReferenceResult(
                model: refDir, vocabularySize: r.config.vocabSize, sameVocabulary: sameVocabulary, tokens: rIds.count, likelihood: refNLL,
                bitsPerByte: textBytes.map { refNLL.bitsPerByte(textBytes: $0) }, agreement: stats,
                difference: sameVocabulary ? nil : difference(referenceVocab: r.config.vocabSize, vocab: V, referenceIds: rIds, ids: ids))
        }
        return Report(
            model: dir, config: model.config, weights: weights, inputSource: source, tokens: ids.count, textBytes: textBytes, context: o.context,
            likelihood: nll, bitsPerByte: textBytes.map { nll.bitsPerByte(textBytes: $0) }, nonFiniteLogits: nonFinite, reference: refResult,
            seconds: seconds, checks: checks)
    }

    /// What makes a reference incomparable token by token: the vocabulary sizes, or where the same text
    /// first tokenizes differently.
    public static func difference(referenceVocab: Int, vocab: Int, referenceIds: [Int], ids: [Int]) -> String {
        if referenceVocab != vocab { return "different vocabulary sizes (reference vocab_size \(referenceVocab), model \(vocab))" }
        let k = zip(referenceIds, ids).prefix { $0 == $1 }.count
        if k == min(referenceIds.count, ids.count) {
            return "same vocab_size \(vocab), but the text is \(referenceIds.count) tokens for the reference and \(ids.count) for the model"
        }
        return
            "same vocab_size \(vocab), but the tokenizers split the text differently (first at token \(k): id \(referenceIds[k]) in the reference, \(ids[k]) in the model; \(referenceIds.count) vs \(ids.count) tokens)"
    }

    /// A compact scientific rendering (e.g. 1.234e-05); plain with 4 decimals between 0.01 and 9999.
    public static func scientific(_ v: Double) -> String {
        guard v.isFinite, v != 0 else { return v == 0 ? "0" : "\(v)" }
        var e = 0
        var m = abs(v)
        while m >= 10 { m /= 10; e += 1 }
        while m < 1 { m *= 10; e -= 1 }
        if e >= -2 && e <= 3 { return NumberFormat.fixed(v, 4) }
        return (v < 0 ? "-" : "") + NumberFormat.fixed(m, 3) + "e" + (e < 0 ? "-" : "+") + (abs(e) < 10 ? "0" : "") + String(abs(e))
    }
}
