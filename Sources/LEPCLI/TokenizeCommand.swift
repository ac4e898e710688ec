import Glibc
import LEPJSON
import Tokenizers

/// `lep tokenize`: text → ids (and tokens) with any tokenizer lep reads.
enum TokenizeCommand: Command {
    static let name = "tokenize"
    static let summary = "encode text with a tokenizer (tokenizer.json, SentencePiece .model, tiktoken ranks)"
    static let usage = "--tokenizer PATH (--text T | --file F) [--json] [--no-special] [--continuation] [--benchmark] [--save DIR | -o DIR]"
    static let details = """
        PATH is a model directory or a tokenizer file. Special tokens (BOS/EOS as the tokenizer's config
        says) are added unless --no-special, but no second BOS to a text that starts with the BOS token's
        text (a warning says so; transformers' chat path does the same); --continuation encodes as inside running text (no BOS, no
        dummy-prefix space, no special-token matching). --benchmark encodes --file line by line and prints
        load and encode times (wall, and CPU time of the encoding thread) and peak RSS as JSON (what scripts/bench_tokenizers.sh compares).
        """
    static let options = [
        OptionSpec(name: "tokenizer", value: "PATH", help: "model directory or tokenizer file"),
        OptionSpec(name: "text", value: "T", help: "text to encode"),
        OptionSpec(name: "file", value: "F", help: "UTF-8 file to encode"),
        OptionSpec(name: "json", value: nil, help: "print {\"ids\": [...], \"tokens\": [...]}"),
        OptionSpec(name: "no-special", value: nil, help: "do not add BOS/EOS"),
        OptionSpec(name: "continuation", value: nil, help: "encode as inside running text"),
        OptionSpec(name: "benchmark", value: nil, help: "time loading and line-by-line encoding of --file"),
        OptionSpec(name: "save", value: "DIR", help: "write the tokenizer as lep writes it (tokenizer.json or .model + configs) and exit"),
        OptionSpec(name: "output", value: "DIR", help: "the same as --save DIR")
    ]

    static func loadText(_ args: Arguments) throws -> String {
        if let t = args.value("text") { return t }
        if let f = args.value("file") { return try readTextFile(f) }
        throw UsageError("give --text or --file")
    }

    static func run(_ args: Arguments) throws -> Int32 {
        guard let path = args.value("tokenizer") else { throw UsageError("--tokenizer PATH is required") }
        if args.flag("benchmark") { return try benchmark(path, args) }
        let tok = try loadTokenizer(path: path)
        if args.value("save") != nil && args.value("output") != nil { throw UsageError("give either --save DIR or -o DIR, not both") }
        if let dir = args.value("save") ?? args.value("output") {
            if let h = tok as? HFTokenizer {
                try h.save(directory: dir)
            } else if let s = tok as? SentencePieceTokenizer {
                try s.save(directory: dir)
            } else {
                throw CommandFailure("--save: lep writes tokenizer.json and SentencePiece tokenizers; this is \(type(of: tok))")
            }
            Terminal.out("wrote \(dir)")
            return 0
        }
        let text = try loadText(args)
        let ids = args.flag("continuation") ? tok.encodeContinuation(text) : TextInput.encodePrompt(text, tokenizer: tok, addSpecialTokens: !args.flag("no-special"))
        if args.flag("json") {
            Terminal.out(
                JSONWriter.compact(
                    .object(
                        JSONObject([
                            ("ids", .array(ids.map { .number(JSONNumber($0)) })),
                            ("tokens", .array(ids.map { .string(tok.token(for: $0) ?? "") }))
                        ]))))
        } else {
            Terminal.out(ids.map(String.init).joined(separator: " "))
        }
        return 0
    }

    static func benchmark(_ path: String, _ args: Arguments) throws -> Int32 {
        guard let f = args.value("file") else { throw UsageError("--benchmark needs --file") }
        let text = try readTextFile(f)
        let t0 = Terminal.now()
        let tok = try loadTokenizer(path: path)
        let t1 = Terminal.now()
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let t2 = Terminal.now(), c2 = Terminal.threadCPUTime()
        var n = 0
        for l in lines { n += tok.encode(l, addSpecialTokens: false).count }
        let t3 = Terminal.now(), c3 = Terminal.threadCPUTime()
        var ru = rusage()
        getrusage(RUSAGE_SELF.rawValue, &ru)
        Terminal.out(
            JSONWriter.compact(
                .object(
                    JSONObject([
                        ("load_s", .number(JSONNumber(t1 - t0))), ("encode_s", .number(JSONNumber(t3 - t2))),
                        ("encode_cpu_s", .number(JSONNumber(c3 - c2))),
                        ("tokens", .number(JSONNumber(n))), ("bytes", .number(JSONNumber(text.utf8.count))),
                        ("lines", .number(JSONNumber(lines.count))), ("peak_rss_mb", .number(JSONNumber(Double(ru.ru_maxrss) / 1024)))
                    ]))))
        return 0
    }
}

