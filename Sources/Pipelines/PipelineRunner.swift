import LEPJSON
import Merging
import Propagation
import Recipes
import SafeTensors
import Support
import Surgery
import Vocabulary

extension Pipeline {
    /// What a validated run will do.
    public struct Plan: Sendable {
        /// Steps that run, in order (from `--from` up to and including the first pausing external step).
        public let run: [Step]
        /// Steps before `--from`, whose outputs must already exist.
        public let skipped: [Step]
        /// The external step the run stops at (one without a command, or `pause: true`), and the step to
        /// re-run `--from` afterwards.
        public let pauseAt: Step?
        /// The step to re-run `--from` after the pause (nil when none follows).
        public let resumeFrom: Step?
        /// Steps after the pause (validated too; they run on a later `--from`).
        public let later: [Step]

        /// One line per step, for `--dry-run`.
        public func describe() -> [String] {
            var lines: [String] = []
            for s in skipped { lines.append("skip  \(s.label) \(s.type.rawValue)" + (s.output.map { " (its output: \($0))" } ?? "")) }
            for s in run {
                var head = "\(s.pauses ? "pause" : "run  ") \(s.label) \(s.type.rawValue)"
                let opts = s.options.members.filter { !["description", "command", "pause"].contains($0.key) }.map { m -> String in
                    if case .object = m.value { return "\(m.key)=<inline recipe>" }
                    return "\(m.key)=\(m.value.string ?? JSONWriter.compact(m.value))"
                }
                if !opts.isEmpty { head += ": " + opts.joined(separator: " ") }
                lines.append(head)
                if s.type == .external, let d = s.options["description"]?.string { lines.append("      " + d) }
                if let c = s.command { lines.append("      command: " + c.text) }
            }
            for s in later { lines.append("later \(s.label) \(s.type.rawValue)" + (s.output.map { " → \($0)" } ?? "")) }
            if let p = pauseAt { lines.append("the run stops at '\(p.name)'" + (resumeFrom.map { "; afterwards re-run with --from \($0.name)" } ?? "")) }
            return lines
        }
    }

    /// Validates the run before anything is written: `--from` names a step, the inputs of every step
    /// that runs exist (or are made by an earlier step of this run), outputs of skipped steps exist,
    /// and merge recipe files parse.
    public func plan(from: String? = nil) throws(SurgeryError) -> Plan {
        var start = 0
        if let from {
            guard let i = steps.firstIndex(where: { $0.name == from }) else {
                throw .invalidValue(key: "--from \(from)", reason: "no step is named '\(from)' (steps: \(steps.map(\.name).joined(separator: ", ")))")
            }
            start = i
        }
        var run: [Step] = []
        var pause: Step?
        for s in steps[start...] {
            run.append(s)
            if s.pauses { pause = s; break }
        }
        let skipped = Array(steps[..<start])
        let resume = pause.flatMap { p in steps.first { $0.index == p.index + 1 } }
        // Paths made by the steps that run (an external step's output is made by the work it stands for).
        // Outputs of the steps that run must not exist yet (unless force), so a run never stops half-way on that;
        // a pausing external step's output is made by hand, so it is not checked.
        var made: Set<String> = []
        func missing(_ p: String, key: String, what: String) -> SurgeryError {
            if let maker = skipped.last(where: { $0.output == p }) {
                return .invalidValue(
                    key: key,
                    reason: "\(what)'\(p)' does not exist; it is made by step '\(maker.name)', which --from \(from ?? "") skips (run from '\(maker.name)' or earlier, or finish that step first)")
            }
            return .invalidValue(key: key, reason: "\(what)'\(p)' does not exist (and no earlier step makes it)")
        }
        for s in run where !s.pauses {
            guard let out = s.output, PathUtilities.exists(out), s.options["force"]?.bool != true else { continue }
            throw .invalidValue(key: s.key("output"), reason: "'\(out)' exists; add force: true (to the step, or at the top level), or resume with --from a later step")
        }
        for s in steps[start...] {
            for spec in Pipeline.schema(s.type) {
                guard let v = s.options[spec.key] else { continue }
                switch spec.kind {
                case .input:
                    guard let p = v.string, !made.contains(p) else { continue }
                    if !PathUtilities.exists(p) { throw missing(p, key: s.key(spec.key), what: "") }
                case .recipe:
                    if let p = v.string {
                        guard PathUtilities.exists(p) else { throw .invalidValue(key: s.key(spec.key), reason: "merge recipe '\(p)' does not exist") }
                        do { _ = try Recipe.load(path: p, baseDirectory: ".") } catch { throw .invalidValue(key: s.key(spec.key), reason: "\(error)") }
                    }
                default: break
                }
            }
            if s.type == .merge, let r = try? mergeRecipe(s) {
                // Models of a merge that exist and are not remade here are checked like inputs.
                for ref in r.models.map(\.model) + (r.base.map { [$0] } ?? []) + (r.layerStack ?? []).map(\.model) {
                    for p in [ref.path] + (ref.adapter.map { [$0] } ?? []) where !made.contains(p) && !PathUtilities.exists(p) {
                        throw missing(p, key: s.key("recipe"), what: "model ")
                    }
                }
            }
            if let out = s.output { made.insert(out) }
        }
        return Plan(run: run, skipped: skipped, pauseAt: pause, resumeFrom: resume, later: Array(steps[(start + run.count)...]))
    }

