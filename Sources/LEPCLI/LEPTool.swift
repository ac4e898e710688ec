import LEPJSON
import Models
import SafeTensors

/// The `lep` command-line tool: dispatches to subcommands, maps errors to exit codes.
public enum LEPTool {
    /// The tool's version.
    public static let version = "0.1.0"

    /// Exit code for bad usage (EX_USAGE).
    public static let usageExit: Int32 = 64

    /// Runs `lep` with `arguments` (without the program name) and returns the exit code.
    public static func main(_ arguments: [String]) -> Int32 {
        guard let first = arguments.first else {
            Terminal.err(overview())
            return usageExit
        }
        switch first {
        case "--help", "-h":
            Terminal.out(overview())
            return 0
        case "--version", "-V":
            Terminal.out("lep \(version)")
            return 0
        case "help":
            guard arguments.count > 1 else { Terminal.out(overview()); return 0 }
            guard let cmd = CommandRegistry.find(arguments[1]) else {
                Terminal.err("lep: unknown command '\(arguments[1])'\n\n" + overview())
                return usageExit
            }
            Terminal.out(cmd.helpText())
            return 0
        default:
            break
        }
        guard let cmd = CommandRegistry.find(first) else {
            Terminal.err("lep: unknown command '\(first)'; run 'lep --help' for the list")
            return usageExit
        }
        let rest = Array(arguments.dropFirst())
        if rest.contains("--help") || rest.contains("-h") {
            Terminal.out(cmd.helpText())
            return 0
        }
        do {
            let args = try Arguments(rest, options: cmd.options)
            return try cmd.run(args)
        } catch let e as UsageError {
            Terminal.err("lep \(cmd.name): \(e.message)\nusage: lep \(cmd.name) \(cmd.usage)\n(run 'lep help \(cmd.name)' for details)")
            return usageExit
        } catch {
            Terminal.err("lep \(cmd.name): error: \(ErrorWording.describe(error, command: cmd.name))")
            return 1
        }
    }

    static func overview() -> String {
        var lines = [
            "lep \(version): LLM checkpoint surgery for Learned Embedding Propagation",
            "",
            "usage: lep COMMAND [ARGS...]",
            "",
            "commands:"
        ]
        var width = 0
        for c in CommandRegistry.all { width = max(width, c.name.count + 2) }
        for c in CommandRegistry.all { lines.append("  " + c.name.padding(to: width) + c.summary) }
        lines += [
            "",
            "  " + "help CMD".padding(to: width) + "show a command's options",
            "",
            "--help shows this text, --version the version.",
            "Exit codes: 0 success, 1 failure, 64 bad usage."
        ]
        return lines.joined(separator: "\n")
    }
}
