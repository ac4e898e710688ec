import Support

/// An operation's options as its user gave them, command-line flags or a pipeline step's keys, for the
/// one parser each operation has (e.g. `Propagator.Options(parsing:)`), so both front ends accept and
/// refuse the same things. Keys are the neutral `snake_case` names (`occurrence_map`); a refusal is
/// ``SurgeryError/invalidOption(option:reason:)`` naming that key, which the command line words as a
/// flag (`--occurrence-map`) and the pipeline runner as the step's key (`steps[2] 'p'.occurrence_map`).
public struct OptionValues: Sendable {
    /// Options with a value, by key (numbers as the user wrote them).
    public var values: [String: String]
    /// Switches that are on.
    public var flags: Set<String>

    /// Options from values by key and the switches that are on.
    public init(values: [String: String] = [:], flags: Set<String> = []) {
        self.values = values
        self.flags = flags
    }

    /// The value of `key`, if given.
    public func string(_ key: String) -> String? { values[key] }

    /// The value of a key that must be given.
    public func required(_ key: String) throws(SurgeryError) -> String {
        guard let v = values[key] else { throw .invalidOption(option: key, reason: "is required") }
        return v
    }

    /// True when the switch `key` is on.
    public func flag(_ key: String) -> Bool { flags.contains(key) }

    /// One of a closed set of names (`mode: conversion`).
    public func choice<T: RawRepresentable & CaseIterable>(_ key: String, _: T.Type) throws(SurgeryError) -> T? where T.RawValue == String {
        guard let v = values[key] else { return nil }
        guard let c = T(rawValue: v) else {
            throw .invalidOption(option: key, reason: "unknown value '\(v)' (known: \(T.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return c
    }

    /// A finite number greater than zero.
    public func positiveNumber(_ key: String) throws(SurgeryError) -> Double? {
        guard let v = values[key] else { return nil }
        guard let d = Double(v), d.isFinite, d > 0 else { throw .invalidOption(option: key, reason: "must be a positive number, got '\(v)'") }
        return d
    }

    /// A shard size (`5GB`, `500MB`, `2GiB`): `.some(nil)` for `0` (one file), `.none` when not given.
    public func shardSize(_ key: String) throws(SurgeryError) -> Int?? {
        guard let v = values[key] else { return .none }
        if v == "0" { return .some(nil) }
        guard let n = ByteSize.parse(v), n > 0 else { throw .invalidOption(option: key, reason: "expects a size such as 5GB, 500MB or 2GiB (0: one file), got '\(v)'") }
        return .some(n)
    }

    /// A whole number (`keep: 64000`).
    public func integer(_ key: String) throws(SurgeryError) -> Int? {
        guard let v = values[key] else { return nil }
        guard let i = Int(v) else { throw .invalidOption(option: key, reason: "expects an integer, got '\(v)'") }
        return i
    }
}
