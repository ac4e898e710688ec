import LEPJSON
import Merging
import Propagation
import Recipes
import SafeTensors
import Support
import Surgery
import Vocabulary

/// A pipeline recipe (`lep pipeline RECIPE`): the LEP operations as steps of one file, e.g.
/// "vocab_build → vocab_init → (train the donor elsewhere) → propagate → lora_merge".
///
/// Format (JSON with comments, or the YAML subset, like merge recipes):
///
///     lep_pipeline: 1
///     description: ...                 # optional
///     force: false                     # optional: replace existing outputs in every step
///     variables:                       # NAME: value; null or "" = must be given with --set NAME=VALUE
///       BASE: /path/to/base
///       WORK: ${OUT}/work              # values may use other variables
///     steps:
///       - name: init                   # unique; `${steps.init.output}` (or any other key) in later steps
///         type: vocab_init             # vocab_build | vocab_init | propagate | lora_merge | merge | external
///         model: ${BASE}               # the same options as the CLI (`occurrence_map` or `occurrence-map`)
///         tokenizer: ${NEW_TOKENIZER}
///         output: ${WORK}/init
///
/// `external` (alias `pause`) is work done by another program (training the donor). With a `command`
/// (one shell line, run by `/bin/sh -c`, or a list of arguments, run without a shell; placeholders
/// substituted) the step runs it from the current directory, with lep's environment and terminal, and
/// the pipeline goes on when it exits with status 0; any other status stops the run with an error naming
/// the step. Its `output`, when given, must not exist beforehand (unless `force`) and must exist afterwards.
/// Without a command, or with `pause: true`, the run stops there and says to re-run with `--from` the next
/// step (a paused command step shows the command to run by hand).
/// Everything (keys, values, required options, variables, references to earlier steps, input paths)
/// is validated before any step runs; errors name the step and the key.
public struct Pipeline: Sendable {
    /// The pipeline format version this build reads.
    public static let formatVersion = 1

    /// What a step does.
    public enum StepType: String, Sendable, CaseIterable {
        case vocabBuild = "vocab_build", vocabInit = "vocab_init", propagate, loraMerge = "lora_merge", merge, external
    }

    /// One step, with every placeholder substituted.
    public struct Step: Sendable {
        /// Position in the file's `steps` (0-based).
        public let index: Int
        /// The step's unique name (for `--from` and `${steps.NAME.output}`).
        public let name: String
        /// What the step does.
        public let type: StepType
        /// Options (keys normalised to `snake_case`), placeholders substituted.
        public let options: JSONObject
        /// `steps[2] 'propagate'`: how errors name the step.
        public var label: String { "steps[\(index)] '\(name)'" }
        /// The step's output path, if it has one.
        public var output: String? { options["output"]?.string }
        /// The command of an `external` step: one shell line (`/bin/sh -c`) or an argument list.
        public var command: Command? {
            switch options["command"] {
            case .string(let line): return .shell(line)
            case .array(let a): return .arguments(a.compactMap(\.string))
            default: return nil
            }
        }
        /// True for an `external` step that stops the run (no command, or `pause: true`).
        public var pauses: Bool { type == .external && (command == nil || options["pause"]?.bool == true) }
        func key(_ k: String) -> String { "\(label).\(k)" }
    }

    /// What an `external` step runs.
    public enum Command: Sendable, Equatable {
        /// One line for `/bin/sh -c`.
        case shell(String)
        /// An argument list, run without a shell (the first item is looked up in `PATH`).
        case arguments([String])

        /// The command as one line, for messages (arguments quoted for the shell where needed).
        public var text: String {
            switch self {
            case .shell(let line): line
            case .arguments(let a): a.map(Pipeline.shellQuote).joined(separator: " ")
            }
        }
    }

    /// The pipeline file.
    public var path: String
    /// Its `description`, shown by `--dry-run`.
    public var description: String?
    /// Variables after `--set`.
    public var variables: [String: String]
    /// The validated steps, placeholders substituted.
    public var steps: [Step]
    /// The file's text (recorded in provenance).
    public var text: String

    // MARK: - Option schemas