/// `lep detokenize`: ids → text.
enum DetokenizeCommand: Command {
    static let name = "detokenize"
    static let summary = "decode token ids to text"
    static let usage = "--tokenizer PATH (--ids \"1 2 3\" | --file F) [--skip-special] [--json]"
    static let details = "Ids are separated by spaces, commas or newlines; a JSON array works too."
    static let options = [
        OptionSpec(name: "tokenizer", value: "PATH", help: "model directory or tokenizer file"),
        OptionSpec(name: "ids", value: "IDS", help: "ids to decode"),
        OptionSpec(name: "file", value: "F", help: "file holding the ids"),
        OptionSpec(name: "skip-special", value: nil, help: "drop special tokens"),
        OptionSpec(name: "json", value: nil, help: "print {\"ids\": [...], \"tokens\": [...], \"text\": ...}")
    ]

    static func run(_ args: Arguments) throws -> Int32 {
        guard let path = args.value("tokenizer") else { throw UsageError("--tokenizer PATH is required") }
        let raw: String
        if let s = args.value("ids") { raw = s } else if let f = args.value("file") { raw = try readTextFile(f) } else { throw UsageError("give --ids or --file") }
        var ids: [Int] = []
        for part in raw.split(whereSeparator: { " ,\n\t[]\r".contains($0) }) {
            guard let v = Int(part) else {
                // A bad --ids value is a bad command line; a bad --file is a bad input.
                if args.value("ids") != nil { throw UsageError("not an id: '\(part)'") }
                throw CommandFailure("\(args.value("file") ?? "--file"): not an id: '\(part)'")
            }
            ids.append(v)
        }
        let tok = try loadTokenizer(path: path)
        if let bad = ids.first(where: { tok.token(for: $0) == nil }) {
            throw CommandFailure("id \(bad) is outside the vocabulary of \(path) (ids 0-\(tok.vocabularySize - 1))")
        }
        let text = tok.decode(ids, skipSpecialTokens: args.flag("skip-special"))
        if args.flag("json") {
            Terminal.out(
                JSONWriter.compact(
                    .object(
                        JSONObject([
                            ("ids", .array(ids.map { .number(JSONNumber($0)) })),
                            ("tokens", .array(ids.map { .string(tok.token(for: $0) ?? "") })),
                            ("text", .string(text))
                        ]))))
        } else {
            Terminal.out(text)
        }
        return 0
    }
}

/// `lep tokstats`: how several tokenizers split the same files, side by side.
enum TokstatsCommand: Command {
    static let name = "tokstats"
    static let summary = "characters per token, tokens per word, byte-fallback and unknown rates, side by side"
    static let usage = "--tokenizer A[,B,...] [--tokenizer C ...] FILE... [--json]"
    static let details =
        "Several tokenizers are given comma-separated (--tokenizer A,B) or by repeating the option (--tokenizer A --tokenizer B); every one is shown. Files are encoded line by line without special tokens."
    static let options = [
        OptionSpec(name: "tokenizer", value: "A[,B...]", help: "tokenizers to compare (comma-separated or repeated)", repeatable: true),
        OptionSpec(name: "json", value: nil, help: "machine-readable output")
    ]

    static func run(_ args: Arguments) throws -> Int32 {
        let list = args.values("tokenizer").joined(separator: ",")
        guard !list.isEmpty else { throw UsageError("--tokenizer is required") }
        let files = args.positionals
        guard !files.isEmpty else { throw UsageError("give at least one FILE") }
        let texts = try files.map { try readTextFile($0) }
        var rows: [(String, Int, TokenStatistics)] = []
        for p in list.split(separator: ",").map(String.init) {
            let tok = try loadTokenizer(path: p)
            var s = TokenStatistics()
            for t in texts { s.add(t, tokenizer: tok) }
            rows.append((p, tok.vocabularySize, s))
        }
        if args.flag("json") {
            Terminal.out(
                JSONWriter.pretty(
                    .array(
                        rows.map { p, v, s in
                            .object(
                                JSONObject([
                                    ("tokenizer", .string(p)), ("vocab_size", .number(JSONNumber(v))), ("tokens", .number(JSONNumber(s.tokens))),
                                    ("characters", .number(JSONNumber(s.characters))), ("words", .number(JSONNumber(s.words))),
                                    ("chars_per_token", .number(JSONNumber(s.charactersPerToken))), ("tokens_per_word", .number(JSONNumber(s.tokensPerWord))),
                                    ("byte_fallback_rate", .number(JSONNumber(s.byteFallbackRate))), ("unknown_rate", .number(JSONNumber(s.unknownRate)))
                                ]))
                        })))
            return 0
        }
        func f(_ x: Double, _ d: Int) -> String {
            var p = 1.0
            for _ in 0..<d { p *= 10 }
            let v = (x * p).rounded() / p
            var s = String(v)
            if let dot = s.firstIndex(of: ".") { let decimals = s.distance(from: dot, to: s.endIndex) - 1; if decimals < d { s += String(repeating: "0", count: d - decimals) } }
            return s
        }
        Terminal.out("tokenizer".padding(to: 40) + " vocab    tokens  chars/tok  tok/word  byte-fb%  unk%")
        for (p, v, s) in rows {
            let name = p.count > 40 ? "…" + String(p.suffix(39)) : p
            Terminal.out(
                name.padding(to: 40) + " " + String(v).padding(to: 7) + " " + String(s.tokens).padding(to: 8) + "  "
                    + f(s.charactersPerToken, 2).padding(to: 9) + "  " + f(s.tokensPerWord, 2).padding(to: 8) + "  "
                    + f(100 * s.byteFallbackRate, 2).padding(to: 8) + "  " + f(100 * s.unknownRate, 2))
        }
        return 0
    }
}
