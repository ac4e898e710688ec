import ChatTemplates
#if canImport(Glibc)
import Glibc
#endif
import LEPJSON
import Support

/// Writes `report.json`, `report.md` and `report.svg`: byte-identical for identical reports.
public enum ReportWriter {
    /// The JSON report: tool, models (with header hashes), settings, and one result per
    /// (model, task, metric) with `value`, `n` and `stderr` (null when not meaningful).
    public static func json(_ r: EvaluationReport) -> String {
        var root = JSONObject()
        root["format"] = .string("lep-eval-report/1")
        root["tool"] = .string(r.tool)
        root["models"] = .array(
            r.models.map { m in
                var o = JSONObject()
                o["name"] = .string(m.name)
                o["path"] = .string(m.path)
                o["header_hash"] = .string(m.headerHash)
                for d in m.details { o[d.key] = .string(d.value) }
                return .object(o)
            })
        root["settings"] = .object(r.settings)
        root["results"] = .array(
            r.entries.map { e in
                var o = JSONObject()
                o["model"] = .string(e.model)
                o["task"] = .string(e.task)
                o["metric"] = .string(e.metric)
                o["value"] = .number(JSONNumber(e.value))
                o["n"] = .number(JSONNumber(e.n))
                o["stderr"] = e.standardError.map { .number(JSONNumber($0)) } ?? .null
                o["main"] = .bool(e.isMain)
                o["higher_is_better"] = .bool(e.higherIsBetter)
                return .object(o)
            })
        root["comparisons"] = .array(
            r.comparisons.map { c in
                var o = JSONObject()
                o["model"] = .string(c.model)
                o["reference"] = .string(c.reference)
                o["task"] = .string(c.task)
                o["metric"] = .string(c.metric)
                o["n"] = .number(JSONNumber(c.n))
                o["mean_difference"] = .number(JSONNumber(c.meanDifference))
                o["stderr"] = c.standardError.map { .number(JSONNumber($0)) } ?? .null
                o["ci95_low"] = .number(JSONNumber(c.low))
                o["ci95_high"] = .number(JSONNumber(c.high))
                o["resamples"] = .number(JSONNumber(c.resamples))
                o["seed"] = .number(JSONNumber(c.seed))
                o["higher_is_better"] = .bool(c.higherIsBetter)
                o["verdict"] = .string(c.verdict.rawValue)
                return .object(o)
            })
        return JSONWriter.pretty(.object(root))
    }

