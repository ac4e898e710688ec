import Support
/// A bad command line: printed with the command's usage, exit code 64 (EX_USAGE).
public struct UsageError: Error, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A command that could not do its work (a missing file or tool, a bad input): printed as an error,
/// exit code 1. Bad command lines are ``UsageError`` (exit 64).
struct CommandFailure: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

/// One option a command accepts.
struct OptionSpec {
    /// Long name without dashes ("dtype").
    let name: String
    /// Placeholder for the value ("bf16|f16|f32"), nil for a flag.
    let value: String?
    /// One-line help.
    let help: String
    /// Whether the option may be given several times (a list, read with `values(name)`); any other
    /// option given twice is a usage error, never "last one wins".
    var repeatable = false
}

/// Parsed command-line arguments: positionals in order, options by long name.
struct Arguments {
    var positionals: [String] = []
    private var values: [String: String] = [:]
    private var flags: Set<String> = []
    /// Every value of a repeatable option, in order (`--set A=1 --set B=2`).
    private var allValues: [String: [String]] = [:]

    /// Parses `args` against `options`. Accepts `--name value`, `--name=value`, flags, and `--`
    /// to end options. Unknown options and missing values are usage errors.
    init(_ args: [String], options: [OptionSpec]) throws(UsageError) {
        let byName = Dictionary(options.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var i = 0
        var onlyPositionals = false
        while i < args.count {
            var a = args[i]
            i += 1
            // `-o` is short for `--output` where a command has an `output` option.
            if !onlyPositionals, a == "-o", byName["output"] != nil { a = "--output" }
            if onlyPositionals || !a.hasPrefix("--") || a == "-" {
                if !onlyPositionals, a.hasPrefix("-"), a.count > 1, a != "-" {
                    throw UsageError("unknown option '\(a)' (options are spelled --name)")
                }
                positionals.append(a)
                continue
            }
            if a == "--" { onlyPositionals = true; continue }
            var name = String(a.dropFirst(2))
            var inline: String?
            if let eq = name.firstIndex(of: "=") {
                inline = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            guard let spec = byName[name] else {
                let near = options.map(\.name).filter { $0.hasPrefix(String(name.prefix(2))) }
                throw UsageError("unknown option '--\(name)'" + (near.isEmpty ? "" : "; did you mean " + near.map { "--" + $0 }.joined(separator: " or ") + "?"))
            }
            if spec.value == nil {
                guard inline == nil else { throw UsageError("option '--\(name)' takes no value") }
                flags.insert(name)
            } else {
                let v: String
                if let inline {
                    v = inline
                } else {
                    guard i < args.count else { throw UsageError("option '--\(name)' needs a value (\(spec.value!))") }
                    v = args[i]
                    i += 1
                }
                if let first = values[name], !spec.repeatable {
                    throw UsageError("option '--\(name)' given twice ('\(first)' and '\(v)'); it takes one value")
                }
                values[name] = v
                allValues[name, default: []].append(v)
            }
        }
    }

    func flag(_ name: String) -> Bool { flags.contains(name) }
    func value(_ name: String) -> String? { values[name] }
    /// All values given for a repeatable option (the last one is `value(name)`).
    func values(_ name: String) -> [String] { allValues[name] ?? [] }

    func int(_ name: String) throws(UsageError) -> Int? {
        guard let v = values[name] else { return nil }
        guard let i = Int(v) else { throw UsageError("--\(name) expects an integer, got '\(v)'") }
        return i
    }

    /// Exactly `n` positionals named by `names`.
    func positionals(_ names: [String]) throws(UsageError) -> [String] {
        guard positionals.count == names.count else {
            if positionals.count < names.count {
                throw UsageError("missing \(names[positionals.count...].joined(separator: " "))")
            }
            throw UsageError("unexpected argument '\(positionals[names.count])'")
        }
        return positionals
    }

    /// The positionals named by `names`, then the output, given either as one more positional (`IN OUT`)
    /// or as `-o OUT` / `--output OUT`, not both.
    func positionalsAndOutput(_ names: [String], output: String = "OUT") throws(UsageError) -> (inputs: [String], output: String) {
        if let o = values["output"] {
            if positionals.count == names.count + 1 { throw UsageError("\(output) given twice: '\(positionals[names.count])' and -o '\(o)'") }
            return (try self.positionals(names), o)
        }
        let p = try self.positionals(names + [output])
        return (Array(p.dropLast()), p[names.count])
    }

    /// Parses a size such as `5GB`, `500MB`, `2GiB`, `1000000`.
    static func byteSize(_ text: String, option: String) throws(UsageError) -> Int {
        guard let v = ByteSize.parse(text), v > 0 else { throw UsageError("--\(option) expects a size such as 5GB, 500MB or 2GiB, got '\(text)'") }
        return v
    }
}
