import Glibc
import LEPJSON
import Merging
import Pipelines
import Propagation
import Recipes
import SafeTensors
import Support
import Surgery
import Vocabulary

/// `lep vocab build|init|train`: the paper's new vocabularies (Documentation/Propagation.md §3) and the initialisation of their
/// embedding rows (Documentation/Propagation.md §4).
enum VocabCommand: Command {
    static let name = "vocab"
    static let summary = "build a new vocabulary (replace/extend/optimize), train a SentencePiece one, or initialise a base model's rows for one"
    static let usage = """
        build --mode replace|extend|optimize --old OLD --new NEW -o OUT [--corpus FILE --keep N --add M] [--force] [--json]
               lep vocab train --corpus FILE --type bpe|unigram --size N -o OUT.model [--force] [--json]
               lep vocab init --model BASE --tokenizer NEW -o OUT [--agg mean|sum|occurrence --occurrence-map FILE] [--shard-size SIZE] [--force] [--json]
        """
    static let details = """
        build: OLD is the base model's tokenizer (a model directory, tokenizer.json or a SentencePiece
        .model); NEW a SentencePiece .model or an HF tokenizer folder. replace: NEW, with OLD's special
        tokens that NEW lacks appended (LLaMA-3: its 256). extend: NEW's pieces that OLD lacks appended,
        new merges first; byte-level OLD gets the pieces in its byte alphabet and its specials moved after
        them; a SentencePiece OLD gets an extended tokenizer.model too. optimize (byte-level OLD): OLD shrunk
        to the --keep tokens most used on --corpus, then extended with NEW's first --add pieces.
        init: a complete checkpoint of BASE with NEW's tokenizer; new rows of embed_tokens / lm_head are the
        mean (sum, occurrence-weighted mean) of the base rows of each token's pieces under the old tokenizer,
        special tokens copied by string, byte tokens from the old byte token, a token whose bytes are an old
        token's copies that row (so extend keeps every old row bit for bit, byte-level partial UTF-8 tokens
        included); pieces are split by bytes, never by lossily decoded text; rows with no pieces take the mean
        of all base rows and are listed. Accumulation in float32, round-to-nearest-even write-back.
        train: runs SentencePiece's trainer (Debian's spm_train, on PATH) with the paper's settings
        (byte fallback, split digits, full character coverage, identity normalisation) and writes OUT.model.
        Outputs are written to a temporary sibling and renamed into place.
        """
    static let options = [
        OptionSpec(name: "mode", value: "replace|extend|optimize", help: "build: which vocabulary"),
        OptionSpec(name: "old", value: "PATH", help: "build: the old (base model's) tokenizer"),
        OptionSpec(name: "new", value: "PATH", help: "build: the new SentencePiece .model or HF tokenizer"),
        OptionSpec(name: "corpus", value: "FILE", help: "build optimize: text to count token use on"),
        OptionSpec(name: "keep", value: "N", help: "build optimize: old tokens kept (default 64000)"),
        OptionSpec(name: "add", value: "M", help: "build extend/optimize: new pieces considered, in NEW's order (default all)"),
        OptionSpec(name: "type", value: "bpe|unigram", help: "train: SentencePiece model type"),
        OptionSpec(name: "size", value: "N", help: "train: vocabulary size"),
        OptionSpec(name: "model", value: "DIR", help: "init: the base model"),
        OptionSpec(name: "tokenizer", value: "PATH", help: "init: the new tokenizer (folder or file)"),
        OptionSpec(name: "agg", value: "mean|sum|occurrence", help: "init: aggregation of sub-token rows (default mean)"),
        OptionSpec(name: "occurrence-map", value: "FILE", help: "init: JSON {new_id: {old_id: count}} for --agg occurrence"),
        OptionSpec(name: "output", value: "OUT", help: "output directory (also -o)"),
        OptionSpec(name: "shard-size", value: "SIZE", help: "init: maximum shard size (default 5GB); 0 = one file"),
        OptionSpec(name: "force", value: nil, help: "replace OUT if it exists"),
        OptionSpec(name: "json", value: nil, help: "print the summary as JSON")
    ]

    static func run(_ args: Arguments) throws -> Int32 {
        var pos = args.positionals
        guard let sub = pos.first else { throw UsageError("missing subcommand: build, init or train") }
        pos.removeFirst()
        var out = args.value("output")
        if let i = pos.firstIndex(of: "-o") {
            guard i + 1 < pos.count else { throw UsageError("-o needs a value") }
            out = pos[i + 1]
            pos.removeSubrange(i...(i + 1))
        }
        guard pos.isEmpty else { throw UsageError("unexpected argument '\(pos[0])'") }
        guard let output = out else { throw UsageError("-o OUT is required") }
        switch sub {
        case "build": return try build(args, output: output)
        case "init": return try initialise(args, output: output)
        case "train": return try train(args, output: output)
        default: throw UsageError("unknown subcommand '\(sub)' (build, init or train)")
        }
    }

