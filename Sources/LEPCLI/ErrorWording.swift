import ChatTemplates
import Evaluation
import Models
import SafeTensors
import Support
import Surgery
import Tokenizers

/// How the command line words library errors that name an option: the libraries name it neutrally
/// (`alpha_scale`, the `force` option), the user typed a flag (`--alpha-scale`, `--force`).
enum ErrorWording {
    /// The flag of a neutrally named option: `alpha_scale` → `--alpha-scale`.
    static func flag(_ option: String) -> String { "--" + String(option.map { $0 == "_" ? "-" : $0 }) }

    /// The message for `error` as a command-line user of `command` (`eval`, `run`, …) should read it:
    /// a fix names only flags that command has.
    static func describe(_ error: any Error, command: String = "") -> String {
        switch error {
        case SurgeryError.invalidOption(let option, let reason): return "\(flag(option)): \(reason)"
        case ModelError.invalidOption(let option, let reason): return "\(flag(option)): \(reason)"
        case SurgeryError.output(let e): return describe(e, command: command)
        case SafeTensorsError.file(let e): return describe(e, command: command)
        case FileError.outputExists(let path): return "\(path) already exists; choose another output or pass --force to replace it"
        case let e as ChatTemplateError: return chatTemplate(e, command: command)
        case EvaluationError.chatTemplate(let e): return chatTemplate(e, command: command)
        case EvaluationError.noChatTemplate(let task, let model, let path):
            return "task \(task): \(EvaluationError.noChatTemplateProblem(model: model, path: path)); pass --chat-template FILE or --chat-format \(formats)"
        case TokenizerError.chatTemplateNotChosen(let path, let names):
            return "\(path): the model has several chat templates and no default (\(names.joined(separator: ", "))); choose one with --chat-template-name"
        default: return "\(error)"
        }
    }

    /// The built-in chat formats, as `--chat-format` takes them.
    static var formats: String { ChatFormat.allCases.map(\.rawValue).joined(separator: "|") }

    /// A chat template error with its fix worded as flags (`--chat-format` only where the command has it).
    static func chatTemplate(_ e: ChatTemplateError, command: String) -> String {
        guard e.fixIsAnotherTemplate else { return e.problem }
        if command == "eval" { return e.problem + " (pass a template file with --chat-template FILE, or pick a built-in format with --chat-format \(formats))" }
        return e.problem + " (pass a template file with --chat-template FILE)"
    }
}

/// The command line as input to a library's shared options parser (`Propagator.Options(parsing:)`,
/// `VocabularyBuildRequest`, …), which pipeline steps use too.
enum SharedOptions {
    /// The flags under the parsers' neutral keys (`occurrence_map` ← `--occurrence-map`); `output` when
    /// the command took it positionally.
    static func values(_ args: Arguments, valueKeys: [String], flagKeys: [String], output: String? = nil) -> OptionValues {
        func flagName(_ key: String) -> String { String(ErrorWording.flag(key).dropFirst(2)) }
        var values: [String: String] = [:]
        for k in valueKeys { if let v = args.value(flagName(k)) { values[k] = v } }
        if let output { values["output"] = output }
        return OptionValues(values: values, flags: Set(flagKeys.filter { args.flag(flagName($0)) }))
    }

    /// A parser's result; its refusal of an option is a usage error naming the flag (exit 64), except for
    /// options naming a file that cannot be read (`inputFileKeys`), a failure of the input (exit 1).
    static func parsed<T>(inputFileKeys: Set<String> = [], _ parse: () throws(SurgeryError) -> T) throws -> T {
        switch Result(catching: parse) {
        case .success(let v): return v
        case .failure(.invalidOption(let key, let reason)) where inputFileKeys.contains(key):
            throw CommandFailure("\(ErrorWording.flag(key)): \(reason)")
        case .failure(.invalidOption(let key, let reason)): throw UsageError("\(ErrorWording.flag(key)): \(reason)")
        case .failure(let e): throw e
        }
    }
}
