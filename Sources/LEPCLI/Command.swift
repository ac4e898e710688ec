/// A `lep` subcommand: its name, help and options, and how it runs.
protocol Command {
    /// Subcommand name ("inspect").
    static var name: String { get }
    /// One-line summary for `lep --help`.
    static var summary: String { get }
    /// Usage line after `lep NAME`.
    static var usage: String { get }
    /// Longer help text (may be empty).
    static var details: String { get }
    /// Options accepted.
    static var options: [OptionSpec] { get }
    /// Runs with parsed arguments; returns the exit code.
    static func run(_ args: Arguments) throws -> Int32
}

/// Every subcommand, in the order `lep --help` lists them.
enum CommandRegistry {
    static let all: [any Command.Type] =
        [InspectCommand.self, ConvertCommand.self, SynthCommand.self, RunCommand.self, VerifyCommand.self, PropagateCommand.self, VocabCommand.self]
        + [TokenizeCommand.self, DetokenizeCommand.self, TokstatsCommand.self]
        + SurgeryCommands.all
        + [EvalCommand.self]
        + [PipelineCommand.self]

    static func find(_ name: String) -> (any Command.Type)? { all.first { $0.name == name } }
}

extension Command {
    static func helpText() -> String {
        var lines = ["usage: lep \(name) \(usage)", "", summary]
        if !details.isEmpty { lines += ["", details] }
        if !options.isEmpty {
            lines += ["", "options (each at most once unless marked repeatable):"]
            for o in options {
                let left = (o.name == "output" ? "  -o, --output" : "  --\(o.name)") + (o.value.map { " \($0)" } ?? "")
                lines.append(left.padding(to: 28) + " " + o.help + (o.repeatable && !o.help.contains("repeat") ? " (repeatable)" : ""))
            }
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    func padding(to width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