    enum Kind: Equatable { case input, output, string, int, number, bool, choice([String]), dtype, recipe, command }
    struct OptionSpec { let key: String; let kind: Kind; let required: Bool }

    static func schema(_ t: StepType) -> [OptionSpec] {
        func o(_ k: String, _ kind: Kind, _ req: Bool = false) -> OptionSpec { OptionSpec(key: k, kind: kind, required: req) }
        switch t {
        case .vocabBuild:
            return [
                o("mode", .choice(["replace", "extend", "optimize"]), true), o("old", .input, true), o("new", .input, true),
                o("output", .output, true), o("corpus", .input), o("keep", .int), o("add", .int), o("force", .bool)
            ]
        case .vocabInit:
            return [
                o("model", .input, true), o("tokenizer", .input, true), o("output", .output, true),
                o("agg", .choice(["mean", "sum", "occurrence"])), o("occurrence_map", .input), o("shard_size", .string), o("force", .bool)
            ]
        case .propagate:
            return [
                o("base", .input, true), o("instruct", .input, true), o("donor", .input, true), o("output", .output, true),
                o("donor_base", .input), o("alpha_scale", .number), o("mode", .choice(PropagationMode.allCases.map(\.rawValue))),
                o("delta_shared", .choice(["projected", "exact"])), o("chat_template", .input),
                o("compat", .choice(["reference"])), o("fit_precision", .choice(FitPrecision.allCases.map(\.rawValue))),
                o("occurrence_map", .input), o("shard_size", .string), o("save_fit", .string),
                o("skip_layer_check", .bool), o("force", .bool)
            ]
        case .loraMerge:
            return [
                o("model", .input, true), o("adapter", .input, true), o("output", .output, true),
                o("dtype", .dtype), o("force", .bool)
            ]
        case .merge:
            return [o("recipe", .recipe, true), o("output", .output, true), o("seed", .int), o("shard_size", .string), o("force", .bool)]
        case .external:
            return [o("description", .string), o("command", .command), o("pause", .bool), o("output", .output), o("force", .bool)]
        }
    }

    static let topKeys = ["lep_pipeline", "description", "variables", "steps", "force"]
    static let stepKeys = ["name", "type"]

    // MARK: - Loading

