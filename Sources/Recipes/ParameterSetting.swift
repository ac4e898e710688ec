import Surgery
/// A resolved parameter value for one tensor.
public enum ParameterScalar: Equatable, Sendable, CustomStringConvertible {
    /// A number parameter's value.
    case number(Double)
    /// A Boolean parameter's value.
    case bool(Bool)

    /// The value as a recipe would write it: integral numbers without a fraction, Booleans as `true`/`false`.
    public var description: String {
        switch self {
        case .number(let d): d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : "\(d)"
        case .bool(let b): b ? "true" : "false"
        }
    }
}

/// A parameter as written in a recipe: one value, a layer gradient, or a list of name filters.
///
/// mergekit semantics: a gradient `[v0, v1, …]` is interpolated linearly at t = i / (L − 1) for layer
/// i of L (t = 0 for tensors outside the layers: embeddings, final norm, lm_head); a filter list is
/// searched in order for the first entry whose `filter` is absent, `*`, or a substring of the tensor
/// name.
public indirect enum ParameterSetting: Equatable, Sendable {
    /// One number for every tensor.
    case number(Double)
    /// One Boolean for every tensor.
    case bool(Bool)
    /// Values interpolated over the layers (`[v0, v1, …]`).
    case gradient([Double])
    /// A list of `{filter, value}` entries, the first matching one used.
    case filtered([FilteredSetting])

    /// The value for a tensor named `tensor` at layer position `t` ∈ [0, 1]; nil when no filter matches.
    public func resolve(tensor: String, t: Double) -> ParameterScalar? {
        switch self {
        case .number(let d): return .number(d)
        case .bool(let b): return .bool(b)
        case .gradient(let v):
            guard !v.isEmpty else { return nil }
            let scaled = t * Double(v.count - 1)
            let i0 = min(v.count - 1, Int(scaled))
            let i1 = min(v.count - 1, i0 + 1)
            let frac = scaled - Double(i0)
            return .number((1 - frac) * v[i0] + frac * v[i1])
        case .filtered(let entries):
            for e in entries where e.filter == nil || e.filter == "*" || tensor.contains(e.filter!) {
                return e.value.resolve(tensor: tensor, t: t)
            }
            return nil
        }
    }
}

/// One `{filter, value}` entry of a filtered parameter.
public struct FilteredSetting: Equatable, Sendable {
    /// Substring of tensor names; nil or `*` matches every tensor.
    public let filter: String?
    /// The setting used when the filter matches.
    public let value: ParameterSetting

    /// An entry applying `value` to tensors whose name contains `filter` (nil or `*`: every tensor).
    public init(filter: String?, value: ParameterSetting) {
        self.filter = filter
        self.value = value
    }
}

/// A parameter a merge method declares.
public struct ParameterSpec: Sendable, Equatable {
    /// Where the parameter is set: once for the merge, or per input model.
    public enum Scope: String, Sendable { case global, perModel = "per-model" }
    /// Value type.
    public enum Kind: String, Sendable { case number, bool }

    /// The key in a recipe's `parameters` (e.g. `weight`, `density`).
    public let name: String
    /// Where the recipe may set it: the top-level `parameters` or `models[i].parameters`.
    public let scope: Scope
    /// The type of its values.
    public let kind: Kind
    /// Default; nil means the recipe must set it.
    public let defaultValue: ParameterScalar?
    /// One-line meaning.
    public let help: String

    /// Declares parameter `name`: where it is set, its type, its default (``defaultValue``) and its
    /// one-line meaning.
    public init(_ name: String, _ scope: Scope, _ kind: Kind, default d: ParameterScalar?, _ help: String) {
        self.name = name
        self.scope = scope
        self.kind = kind
        self.defaultValue = d
        self.help = help
    }
}

/// The resolved parameters of one tensor: global values and one dictionary per input model.
public struct ResolvedParameters: Sendable {
    /// The method's global parameters, by name.
    public var global: [String: ParameterScalar]
    /// One dictionary per input model, in `models` order: its per-model parameters by name (an optional
    /// one without default is absent).
    public var perModel: [[String: ParameterScalar]]

    /// Parameters with `global` values and one dictionary per input model.
    package init(global: [String: ParameterScalar], perModel: [[String: ParameterScalar]]) {
        self.global = global; self.perModel = perModel
    }

    /// A global number (declared by the method, so always present after resolution).
    public func number(_ name: String) -> Double {
        if case .number(let d) = global[name] { return d }
        if case .bool(let b) = global[name] { return b ? 1 : 0 }
        return .nan
    }

    /// A global Boolean.
    public func flag(_ name: String) -> Bool {
        if case .bool(let b) = global[name] { return b }
        if case .number(let d) = global[name] { return d != 0 }
        return false
    }

    /// A per-model number.
    public func number(_ name: String, model i: Int) -> Double {
        if case .number(let d) = perModel[i][name] { return d }
        return .nan
    }

    /// A per-model value that may be absent (an optional parameter without default).
    public func optionalNumber(_ name: String, model i: Int) -> Double? {
        if case .number(let d) = perModel[i][name] { return d }
        return nil
    }
}
