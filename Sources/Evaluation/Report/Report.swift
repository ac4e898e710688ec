import ChatTemplates
import LEPJSON
import Support

/// One evaluated model, identified by its checkpoint headers.
public struct ReportModel: Equatable, Sendable {
    /// A short display name (column heading), unique within the report.
    public var name: String
    /// Where the model was read from, as given by the user.
    public var path: String
    /// A hash of the checkpoint's safetensors headers (names, dtypes, shapes, offsets), e.g. "sha256:…".
    public var headerHash: String
    /// Further identity facts (architecture, vocabulary size, chat template used, ...), in order.
    public var details: [(key: String, value: String)]

    /// A model entry; `details` keep the given order in the report.
    public init(name: String, path: String, headerHash: String, details: [(key: String, value: String)] = []) {
        self.name = name; self.path = path; self.headerHash = headerHash; self.details = details
    }

    /// Equal when every field is, the details compared in order.
    public static func == (a: ReportModel, b: ReportModel) -> Bool {
        a.name == b.name && a.path == b.path && a.headerHash == b.headerHash
            && a.details.map(\.key) == b.details.map(\.key) && a.details.map(\.value) == b.details.map(\.value)
    }
}

/// One number: a metric of a task for a model.
public struct ReportEntry: Equatable, Sendable {
    /// The ``ReportModel/name`` of the model measured.
    public var model: String
    /// The task's name in the report (e.g. "copy_en_sentence").
    public var task: String
    /// The metric's name (e.g. "copy99", "bits_per_byte").
    public var metric: String
    /// The metric's value; must be finite.
    public var value: Double
    /// The sample size behind `value`: items for a mean over items, tokens or words for corpus-level metrics.
    public var n: Int
    /// Standard error of `value` (nil when not defined, e.g. a median or a maximum).
    public var standardError: Double?
    /// True for the metric that represents the task in the chart (e.g. `copy99` for paragraphs).
    public var isMain: Bool
    /// False for metrics where lower is better (perplexity, bits per byte, KL divergence).
    public var higherIsBetter: Bool
    /// The per-item scores behind `value` (item id and score, in item order), for paired
    /// comparisons; nil for metrics that are not a mean over items. Not written to report.json.
    public var items: [ItemScore]?

    /// An entry from a value already computed; use ``mean(model:task:metric:ids:scores:isMain:higherIsBetter:)`` for a mean over items.
    public init(
        model: String, task: String, metric: String, value: Double, n: Int, standardError: Double? = nil,
        isMain: Bool = false, higherIsBetter: Bool = true, items: [ItemScore]? = nil
    ) {
        self.model = model; self.task = task; self.metric = metric; self.value = value; self.n = n
        self.standardError = standardError; self.isMain = isMain; self.higherIsBetter = higherIsBetter; self.items = items
    }

    /// A mean over items with its standard error, keeping the per-item scores.
    public static func mean(
        model: String, task: String, metric: String, ids: [String], scores: [Double],
        isMain: Bool = false, higherIsBetter: Bool = true
    ) throws(EvaluationError) -> ReportEntry {
        guard ids.count == scores.count else { throw .metric("\(task)/\(metric): \(scores.count) scores for \(ids.count) items") }
        let m = try MetricSummary.mean(of: scores)
        return ReportEntry(
            model: model, task: task, metric: metric, value: m.value, n: m.n, standardError: m.standardError,
            isMain: isMain, higherIsBetter: higherIsBetter,
            items: zip(ids, scores).map { ItemScore(id: $0, score: $1) })
    }
}

/// One item's score (for paired comparisons between models on the same items).
public struct ItemScore: Equatable, Sendable {
    /// The item's id in its task file (or the generated id, e.g. `en-s012`).
    public var id: String
    /// The item's score for the entry's metric.
    public var score: Double

    /// A score for item `id`.
    public init(id: String, score: Double) { self.id = id; self.score = score }
}

/// The results of one `lep eval` run: models side by side, settings, and every metric.
///
/// Deterministic by construction: no timestamps; models keep the order given; rows keep the order
/// of first appearance of each (task, metric).
public struct EvaluationReport: Equatable, Sendable {
    /// The tool and its version (e.g. "lep 0.3.0").
    public var tool: String
    /// The models, in the order given (the first is the reference of the paired comparisons).
    public var models: [ReportModel]
    /// Run settings (tasks, context length, chat format, seeds, data files and their hashes, ...).
    public var settings: JSONObject
    /// Every number, each (model, task, metric) at most once.
    public var entries: [ReportEntry]
    /// Paired comparisons of each model with the first on the same items (``PairedComparison``).
    public var comparisons: [PairedComparison]

    /// Builds a report, refusing duplicate model names, entries for unknown models and non-finite values.
    public init(
        tool: String, models: [ReportModel], settings: JSONObject = JSONObject(), entries: [ReportEntry],
        comparisons: [PairedComparison] = []
    ) throws(EvaluationError) {
        var seen = Set<String>()
        for m in models {
            guard !m.name.isEmpty else { throw .report("a model has an empty name (path \(m.path))") }
            guard seen.insert(m.name).inserted else { throw .report("two models are named '\(m.name)'; give them distinct names") }
        }
        var keys = Set<String>()
        for e in entries {
            guard seen.contains(e.model) else { throw .report("entry \(e.task)/\(e.metric) names unknown model '\(e.model)'") }
            guard e.value.isFinite else { throw .report("\(e.model) \(e.task)/\(e.metric) is not finite (\(e.value))") }
            guard keys.insert(e.model + "\u{0}" + e.task + "\u{0}" + e.metric).inserted else {
                throw .report("\(e.model) has two values for \(e.task)/\(e.metric)")
            }
        }
        for c in comparisons where !(c.meanDifference.isFinite && c.low.isFinite && c.high.isFinite) {
            throw .report("\(c.model) vs \(c.reference) \(c.task)/\(c.metric): the comparison is not finite")
        }
        self.tool = tool; self.models = models; self.settings = settings; self.entries = entries; self.comparisons = comparisons
    }

    /// (task, metric) pairs in order of first appearance.
    public var rows: [(task: String, metric: String)] {
        var seen = Set<String>()
        var out: [(String, String)] = []
        for e in entries where seen.insert(e.task + "\u{0}" + e.metric).inserted { out.append((e.task, e.metric)) }
        return out
    }

    /// The entry for a model, task and metric.
    public func entry(model: String, task: String, metric: String) -> ReportEntry? {
        entries.first { $0.model == model && $0.task == task && $0.metric == metric }
    }
}

/// Report numbers: Support's ``NumberFormat`` fixed-point text (halves away from zero), with `nan` /
/// `inf` / `-inf` and ``pythonFloatText`` beyond 2^53.
enum DecimalFormat {
    static func fixed(_ x: Double, _ digits: Int) -> String {
        guard x.isFinite else { return x.isNaN ? "nan" : (x < 0 ? "-inf" : "inf") }
        return NumberFormat.exactFixed(x, digits) ?? pythonFloatText(x)
    }

    /// A value with about four significant decimals: 4 decimals below 10, fewer above.
    static func value(_ x: Double) -> String {
        let a = abs(x)
        return fixed(x, a >= 1000 ? 1 : (a >= 100 ? 2 : (a >= 10 ? 3 : 4)))
    }
}
