import LEPJSON

/// A flat per-model summary of a report, for scripts and `make demo` (`lep eval --summary-json FILE`):
///
/// `{"format": "lep-eval-summary/1", "reference": FIRST, "models": {NAME: {KEY: number or null}}}`
/// with, for every language L of the data, `L_chars_per_token`, `L_bits_per_byte`,
/// `copy_L_copy99`, `copy_L_len` (sentences and paragraphs together), `n_copy_L`,
/// `copy_L_sentence_len`, `copy_L_paragraph_copy99`, `mc_L_acc`, `mc_cont_L_acc_norm`, and
/// `chat_format` (fraction of replies that end the turn, all languages), `n_chat_format`; a mean over
/// items also has `KEY_stderr`. A value the model did not get (e.g. copy for a model without a chat
/// template) is null, so every model has every key. `paired` holds the model's comparisons with the
/// reference (`"task/metric": {mean_difference, ci95_low, ci95_high, verdict}`).
public enum EvaluationSummary {
    /// The summary keys of one language: (key, task, metric, with a standard error).
    typealias Key = (key: String, task: String, metric: String, n: String?, stderr: Bool)

    /// The summary keys of one language: key, task, metric, the key of its item count, whether
    /// it has a standard error.
    static func keys(language l: String) -> [Key] {
        [
            ("\(l)_chars_per_token", "tokenizer_\(l)", "chars_per_token", nil, false),
            ("\(l)_bits_per_byte", "text_\(l)", "bits_per_byte", nil, true),
            ("copy_\(l)_copy99", "copy_\(l)", "copy99", "n_copy_\(l)", true),
            ("copy_\(l)_len", "copy_\(l)", "len", nil, true),
            ("copy_\(l)_sentence_len", "copy_\(l)_sentence", "len", "n_copy_\(l)_sentence", true),
            ("copy_\(l)_sentence_copy99", "copy_\(l)_sentence", "copy99", nil, true),
            ("copy_\(l)_paragraph_copy99", "copy_\(l)_paragraph", "copy99", "n_copy_\(l)_paragraph", true),
            ("mc_\(l)_acc", "mc_single_\(l)", "acc", "n_mc_\(l)", true),
            ("mc_cont_\(l)_acc_norm", "mc_cont_\(l)", "acc_norm", "n_mc_cont_\(l)", true)
        ]
    }

    /// The summary object.
    public static func object(_ r: EvaluationReport, languages: [String]) -> JSONObject {
        var keys: [Key] = []
        for l in languages { keys += Self.keys(language: l) }
        keys.append(("chat_format", "chat_format", "ends_turn", "n_chat_format", true))
        var models = JSONObject()
        for m in r.models {
            var o = JSONObject()
            for k in keys {
                let e = r.entry(model: m.name, task: k.task, metric: k.metric)
                o[k.key] = e.map { .number(JSONNumber($0.value)) } ?? .null
                if k.stderr { o[k.key + "_stderr"] = e?.standardError.map { .number(JSONNumber($0)) } ?? .null }
                if let n = k.n { o[n] = e.map { .number(JSONNumber($0.n)) } ?? .null }
            }
            var paired = JSONObject()
            for c in r.comparisons where c.model == m.name {
                var p = JSONObject()
                p["mean_difference"] = .number(JSONNumber(c.meanDifference))
                p["ci95_low"] = .number(JSONNumber(c.low))
                p["ci95_high"] = .number(JSONNumber(c.high))
                p["verdict"] = .string(c.verdict.rawValue)
                paired[c.task + "/" + c.metric] = .object(p)
            }
            o["paired"] = .object(paired)
            models[m.name] = .object(o)
        }
        var root = JSONObject()
        root["format"] = .string("lep-eval-summary/1")
        root["reference"] = r.models.first.map { .string($0.name) } ?? .null
        root["models"] = .object(models)
        return root
    }

    /// The summary as pretty JSON text.
    public static func json(_ r: EvaluationReport, languages: [String]) -> String {
        JSONWriter.pretty(.object(object(r, languages: languages)))
    }

    /// Writes the summary to `path` atomically.
    public static func write(_ r: EvaluationReport, languages: [String], to path: String) throws(EvaluationError) {
        try ReportWriter.atomicWrite(json(r, languages: languages), to: path)
    }
}