    static func build(_ args: Arguments, output: String) throws -> Int32 {
        let request = try SharedOptions.parsed { () throws(SurgeryError) in
            try VocabularyBuildRequest(parsing: SharedOptions.values(args, valueKeys: VocabularyBuildRequest.valueKeys, flagKeys: VocabularyBuildRequest.flagKeys, output: output))
        }
        let (old, new, o, mode) = (request.old, request.new, request.options, request.options.mode)
        try AtomicOutputDirectory.check(target: output, force: args.flag("force"), inputs: [old, new])
        let progress = Progress("vocab build")
        let r = try VocabularyBuilder.build(old: old, new: new, options: o)
        try VocabularyBuilder.write(r, to: output, force: args.flag("force"), inputs: [old, new])
        progress.finish()
        if args.flag("json") {
            Terminal.out(
                JSONWriter.pretty(
                    .object(
                        JSONObject([
                            ("output", .string(output)), ("mode", .string(mode.rawValue)), ("vocabulary_size", num(r.vocabularySize)),
                            ("old_size", num(r.oldSize)), ("appended", num(r.appended)), ("kept", r.kept.map(num) ?? .null),
                            ("notes", .array(r.notes.map { .string($0) })), ("seconds", .number(JSONNumber(progress.elapsed)))
                        ]))))
            return 0
        }
        Terminal.out("wrote \(output): \(mode.rawValue) vocabulary of \(r.vocabularySize) ids (old \(r.oldSize), \(r.appended) appended) in \(Format.fixed(progress.elapsed, 2)) s")
        for n in r.notes { Terminal.out("  " + n) }
        return 0
    }

    static func initialise(_ args: Arguments, output: String) throws -> Int32 {
        let request = try SharedOptions.parsed { () throws(SurgeryError) in
            try EmbeddingInitRequest(parsing: SharedOptions.values(args, valueKeys: EmbeddingInitRequest.valueKeys, flagKeys: EmbeddingInitRequest.flagKeys, output: output))
        }
        let (model, tok, o) = (request.model, request.tokenizer, request.options)
        try AtomicOutputDirectory.check(target: output, force: o.force, inputs: [model, tok])
        let progress = Progress("vocab init")
        let s = try EmbeddingInitializer.run(base: model, tokenizer: tok, output: output, options: o, progress: progress.update)
        progress.finish()
        if args.flag("json") {
            Terminal.out(
                JSONWriter.pretty(
                    .object(
                        JSONObject([
                            ("output", .string(output)), ("rows", num(s.newRows)), ("hidden", num(s.hidden)), ("base_rows", num(s.oldRows)),
                            ("modules", .array(s.modules.map { .string($0) })), ("copied", num(s.copied)), ("aggregated", num(s.aggregated)),
                            ("aggregation", .string(o.aggregation.name)), ("mean_of_all_rows", .array(s.unmapped.map(num))),
                            ("occurrence_fallback", num(s.occurrenceFallback)), ("config_notes", .array(s.configNotes.map { .string($0) })),
                            ("mapping_seconds", .number(JSONNumber(s.mappingSeconds))), ("seconds", .number(JSONNumber(progress.elapsed)))
                        ]))))
            return 0
        }
        Terminal.out(
            "wrote \(output): \(s.newRows) rows × \(s.hidden) (base \(s.oldRows)) for \(s.modules.joined(separator: ", ")); \(s.copied) copied, \(s.aggregated) aggregated (\(o.aggregation.name)), \(s.unmapped.count) set to the mean of all base rows; mapping \(Format.fixed(s.mappingSeconds, 2)) s, total \(Format.fixed(progress.elapsed, 2)) s"
        )
        if !s.unmapped.isEmpty {
            Terminal.out(
                "  rows with no sub-tokens (mean of all base rows): " + s.unmapped.prefix(20).map(String.init).joined(separator: ", ")
                    + (s.unmapped.count > 20 ? ", … (all in \(EmbeddingInitializer.provenanceName))" : ""))
        }
        if s.occurrenceFallback > 0 { Terminal.out("  \(s.occurrenceFallback) rows absent from the occurrence map used the plain mean") }
        for n in s.configNotes { Terminal.out("  " + n) }
        return 0
    }

    static func num(_ i: Int) -> JSONValue { .number(JSONNumber(i)) }

    /// `lep vocab train`: spm_train with the paper's settings; OUT gets a `.model` suffix if it lacks one.
    static func train(_ args: Arguments, output: String) throws -> Int32 {
        guard let corpus = args.value("corpus") else { throw UsageError("--corpus FILE is required") }
        guard let type = args.value("type"), type == "bpe" || type == "unigram" else { throw UsageError("--type must be bpe or unigram") }
        guard let size = try args.int("size"), size > 0 else { throw UsageError("--size N (a positive vocabulary size) is required") }
        var request = SentencePieceTraining.Request(corpus: corpus, type: type == "bpe" ? .bpe : .unigram, size: size, output: output)
        request.force = args.flag("force")
        let progress = Progress("vocab train")
        let model = try SentencePieceTraining.train(request)
        let prefix = String(model.dropLast(6))
        progress.finish()
        if args.flag("json") {
            Terminal.out(
                JSONWriter.pretty(
                    .object(
                        JSONObject([
                            ("output", .string(prefix + ".model")), ("type", .string(type)), ("size_requested", num(size)),
                            ("seconds", .number(JSONNumber(progress.elapsed)))
                        ]))))
            return 0
        }
        Terminal.out("wrote \(prefix).model: SentencePiece \(type), \(size) pieces requested, in \(Format.fixed(progress.elapsed, 2)) s")
        return 0
    }
}
