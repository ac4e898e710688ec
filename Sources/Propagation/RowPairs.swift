import LEPJSON
import Merging
import Models
import Support
import Surgery
import TensorMath
import Vocabulary

/// The row pairs `(A, B)` a propagation mode fits X on (Documentation/Propagation.md §5), as sparse combinations of old rows.
///
/// Pair `p` stands for `A[p] = Σ wᵢ·S[idᵢ]` and `B[p] = Σ wᵢ·T[idᵢ]` (the same old ids and weights
/// on base rows S and instruct rows T), or, for `delta`'s fit, `B[p] = D[donorRow[p]]`. Stored CSR:
/// the terms of pair `p` are `offsets[p]..<offsets[p+1]` of `ids`/`weights`.
public struct RowPairs: Sendable, Equatable {
    /// Term ranges, `count + 1` entries.
    public private(set) var offsets: [Int] = [0]
    /// Old ids of the terms.
    public private(set) var ids: [Int] = []
    /// Weights of the terms.
    public private(set) var weights: [Double] = []
    /// The new (donor) id each pair belongs to, or the old id for `full`.
    public private(set) var newIds: [Int] = []

    /// Number of pairs.
    public var count: Int { newIds.count }

    /// No pairs.
    public init() {}

    /// Appends a pair.
    public mutating func append(newId: Int, terms: [(id: Int, weight: Double)]) {
        for t in terms { ids.append(t.id); weights.append(t.weight) }
        offsets.append(ids.count)
        newIds.append(newId)
    }

    /// The terms of pair `p`.
    public func terms(_ p: Int) -> [(id: Int, weight: Double)] {
        (offsets[p]..<offsets[p + 1]).map { (ids[$0], weights[$0]) }
    }

    /// `conversion` pairs: one per new id with an old source; `.copy(j)` contributes `S[j]` itself.
    /// `occurrence` weights come from `occurrenceMap` (new id → old id → count); new ids absent from
    /// it fall back to the mean and are counted in the returned number.
    public static func conversion(
        _ mapping: TokenMapping, aggregation: Aggregation,
        occurrenceMap: [Int: [(id: Int, count: Double)]]? = nil
    ) -> (RowPairs, fallbacks: Int) {
        var pairs = RowPairs()
        var fallbacks = 0
        for (i, source) in mapping.sources.enumerated() {
            if let terms = conversionTerms(source, newId: i, aggregation: aggregation, occurrenceMap: occurrenceMap, fallbacks: &fallbacks) {
                pairs.append(newId: i, terms: terms)
            }
        }
        return (pairs, fallbacks)
    }

    /// The §4 aggregate terms of one source, nil when unmapped.
    static func conversionTerms(
        _ source: TokenMapping.Source, newId: Int, aggregation: Aggregation,
        occurrenceMap: [Int: [(id: Int, count: Double)]]?, fallbacks: inout Int
    ) -> [(id: Int, weight: Double)]? {
        switch source {
        case .unmapped:
            return nil
        case .copy(let j):
            return [(j, 1)]
        case .subTokens(let sub):
            switch aggregation {
            case .mean:
                return sub.map { ($0, 1 / Double(sub.count)) }
            case .sum:
                return sub.map { ($0, 1) }
            case .occurrence:
                if let m = occurrenceMap?[newId], !m.isEmpty {
                    let total = m.reduce(0) { $0 + $1.count }
                    if total > 0 { return m.map { ($0.id, $0.count / total) } }
                }
                fallbacks += 1
                return sub.map { ($0, 1 / Double(sub.count)) }
            }
        }
    }

    /// `overlap` pairs: `(S[j], T[j])` for each (new i, old j) sharing a token text.
    public static func overlap(_ shared: [(new: Int, old: Int)]) -> RowPairs {
        var pairs = RowPairs()
        for (i, j) in shared { pairs.append(newId: i, terms: [(j, 1)]) }
        return pairs
    }

    /// `full` pairs: every old row `0..<rows`.
    public static func full(rows: Int) -> RowPairs {
        var pairs = RowPairs()
        for j in 0..<rows { pairs.append(newId: j, terms: [(j, 1)]) }
        return pairs
    }

    /// The largest old id used, -1 when none.
    public var maxOldId: Int { ids.max() ?? -1 }

    /// Fills `dst` (`range.count × h`, row-major float64) with the combinations of pairs `range`
    /// over the rows of `matrix`.
    public func materialize(_ range: Range<Int>, from matrix: EmbeddingMatrix, into dst: UnsafeMutablePointer<Double>) {
        let h = matrix.hidden
        let out = UncheckedSendable(dst)
        Parallel.forChunks(count: range.count, minChunk: 64) { chunk in
            let tmp = UnsafeMutablePointer<Double>.allocate(capacity: h)
            defer { tmp.deallocate() }
            for local in chunk {
                let p = range.lowerBound + local
                let row = out.value + local * h
                row.initialize(repeating: 0, count: h)
                for t in offsets[p]..<offsets[p + 1] {
                    matrix.row(ids[t], into: tmp)
                    let w = weights[t]
                    for c in 0..<h { row[c] += w * tmp[c] }
                }
            }
        }
    }

    /// Equal pairs, in the same order.
    public static func == (a: RowPairs, b: RowPairs) -> Bool {
        a.offsets == b.offsets && a.ids == b.ids && a.weights == b.weights && a.newIds == b.newIds
    }
}