    /// Reads a pipeline file; `overrides` are the `--set NAME=VALUE` pairs.
    public static func load(path: String, overrides: [(String, String)] = []) throws(SurgeryError) -> Pipeline {
        guard let bytes = WholeFile.bytes(path) else { throw .cannotReadRecipe(path: path) }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .recipeSyntax(path: path, line: 1, message: "not UTF-8 text") }
        return try parse(text, path: path, overrides: overrides)
    }

    /// True when `text` looks like a pipeline (has a top-level `lep_pipeline` key).
    public static func isPipeline(_ text: String, path: String) -> Bool {
        guard let root = try? RecipeText.parse(text, path: path) else { return false }
        return root["lep_pipeline"] != nil
    }

    /// Decodes pipeline text: every key checked, variables bound, placeholders substituted.
    public static func parse(_ text: String, path: String, overrides: [(String, String)] = []) throws(SurgeryError) -> Pipeline {
        let root = try RecipeText.parse(text, path: path)
        guard case .object(let o) = root else { throw .invalidValue(key: "<top level>", reason: "a pipeline is a mapping of keys") }
        for k in o.keys where !topKeys.contains(k) { throw .unknownKey(key: k, known: topKeys) }
        guard let v = o["lep_pipeline"] else { throw .missingKey(key: "lep_pipeline") }
        guard let n = v.number?.int64, n == Int64(formatVersion) else {
            throw .invalidValue(key: "lep_pipeline", reason: "this lep reads pipeline format \(formatVersion), got \(JSONWriter.compact(v))")
        }
        var description: String?
        if let d = o["description"], !d.isNull {
            guard let s = d.string else { throw .invalidValue(key: "description", reason: "expected text") }
            description = s
        }
        var globalForce = false
        if let f = o["force"], !f.isNull {
            guard let b = f.bool else { throw .invalidValue(key: "force", reason: "expected true or false") }
            globalForce = b
        }
        let variables = try bindVariables(o["variables"], overrides: overrides)

        guard let sv = o["steps"], let items = sv.array, !items.isEmpty else {
            throw o["steps"] == nil ? .missingKey(key: "steps") : .invalidValue(key: "steps", reason: "expected a non-empty list of steps")
        }
        var steps: [Step] = []
        for (i, item) in items.enumerated() {
            steps.append(try decodeStep(item, index: i, earlier: steps, variables: variables, globalForce: globalForce))
        }
        var outputs: [String: String] = [:]
        for s in steps where s.type != .external {  // an external step may name an earlier output (nothing to train)
            guard let out = s.output else { continue }
            if let other = outputs[out] {
                throw .invalidValue(key: s.key("output"), reason: "'\(out)' is also the output of step '\(other)'; each step needs its own output")
            }
            outputs[out] = s.name
        }
        return Pipeline(path: path, description: description, variables: variables, steps: steps, text: text)
    }

    /// `variables` with `--set` applied; every value resolved (variables may use other variables).
    static func bindVariables(_ v: JSONValue?, overrides: [(String, String)]) throws(SurgeryError) -> [String: String] {
        var raw: [String: String?] = [:]
        if let v, !v.isNull {
            guard case .object(let vo) = v else { throw .invalidValue(key: "variables", reason: "expected a mapping NAME: value") }
            for (k, value) in vo.members {
                guard isIdentifier(k) else { throw .invalidValue(key: "variables.\(k)", reason: "a variable name is letters, digits and '_' (not starting with a digit)") }
                switch value {
                case .null: raw[k] = .some(nil)
                case .string(let s): raw[k] = s.isEmpty ? .some(nil) : s
                case .number(let n): raw[k] = n.text
                case .bool(let b): raw[k] = b ? "true" : "false"
                default: throw .invalidValue(key: "variables.\(k)", reason: "expected a text value (or null: to be given with --set \(k)=VALUE)")
                }
            }
        }
        for (k, value) in overrides {
            guard raw[k] != nil else {
                let known = raw.keys.sorted()
                throw .invalidValue(key: "--set \(k)", reason: "the pipeline declares no variable '\(k)' (declared: \(known.isEmpty ? "none" : known.joined(separator: ", ")))")
            }
            raw[k] = value
        }
        var done: [String: String] = [:]
        func resolve(_ name: String, chain: [String]) throws(SurgeryError) -> String {
            if let d = done[name] { return d }
            guard let entry = raw[name] else { throw .invalidValue(key: "variables.\(chain.last ?? name)", reason: "uses ${\(name)}, which is not declared under 'variables'") }
            guard let value = entry else {
                let unset = raw.filter { $0.value == nil }.keys.sorted()
                throw .invalidValue(key: "variables.\(name)", reason: "has no value: give it with --set \(name)=VALUE" + (unset.count > 1 ? " (unset: \(unset.joined(separator: ", ")))" : ""))
            }
            if chain.contains(name) { throw .invalidValue(key: "variables.\(name)", reason: "refers to itself (\((chain + [name]).joined(separator: " → ")))") }
            var failure: SurgeryError?
            let out = substitute(value) { ref in
                guard failure == nil else { return "" }
                guard !ref.hasPrefix("steps.") else {
                    failure = .invalidValue(key: "variables.\(name)", reason: "${\(ref)}: variables cannot refer to step outputs; use the reference in the step")
                    return ""
                }
                do throws(SurgeryError) { return try resolve(ref, chain: chain + [name]) } catch { failure = error; return "" }
            }
            if let failure { throw failure }
            if case .failure(let m) = out { throw .invalidValue(key: "variables.\(name)", reason: m) }
            guard case .success(let s) = out else { return "" }
            done[name] = s
            return s
        }
        for k in raw.keys.sorted() {
            // Unset variables that nothing uses are fine; an unset variable is an error where it is used.
            if raw[k]! == nil { continue }
            _ = try resolve(k, chain: [])
        }
        // Unset variables map to a marker: using one is an error naming the use.
        return done.merging(unsetMarkers(raw)) { a, _ in a }
    }

    /// Unset variables map to a marker so a use can name them.
    static let unsetMarker = "\u{0}unset\u{0}"
    static func unsetMarkers(_ raw: [String: String?]) -> [String: String] {
        var out: [String: String] = [:]
        for (k, v) in raw where v == nil { out[k] = unsetMarker }
        return out
    }

    static func isIdentifier(_ s: String) -> Bool {
        guard let f = s.unicodeScalars.first, !(f >= "0" && f <= "9") else { return false }
        return s.unicodeScalars.allSatisfy { ($0 >= "a" && $0 <= "z") || ($0 >= "A" && $0 <= "Z") || ($0 >= "0" && $0 <= "9") || $0 == "_" }
    }

    enum Substituted { case success(String), failure(String) }

    /// Replaces every `${REF}` in `s` by `lookup(REF)`; `$$` is a literal `$`.
    static func substitute(_ s: String, lookup: (String) -> String) -> Substituted {
        var out = ""
        var it = Array(s)
        var i = 0
        while i < it.count {
            let c = it[i]
            if c == "$", i + 1 < it.count, it[i + 1] == "$" { out.append("$"); i += 2; continue }
            if c == "$", i + 1 < it.count, it[i + 1] == "{" {
                guard let close = it[(i + 2)...].firstIndex(of: "}") else { return .failure("unclosed '${' in '\(s)'") }
                let ref = String(it[(i + 2)..<close])
                guard !ref.isEmpty else { return .failure("empty '${}' in '\(s)'") }
                out += lookup(ref)
                i = close + 1
                continue
            }
            out.append(c)
            i += 1
        }
        it.removeAll()
        return .success(out)
    }

    static func decodeStep(_ item: JSONValue, index: Int, earlier: [Step], variables: [String: String], globalForce: Bool) throws(SurgeryError) -> Step {
        let at = "steps[\(index)]"
        guard case .object(let so) = item else { throw .invalidValue(key: at, reason: "expected a mapping {name, type, options...}") }
        guard let tv = so["type"] else { throw .missingKey(key: "\(at).type") }
        guard let ts = tv.string, let type = StepType(rawValue: ts == "pause" ? "external" : ts) else {
            throw .invalidValue(key: "\(at).type", reason: "expected one of \(StepType.allCases.map(\.rawValue).joined(separator: ", ")) (or pause), got \(JSONWriter.compact(tv))")
        }
        let name: String
        if let nv = so["name"] {
            guard let s = nv.string, isIdentifier(s.replacingHyphens()) else { throw .invalidValue(key: "\(at).name", reason: "expected a name of letters, digits, '_' or '-'") }
            name = s
        } else {
            name = "\(type.rawValue)\(index)"
        }
        if earlier.contains(where: { $0.name == name }) { throw .invalidValue(key: "\(at).name", reason: "'\(name)' names an earlier step too; step names must be unique") }
        let label = "\(at) '\(name)'"
        let specs = schema(type)
        let known = stepKeys + specs.map(\.key)
        var options = JSONObject()
        for (rawKey, value) in so.members where !stepKeys.contains(rawKey) {
            let k = rawKey.replacingHyphens()
            guard let spec = specs.first(where: { $0.key == k }) else { throw .unknownKey(key: "\(label).\(rawKey)", known: known) }
            if value.isNull { continue }
            let resolved = try substituteValue(value, key: "\(label).\(rawKey)", earlier: earlier, variables: variables)
            options[k] = try check(resolved, spec: spec, key: "\(label).\(rawKey)")
        }
        for s in specs where s.required && options[s.key] == nil { throw .missingKey(key: "\(label).\(s.key)") }
        if globalForce, specs.contains(where: { $0.key == "force" }), options["force"] == nil { options["force"] = .bool(true) }
        // `type: pause` with a command shows the command and stops, unless `pause: false`.
        if ts == "pause", options["command"] != nil, options["pause"] == nil { options["pause"] = .bool(true) }
        // Option combinations the CLI refuses.
        func str(_ k: String) -> String? { options[k]?.string }
        switch type {
        case .vocabBuild:
            // The rules between options, as `lep vocab build` checks them (one parser for both).
            do { _ = try VocabularyBuildRequest(parsing: optionValues(options)) } catch .invalidOption(let key, let reason) {
                throw .invalidValue(key: "\(label).\(key)", reason: reason)
            }
        case .vocabInit:
            do { _ = try EmbeddingInitRequest(parsing: optionValues(options), readingFiles: false) } catch .invalidOption(let key, let reason) {
                throw .invalidValue(key: "\(label).\(key)", reason: reason)
            }
        case .propagate:
            // The rules between options, as `lep propagate` checks them (one parser for both).
            do { _ = try Propagator.Options(parsing: optionValues(options), readingFiles: false) } catch .invalidOption(let key, let reason) {
                throw .invalidValue(key: "\(label).\(key)", reason: reason)
            }
        case .loraMerge:
            do { _ = try LoraMergeRequest(parsing: optionValues(options)) } catch .invalidOption(let key, let reason) {
                throw .invalidValue(key: "\(label).\(key)", reason: reason)
            }
        case .external:
            if options["command"] == nil {
                if options["description"] == nil { throw .missingKey(key: "\(label).description") }
                if options["pause"] != nil { throw .invalidValue(key: "\(label).pause", reason: "applies only with a command (a step without one always pauses)") }
            }
        case .merge:
            if case .object(var r) = options["recipe"] {
                if r["lep_recipe"] == nil { r["lep_recipe"] = .number(JSONNumber(Recipe.formatVersion)) }
                options["recipe"] = .object(r)
                do { _ = try Recipe.decode(.object(r), form: .json, text: JSONWriter.pretty(.object(r)), baseDirectory: ".") } catch {
                    throw .invalidValue(key: "\(label).recipe", reason: "\(error)")
                }
            }
        default: break
        }
        if let sz = str("shard_size"), sz != "0", parseByteSize(sz) == nil {
            throw .invalidValue(key: "\(label).shard_size", reason: "expected a size like 5GB, 500MB or 0 (one file), got '\(sz)'")
        }
        return Step(index: index, name: name, type: type, options: options)
    }

    /// Substitutes placeholders in every string of `v` (recursively, for inline merge recipes).
    static func substituteValue(_ v: JSONValue, key: String, earlier: [Step], variables: [String: String]) throws(SurgeryError) -> JSONValue {
        switch v {
        case .string(let s):
            var failure: SurgeryError?
            let r = substitute(s) { ref in
                guard failure == nil else { return "" }
                if ref.hasPrefix("steps.") {
                    let parts = ref.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
                    guard parts.count == 3 else { failure = .invalidValue(key: key, reason: "${\(ref)}: write ${steps.NAME.output} (or another key of that step)"); return "" }
                    guard let step = earlier.first(where: { $0.name == parts[1] }) else {
                        failure = .invalidValue(
                            key: key, reason: "${\(ref)}: no earlier step is named '\(parts[1])'" + (earlier.isEmpty ? "" : " (earlier: \(earlier.map(\.name).joined(separator: ", ")))"))
                        return ""
                    }
                    guard let value = step.options[parts[2].replacingHyphens()] else {
                        failure = .invalidValue(key: key, reason: "${\(ref)}: step '\(step.name)' has no '\(parts[2])'")
                        return ""
                    }
                    switch value {
                    case .string(let s): return s
                    case .number(let n): return n.text
                    case .bool(let b): return b ? "true" : "false"
                    default: failure = .invalidValue(key: key, reason: "${\(ref)} is not a text value"); return ""
                    }
                }
                guard let value = variables[ref] else {
                    failure = .invalidValue(
                        key: key, reason: "${\(ref)} is not declared under 'variables'" + (variables.isEmpty ? "" : " (declared: \(variables.keys.sorted().joined(separator: ", ")))"))
                    return ""
                }
                if value == unsetMarker {
                    let unset = variables.filter { $0.value == unsetMarker }.keys.sorted()
                    failure = .invalidValue(key: key, reason: "${\(ref)} has no value: give it with --set \(ref)=VALUE" + (unset.count > 1 ? " (unset: \(unset.joined(separator: ", ")))" : ""))
                    return ""
                }
                return value
            }
            if let failure { throw failure }
            switch r {
            case .success(let out): return .string(out)
            case .failure(let m): throw .invalidValue(key: key, reason: m)
            }
        case .array(let a):
            var out: [JSONValue] = []
            for (i, x) in a.enumerated() { out.append(try substituteValue(x, key: "\(key)[\(i)]", earlier: earlier, variables: variables)) }
            return .array(out)
        case .object(let o):
            var out = JSONObject()
            for (k, x) in o.members { out[k] = try substituteValue(x, key: "\(key).\(k)", earlier: earlier, variables: variables) }
            return .object(out)
        default:
            return v
        }
    }

    /// Checks a value against its option's kind; numbers written as text ("64000") are accepted.
    static func check(_ v: JSONValue, spec: OptionSpec, key: String) throws(SurgeryError) -> JSONValue {
        switch spec.kind {
        case .input, .output, .string:
            if let s = v.string, !s.isEmpty { return v }
            if let n = v.number, spec.kind == .string { return .string(n.text) }
            throw .invalidValue(key: key, reason: spec.kind == .string ? "expected text" : "expected a path")
        case .int:
            if let n = v.number?.int64 { return .number(JSONNumber(n)) }
            if let s = v.string, let n = Int64(s) { return .number(JSONNumber(n)) }
            throw .invalidValue(key: key, reason: "expected an integer")
        case .number:
            if let n = v.number { return .number(n) }
            if let s = v.string, let d = Double(s) { return .number(JSONNumber(d)) }
            throw .invalidValue(key: key, reason: "expected a number")
        case .bool:
            if let b = v.bool { return .bool(b) }
            if let s = v.string, s == "true" || s == "false" { return .bool(s == "true") }
            throw .invalidValue(key: key, reason: "expected true or false")
        case .choice(let allowed):
            if let s = v.string, allowed.contains(s) { return v }
            throw .invalidValue(key: key, reason: "expected one of \(allowed.joined(separator: ", ")), got \(JSONWriter.compact(v))")
        case .dtype:
            // The names a merge recipe's out_dtype accepts (DType(userName:)), the same as the command line's.
            if let s = v.string, let d = DType(userName: s), d.isStandardFloat { return v }
            throw .invalidValue(key: key, reason: "expected bfloat16, float16, float32 or float64 (or bf16, f16, f32, f64), got \(JSONWriter.compact(v))")
        case .recipe:
            if let s = v.string, !s.isEmpty { return v }
            if case .object = v { return v }
            throw .invalidValue(key: key, reason: "expected a merge recipe file, or the recipe itself as a mapping (merge_method, models, ...)")
        case .command:
            if let s = v.string, !s.allSatisfy(\.isWhitespace) { return v }
            if let a = v.array, !a.isEmpty {
                var out: [JSONValue] = []
                for x in a {
                    if let s = x.string {
                        out.append(.string(s))
                    } else if let n = x.number {
                        out.append(.string(n.text))
                    } else {
                        throw .invalidValue(key: key, reason: "every item of a command list is text, got \(JSONWriter.compact(x))")
                    }
                }
                if out[0].string?.isEmpty == true { throw .invalidValue(key: key, reason: "the first item (the program) is empty") }
                return .array(out)
            }
            throw .invalidValue(key: key, reason: "expected a shell command line, or a list [program, argument, ...]")
        }
    }

    /// A positive byte size (`ByteSize`: "5GB", "500MB", "2GiB", "123"), nil otherwise.
    static func parseByteSize(_ s: String) -> Int? {
        ByteSize.parse(s).flatMap { $0 > 0 ? $0 : nil }  // as on the command line ("0" is handled by the callers)
    }
}

extension Pipeline {
    /// `s` quoted for a POSIX shell where it needs quoting.
    public static func shellQuote(_ s: String) -> String {
        let safe =
            !s.isEmpty
            && s.unicodeScalars.allSatisfy {
                ($0 >= "a" && $0 <= "z") || ($0 >= "A" && $0 <= "Z") || ($0 >= "0" && $0 <= "9") || "-_./=:,+@%".unicodeScalars.contains($0)
            }
        return safe ? s : "'" + s.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }
}

extension String {
    func replacingHyphens() -> String { String(map { $0 == "-" ? "_" : $0 }) }
}