    /// The Markdown report: a model list and one table with the models side by side
    /// (`value ± stderr`), the best value per row in bold.
    public static func markdown(_ r: EvaluationReport) -> String {
        func cell(_ s: String) -> String { s.replacingAll("|", with: "\\|").replacingAll("\n", with: " ") }
        var out = "# Evaluation report\n\n"
        out += "Tool: \(cell(r.tool))\n\n"
        out += "| model | path | header hash |\n|---|---|---|\n"
        for m in r.models { out += "| \(cell(m.name)) | \(cell(m.path)) | `\(cell(m.headerHash))` |\n" }
        out += "\n| task | metric | n |" + r.models.map { " \(cell($0.name)) |" }.joined() + "\n"
        out += "|---|---|---:|" + String(repeating: "---:|", count: r.models.count) + "\n"
        // Per-token values of models that tokenize differently (different vocabularies, or a different
        // number of tokens for the same text) are not comparable: no "best" is marked for them.
        let vocabularies = Set(r.models.map { m in m.details.first { $0.key == "vocab_size" }?.value ?? "" })
        var incomparable = false
        for row in r.rows {
            let es = r.models.map { r.entry(model: $0.name, task: row.task, metric: row.metric) }
            let present = es.compactMap { $0 }
            let ns = Array(Set(present.map(\.n))).sorted()
            let higher = present.first?.higherIsBetter ?? true
            let perToken = Self.perTokenMetrics.contains(row.metric) && (ns.count > 1 || vocabularies.count > 1)
            incomparable = incomparable || (perToken && present.count > 1)
            let best = present.count > 1 && !perToken ? (higher ? present.map(\.value).max() : present.map(\.value).min()) : nil
            var line = "| \(cell(row.task)) | \(cell(row.metric))\(higher ? "" : " ↓")\(perToken && present.count > 1 ? " †" : "") | \(ns.map(String.init).joined(separator: "/")) |"
            for e in es {
                guard let e else { line += " – |"; continue }
                var text = DecimalFormat.value(e.value)
                if let se = e.standardError { text += " ± " + DecimalFormat.value(se) }
                if let best, e.value == best { text = "**" + text + "**" }
                line += " \(text) |"
            }
            out += line + "\n"
        }
        if let reference = r.comparisons.first?.reference {
            let c0 = r.comparisons[0]
            out += "\n## Paired comparison with \(cell(reference))\n\n"
            out += "Each model minus \(cell(reference)) on the same items: mean difference ± standard error, and a 95 % bootstrap "
            out += "interval (\(c0.resamples) resamples, SplitMix64 seed \(c0.seed)). The verdict says whether the interval excludes 0.\n\n"
            out += "| task | metric | n | model | difference | 95 % interval | verdict |\n|---|---|---:|---|---:|---|---|\n"
            for c in r.comparisons {
                var d = (c.meanDifference > 0 ? "+" : "") + DecimalFormat.value(c.meanDifference)
                if let se = c.standardError { d += " ± " + DecimalFormat.value(se) }
                out +=
                    "| \(cell(c.task)) | \(cell(c.metric))\(c.higherIsBetter ? "" : " ↓") | \(c.n) | \(cell(c.model)) | \(d) | [\(DecimalFormat.value(c.low)), \(DecimalFormat.value(c.high))] | \(c.verdict.rawValue) |\n"
            }
        }
        if !r.settings.isEmpty {
            out += "\nSettings: `" + JSONWriter.compact(.object(r.settings)).replacingAll("`", with: "'") + "`\n"
        }
        out += "\n↓: lower is better. ± is the standard error of the mean over items. The best value of a row is in bold.\n"
        out += "n: what a value averages over: tokens (likelihood rows, chars_per_token), words (tokens_per_word), positions (agreement), items (copy, multiple choice); a/b when the models differ.\n"
        if incomparable {
            out += "†: per-token values of models with different tokenizers are not comparable (no best marked); compare bits_per_byte.\n"
        }
        return out
    }

    /// Metrics averaged per token of the model's own tokenizer.
    static let perTokenMetrics: Set<String> = ["nll_per_token", "perplexity"]

    static let palette = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#8C8C8C"]