    func mergeRecipe(_ s: Step) throws(SurgeryError) -> Recipe {
        switch s.options["recipe"] {
        case .string(let p): return try Recipe.load(path: p, baseDirectory: ".")
        case .object(let o): return try Recipe.decode(.object(o), form: .json, text: JSONWriter.pretty(.object(o)) + "\n", baseDirectory: ".")
        default: throw .missingKey(key: s.key("recipe"))
        }
    }

    /// How a run ended.
    public enum Outcome: Sendable, Equatable {
        /// Every step ran.
        case completed
        /// Stopped at an external step; `resumeFrom` is the step to pass to `--from` afterwards.
        case paused(step: String, description: String, resumeFrom: String?)
    }

    /// Runs a validated plan; `log` gets one line per step (and the steps' own reports), `finished`
    /// each step that ran to completion.
    public func run(_ plan: Plan, toolVersion: String = "unknown", log: (String) -> Void = { _ in }, finished: (Step) -> Void = { _ in }) throws(SurgeryError) -> Outcome {
        for s in plan.run {
            log("[\(s.name)] \(s.type.rawValue)")
            do {
                if s.pauses {
                    var d = s.options["description"]?.string ?? ""
                    if let c = s.command { d += (d.isEmpty ? "" : "; ") + "run by hand: " + c.text }
                    return .paused(step: s.name, description: d, resumeFrom: plan.resumeFrom?.name)
                }
                try runStep(s, toolVersion: toolVersion, log: log)
                finished(s)
            } catch let e as SurgeryError {
                throw .pipelineStep(pipeline: path, step: s.label, type: s.type.rawValue, reason: "\(Self.worded(e, step: s))")
            } catch let e as FileError {
                throw .pipelineStep(pipeline: path, step: s.label, type: s.type.rawValue, reason: "\(Self.worded(.output(e), step: s))")
            } catch {
                throw .pipelineStep(pipeline: path, step: s.label, type: s.type.rawValue, reason: "\(error)")
            }
        }
        return .completed
    }

    /// A step's options for an operation's shared parser (`Propagator.Options(parsing:)`): strings and
    /// numbers as values (numbers as written), `true` Booleans as switches.
    static func optionValues(_ o: JSONObject) -> OptionValues {
        var v = OptionValues()
        for (key, value) in o.members {
            switch value {
            case .string(let t): v.values[key] = t
            case .number(let n): v.values[key] = n.description
            case .bool(true): v.flags.insert(key)
            default: break
            }
        }
        return v
    }

