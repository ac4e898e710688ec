import Models
import SafeTensors
import Support
import Surgery

/// How the command line words library errors that name an option: the libraries name it neutrally
/// (`alpha_scale`, the `force` option), the user typed a flag (`--alpha-scale`, `--force`).
enum ErrorWording {
    /// The flag of a neutrally named option: `alpha_scale` → `--alpha-scale`.
    static func flag(_ option: String) -> String { "--" + String(option.map { $0 == "_" ? "-" : $0 }) }

    /// The message for `error` as a command-line user should read it.
    static func describe(_ error: any Error) -> String {
        switch error {
        case SurgeryError.invalidOption(let option, let reason): return "\(flag(option)): \(reason)"
        case ModelError.invalidOption(let option, let reason): return "\(flag(option)): \(reason)"
        case SurgeryError.output(let e): return describe(e)
        case SafeTensorsError.file(let e): return describe(e)
        case FileError.outputExists(let path): return "\(path) already exists; choose another output or pass --force to replace it"
        default: return "\(error)"
        }
    }
}
