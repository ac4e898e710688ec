import Merging
import Surgery
import Vocabulary
/// How `lep propagate` fits the map X from base rows to instruct rows (Documentation/Propagation.md §5, table).
public enum PropagationMode: String, CaseIterable, Sendable {
    /// Direct embedding swap: X = I (reference code: `straight`).
    case swap
    /// Overlapping token correction: pairs `(S[c], T[c])` for token texts in both vocabularies (`union`).
    case overlap
    /// Vocabulary conversion projection (default): `(conv(S), conv(T))`, conv = mean of sub-token rows.
    case conversion
    /// As conversion with the sum of the sub-token rows.
    case conversionSum = "conversion-sum"
    /// As conversion with occurrence-weighted means (`--occurrence-map`).
    case conversionOccurrence = "conversion-occurrence"
    /// All old rows: `(S[0..<V_base], T[0..<V_base])` (`bypass`).
    case full
    /// Delta transplant: fit P on `conv(S)·P ≈ D`, then `OUT = D + (conv(T) − conv(S))·P`.
    case delta

    /// The §4 aggregation the mode uses for `conv`, nil when it does not use one.
    public var aggregation: Aggregation? {
        switch self {
        case .conversion, .delta: .mean
        case .conversionSum: .sum
        case .conversionOccurrence: .occurrence
        case .swap, .overlap, .full: nil
        }
    }
}

/// How the rows of a new token's old sub-tokens are combined (Documentation/Propagation.md §4).
public enum Aggregation: String, Sendable {
    case mean, sum, occurrence
}

/// `--delta-shared`: how `delta` treats tokens present in both vocabularies.
public enum DeltaShared: String, CaseIterable, Sendable {
    /// Like every other token: `(conv(T) − conv(S))·P`.
    case projected
    /// The plain instruction-tuning delta `T[j] − S[j]` of the shared old token j.
    case exact
}
