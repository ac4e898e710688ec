import Models
import Tokenizers

/// `lep run`: greedy continuation of a prompt, printed as it is produced.
enum RunCommand: Command {
    static let name = "run"
    static let summary = "greedy continuation of a prompt (text or token ids) with the verification forward pass"
    static let usage = "MODEL (--prompt TEXT | --ids 1,2,3) [--max-tokens N] [--stats]"
    static let details = """
        Runs the Float32 reference forward pass on the CPU (OpenBLAS; LEP_THREADS sets the thread
        count). Weights are read from the mapped checkpoint and converted per layer. Generation is
        greedy and stops at an eos_token_id of generation_config.json (or config.json) or after
        --max-tokens. With --prompt the model's tokenizer encodes the text (special tokens added) and
        decodes the output; with --ids the new ids are printed.
        """
    static let options = [
        OptionSpec(name: "prompt", value: "TEXT", help: "prompt text (needs the model's tokenizer)"),
        OptionSpec(name: "ids", value: "1,2,3", help: "prompt token ids, comma-separated"),
        OptionSpec(name: "max-tokens", value: "N", help: "maximum new tokens (default 64)"),
        OptionSpec(name: "stats", value: nil, help: "print prefill and decode throughput to stderr"),
        OptionSpec(name: "memory", value: "SIZE", help: "keep converted Float32 weights up to SIZE (default 8GiB; 0 = convert per layer per pass)"),
    ]

    static func run(_ args: Arguments) throws -> Int32 {
        let dir = try args.positionals(["MODEL"])[0]
        let maxTokens = try args.int("max-tokens") ?? 64
        guard maxTokens >= 1 else { throw UsageError("--max-tokens must be at least 1") }
        let budget = try args.value("memory").map { s throws(UsageError) in s == "0" ? 0 : try Arguments.byteSize(s, option: "memory") }
        let model = try Transformer(directory: dir, residentBudget: budget ?? ModelWeights.defaultResidentBudget)
        var tokenizer: (any Tokenizer)?
        let prompt: [Int]
        switch (args.value("prompt"), args.value("ids")) {
        case (nil, let ids?):
            prompt = try parseIds(ids, option: "ids")
        case (let text?, nil):
            let t = try TextInput.tokenizer(for: dir)
            tokenizer = t
            prompt = t.encode(text)
        case (nil, nil): throw UsageError("give --prompt TEXT or --ids 1,2,3")
        default: throw UsageError("give either --prompt or --ids, not both")
        }
        let stops = try Transformer.stopIds(directory: dir, config: model.config)
        let start = Terminal.now()
        var firstTokenAt = start
        var produced: [Int] = []
        var printedText = ""
        let out = try model.greedy(prompt: prompt, maxNewTokens: maxTokens, stopIds: stops) { id in
            if produced.isEmpty { firstTokenAt = Terminal.now() }
            produced.append(id)
            if let t = tokenizer {
                // Decode everything so far and print the new suffix (multi-byte characters can span tokens).
                let text = t.decode(produced, skipSpecialTokens: false)
                if text.hasPrefix(printedText), !text.hasSuffix("\u{FFFD}") {
                    Terminal.write(1, String(text.dropFirst(printedText.count)))
                    printedText = text
                }
            } else {
                Terminal.write(1, (produced.count > 1 ? " " : "") + String(id))
            }
        }
        if let t = tokenizer {
            let text = t.decode(out, skipSpecialTokens: false)
            if text.hasPrefix(printedText) { Terminal.write(1, String(text.dropFirst(printedText.count))) }
        }
        Terminal.write(1, "\n")
        let end = Terminal.now()
        if args.flag("stats") {
            let prefill = firstTokenAt - start, decode = end - firstTokenAt
            let decodeTokens = out.count - 1
            Terminal.err("prefill: \(prompt.count) tokens in \(Format.fixed(prefill, 3)) s (\(Format.fixed(Double(prompt.count) / prefill, 1)) tokens/s)")
            Terminal.err("decode: \(decodeTokens) tokens in \(Format.fixed(decode, 3)) s (\(decodeTokens > 0 ? Format.fixed(Double(decodeTokens) / decode, 2) : "n/a") tokens/s)")
            if out.last.map(stops.contains) == true { Terminal.err("stopped at eos id \(out.last!)") }
        }
        return 0
    }

    /// Parses `1,2,3` (spaces allowed).
    static func parseIds(_ text: String, option: String) throws(UsageError) -> [Int] {
        var ids: [Int] = []
        for part in text.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\n" }) {
            guard let i = Int(part), i >= 0 else { throw UsageError("--\(option): '\(part)' is not a token id") }
            ids.append(i)
        }
        guard !ids.isEmpty else { throw UsageError("--\(option) is empty") }
        return ids
    }
}

/// Loading a model's tokenizer for text input, with an error that says what to do instead.
enum TextInput {
    struct NoTokenizer: Error, CustomStringConvertible {
        let directory: String
        let reason: String
        var description: String {
            "text input needs the model's tokenizer, which could not be loaded from \(directory): \(reason); pass token ids with --ids instead"
        }
    }

    static func tokenizer(for directory: String) throws -> any Tokenizer {
        do { return try loadTokenizer(directory: directory) } catch {
            throw NoTokenizer(directory: directory, reason: error.description)
        }
    }
}