    /// A step's error as a pipeline user should read it: an option the libraries name neutrally
    /// (`alpha_scale`) becomes the step's key (`steps[2] 'p'.alpha_scale`), and an existing output
    /// asks for the `force` key.
    static func worded(_ e: SurgeryError, step s: Step) -> SurgeryError {
        switch e {
        case .invalidOption(let option, let reason): return .invalidValue(key: s.key(option), reason: reason)
        case .output(.outputExists(let p)):
            return .invalidValue(key: s.key("output"), reason: "'\(p)' exists; add force: true (to the step, or at the top level)")
        default: return e
        }
    }

    func runStep(_ s: Step, toolVersion: String, log: (String) -> Void) throws {
        let o = s.options
        func str(_ k: String) -> String? { o[k]?.string }
        let force = o["force"]?.bool ?? false
        let output = str("output") ?? ""
        switch s.type {
        case .vocabBuild:
            let q = try VocabularyBuildRequest(parsing: Self.optionValues(o))
            let r = try VocabularyBuilder.build(old: q.old, new: q.new, options: q.options)
            try VocabularyBuilder.write(r, to: q.output, force: q.options.force, inputs: [q.old, q.new])
            log("  wrote \(output): \(q.options.mode.rawValue) vocabulary of \(r.vocabularySize) ids (old \(r.oldSize), \(r.appended) appended)")
        case .vocabInit:
            let q = try EmbeddingInitRequest(parsing: Self.optionValues(o))
            let r = try EmbeddingInitializer.run(base: q.model, tokenizer: q.tokenizer, output: q.output, options: q.options)
            log("  wrote \(output): \(r.newRows) rows × \(r.hidden) (base \(r.oldRows)); \(r.copied) copied, \(r.aggregated) aggregated, \(r.unmapped.count) set to the mean row")
        case .propagate:
            let opt = try Propagator.Options(parsing: Self.optionValues(o), toolVersion: toolVersion)
            let r = try Propagator.run(opt)
            for w in r.warnings { log("  warning: \(w)") }
            log("  wrote \(output): mode \(r.mode.rawValue), \(r.pairs) row pairs, output vocabulary \(r.outputRows)")
            for m in r.modules {
                if let sol = m.solution { log("  \(m.tensor): relative residual \(sol.relativeResidual), ‖X − I‖/‖I‖ \(sol.distanceFromIdentity)") }
            }
        case .loraMerge:
            let q = try LoraMergeRequest(parsing: Self.optionValues(o))
            try merge(try q.recipe(), step: s, output: q.output, force: q.force, toolVersion: toolVersion, log: log)
        case .merge:
            var recipe = try mergeRecipe(s)
            if let seed = o["seed"]?.number?.uint64 { recipe.seed = seed }
            try merge(recipe, step: s, output: output, force: force, toolVersion: toolVersion, log: log)
        case .external:
            guard let command = s.command else { return }
            log("  $ " + command.text)
            let status = try ExternalCommand.run(command)
            guard status == .exited(0) else {
                throw SurgeryError.externalCommand(
                    command: command.text, reason: "the command \(status.phrase); its own messages above say why (fix it, then re-run with --from \(s.name))")
            }
            if let out = s.output, !PathUtilities.exists(out) {
                throw SurgeryError.externalCommand(
                    command: command.text, reason: "the command exited with status 0 but its output '\(out)' does not exist; make the command write it, or correct 'output'")
            }
        }
    }

    func merge(_ recipe: Recipe, step: Step, output: String, force: Bool, toolVersion: String, log: (String) -> Void) throws {
        let plan = try MergePlan.make(recipe)
        var mo = MergeOptions()
        mo.force = force
        mo.toolVersion = toolVersion
        if let sz = step.options["shard_size"]?.string { mo.maxShardBytes = sz == "0" ? nil : Pipeline.parseByteSize(sz) }
        let summary = try MergeExecutor.run(plan, output: output, options: mo)
        log("  wrote \(output): \(summary.tensors) tensors in \(summary.shards) shard\(summary.shards == 1 ? "" : "s") (\(plan.method.name))")
    }
}