    /// The SVG chart: one group of bars per main metric, one bar per model. Bars are scaled per
    /// metric (the largest value fills the height); labels give the values.
    public static func svg(_ r: EvaluationReport) -> String {
        func esc(_ s: String) -> String {
            s.replacingAll("&", with: "&amp;").replacingAll("<", with: "&lt;").replacingAll(">", with: "&gt;").replacingAll("\"", with: "&quot;")
        }
        func num(_ x: Double) -> String { DecimalFormat.fixed(x, 1) }
        var rows = r.rows.filter { row in r.entries.contains { $0.task == row.task && $0.metric == row.metric && $0.isMain } }
        if rows.isEmpty { rows = r.rows }
        let barWidth = 26.0, barGap = 4.0, groupGap = 36.0, plotHeight = 220.0
        let left = 40.0, top = 50.0
        let groupWidth = Double(max(1, r.models.count)) * (barWidth + barGap) - barGap
        let width = left * 2 + Double(max(1, rows.count)) * (groupWidth + groupGap)
        let legendHeight = Double(r.models.count) * 18
        let height = top + plotHeight + 70 + legendHeight
        var out =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(num(width))\" height=\"\(num(height))\" viewBox=\"0 0 \(num(width)) \(num(height))\" font-family=\"sans-serif\" font-size=\"11\">\n"
        out += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
        out += "<text x=\"\(num(left))\" y=\"22\" font-size=\"15\" font-weight=\"bold\">Main metrics per model</text>\n"
        out += "<text x=\"\(num(left))\" y=\"38\" fill=\"#555555\">bars scaled per metric (tallest = largest value); ↓ = lower is better</text>\n"
        let baseline = top + plotHeight
        out += "<line x1=\"\(num(left - 10))\" y1=\"\(num(baseline))\" x2=\"\(num(width - left + 10))\" y2=\"\(num(baseline))\" stroke=\"#333333\"/>\n"
        for (g, row) in rows.enumerated() {
            let x0 = left + Double(g) * (groupWidth + groupGap)
            let es = r.models.map { r.entry(model: $0.name, task: row.task, metric: row.metric) }
            let maxValue = es.compactMap { $0.map { abs($0.value) } }.max() ?? 0
            for (i, e) in es.enumerated() {
                guard let e else { continue }
                let h = maxValue > 0 ? abs(e.value) / maxValue * (plotHeight - 20) : 0
                let x = x0 + Double(i) * (barWidth + barGap)
                let color = palette[i % palette.count]
                out +=
                    "<rect x=\"\(num(x))\" y=\"\(num(baseline - h))\" width=\"\(num(barWidth))\" height=\"\(num(h))\" fill=\"\(color)\"><title>\(esc(e.model)) \(esc(row.task)) \(esc(row.metric)) = \(DecimalFormat.value(e.value))</title></rect>\n"
                out +=
                    "<text x=\"\(num(x + barWidth / 2))\" y=\"\(num(baseline - h - 4))\" text-anchor=\"middle\" font-size=\"9\">\(DecimalFormat.fixed(e.value, abs(e.value) >= 100 ? 0 : 2))</text>\n"
            }
            let higher = es.compactMap { $0 }.first?.higherIsBetter ?? true
            out += "<text x=\"\(num(x0 + groupWidth / 2))\" y=\"\(num(baseline + 16))\" text-anchor=\"middle\">\(esc(row.task))</text>\n"
            out += "<text x=\"\(num(x0 + groupWidth / 2))\" y=\"\(num(baseline + 30))\" text-anchor=\"middle\" fill=\"#555555\">\(esc(row.metric))\(higher ? "" : " ↓")</text>\n"
        }
        for (i, m) in r.models.enumerated() {
            let y = baseline + 52 + Double(i) * 18
            out += "<rect x=\"\(num(left))\" y=\"\(num(y - 10))\" width=\"12\" height=\"12\" fill=\"\(palette[i % palette.count])\"/>\n"
            out += "<text x=\"\(num(left + 18))\" y=\"\(num(y))\">\(esc(m.name))</text>\n"
        }
        out += "</svg>\n"
        return out
    }

    /// Writes the three reports into `directory` (created if missing), each atomically
    /// (temporary sibling, fsync, rename). Returns the paths written.
    @discardableResult
    public static func write(_ r: EvaluationReport, to directory: String) throws(EvaluationError) -> [String] {
        if mkdir(directory, 0o755) != 0 && errno != EEXIST {
            throw .report("cannot create the output folder \(directory): \(String(cString: strerror(errno)))")
        }
        var written: [String] = []
        for (name, text) in [("report.json", json(r)), ("report.md", markdown(r)), ("report.svg", svg(r))] {
            let path = directory + "/" + name
            try atomicWrite(text, to: path)
            written.append(path)
        }
        return written
    }

    static func atomicWrite(_ text: String, to path: String) throws(EvaluationError) {
        do { try AtomicFile.write(Array(text.utf8), to: path) } catch { throw .report(error.description) }
    }
}

extension String {
    /// Every occurrence of `target` replaced (Foundation-free).
    func replacingAll(_ target: String, with replacement: String) -> String {
        Builtins.replace(self, target, replacement)
    }
}
