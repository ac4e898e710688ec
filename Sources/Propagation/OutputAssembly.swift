import LEPJSON
import Merging
import Models
import SafeTensors
import Support
import Surgery
import Tokenizers
import Vocabulary

/// The non-tensor files of the output checkpoint (Documentation/Propagation.md §6), built in memory before anything is
/// written so an unmappable special token refuses the run with nothing written.
public struct OutputAssembly: Sendable {
    /// File name → contents.
    public private(set) var files: [(name: String, bytes: [UInt8])] = []
    /// Files copied verbatim: (source path, output name).
    public private(set) var copies: [(source: String, name: String)] = []
    /// Ids that were remapped by string, for the report: "config.json eos_token_id 128009 → 174816".
    public private(set) var remapped: [String] = []

    static let tokenizerFileNames: Set<String> = [
        "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model",
        "vocab.json", "merges.txt", "added_tokens.json", "chat_template.jinja", "chat_template.json"
    ]

    /// Plans every file. `chatTemplate` (the text of `--chat-template`) replaces the instruct one.
    public init(inputs: PropagationInputs, vocabulary: OutputVocabulary, chatTemplate: String?) throws(SurgeryError) {
        let inst = inputs.instruct, donor = inputs.donor
        let instDir = inst.checkpoint.directory, donorDir = donor.checkpoint.directory

        // Map an instruct id to the output id of the same string.
        func remap(_ id: Int, _ place: String) throws(SurgeryError) -> Int {
            guard let s = inst.tokenizer.token(for: id) else {
                throw .specialTokenIdUnknown(place: place, id: id)
            }
            guard let o = vocabulary.id(for: s) else {
                throw .specialTokenNotInOutput(place: place, id: id, token: s)
            }
            if o != id { remapped.append("\(place) \(id) → \(o)") }
            return o
        }
        func remapIds(_ obj: inout JSONObject, file: String) throws(SurgeryError) {
            try SpecialTokenIds.remap(&obj, file: file) { id, _, place throws(SurgeryError) in try remap(id, place) }
        }

        // config.json: instruct's, vocab_size = V_out, ids remapped by string.
        var config = inst.config.raw
        config["vocab_size"] = .number(JSONNumber(vocabulary.count))
        try remapIds(&config, file: "config.json")
        files.append(("config.json", Array((JSONWriter.pretty(.object(config)) + "\n").utf8)))

        // generation_config.json: instruct's, every id remapped (a list stays a list).
        if var gen = try OutputAssembly.readObject(instDir + "/generation_config.json") {
            try remapIds(&gen, file: "generation_config.json")
            files.append(("generation_config.json", Array((JSONWriter.pretty(.object(gen)) + "\n").utf8)))
        }

        // tokenizer.json: the donor's plus the appended extras.
        if !vocabulary.extras.isEmpty {
            guard var tj = try OutputAssembly.readObject(donorDir + "/tokenizer.json") else {
                throw .addedTokensWithoutTokenizerJSON(count: vocabulary.extras.count, first: vocabulary.extras[0].token.content)
            }
            var added = tj["added_tokens"]?.array ?? []
            for e in vocabulary.extras { added.append(OutputAssembly.addedTokenJSON(e.token, id: e.outputId)) }
            tj["added_tokens"] = .array(added)
            files.append(("tokenizer.json", Array(JSONWriter.compact(.object(tj)).utf8)))
        } else if PathUtilities.exists(donorDir + "/tokenizer.json") {
            copies.append((donorDir + "/tokenizer.json", "tokenizer.json"))
        }
        for name in ["tokenizer.model", "vocab.json", "merges.txt"] where PathUtilities.exists(donorDir + "/" + name) {
            copies.append((donorDir + "/" + name, name))
        }

        // tokenizer_config.json / special_tokens_map.json: donor's, with the instruct special tokens
        // and chat template (checked to be single tokens of the output).
        let instTC = try OutputAssembly.readObject(instDir + "/tokenizer_config.json") ?? JSONObject()
        var tc = try OutputAssembly.readObject(donorDir + "/tokenizer_config.json") ?? JSONObject()
        let roles = ["bos_token", "eos_token", "unk_token", "pad_token", "additional_special_tokens"]
        func check(_ v: JSONValue, _ place: String) throws(SurgeryError) {
            let s: String? = v.string ?? v["content"]?.string
            if let s, vocabulary.id(for: s) == nil {
                throw .specialTokenNotInOutput(place: place, id: nil, token: s)
            }
            for e in v.array ?? [] { try check(e, place) }
        }
        for r in roles { if let v = instTC[r] { try check(v, "tokenizer_config.json \(r)"); tc[r] = v } }
        if !vocabulary.extras.isEmpty {
            var dec = tc["added_tokens_decoder"]?.object ?? JSONObject()
            for e in vocabulary.extras { dec[String(e.outputId)] = OutputAssembly.addedTokenJSON(e.token, id: nil) }
            tc["added_tokens_decoder"] = .object(dec)
        }
        // The chat templates, in the form the instruct model stores them (chat_template.jinja +
        // additional_chat_templates/, tokenizer_config.json string or named list, chat_template.json);
        // --chat-template replaces the default one.
        tc["chat_template"] = nil
        var templates: ChatTemplateSet?
        do { templates = try ChatTemplateSet.load(directory: instDir) } catch {
            throw .unreadableChatTemplates(reason: error.description)
        }
        if let chatTemplate {
            var set = templates ?? ChatTemplateSet(templates: [], storage: .tokenizerConfigString)
            set.templates.removeAll { $0.name == "default" }
            set.templates.insert(.init(name: "default", source: chatTemplate), at: 0)
            templates = set
        }
        if let templates {
            let (templateFiles, value) = templates.encoded()
            tc["chat_template"] = value
            files += templateFiles
        }
        files.append(("tokenizer_config.json", Array((JSONWriter.pretty(.object(tc)) + "\n").utf8)))
        var stm = try OutputAssembly.readObject(donorDir + "/special_tokens_map.json") ?? JSONObject()
        let instSTM = try OutputAssembly.readObject(instDir + "/special_tokens_map.json") ?? JSONObject()
        for r in roles {
            if let v = instSTM[r] { try check(v, "special_tokens_map.json \(r)"); stm[r] = v } else if let v = instTC[r], v.string != nil || v.array != nil { stm[r] = v }
        }
        files.append(("special_tokens_map.json", Array((JSONWriter.pretty(.object(stm)) + "\n").utf8)))

        // Everything else the instruct model carries (README, LICENSE...).
        let written = Set(files.map(\.name)).union(copies.map(\.name)).union(OutputAssembly.tokenizerFileNames)
        for name in ModelDirectory.carriedFiles(in: instDir) where !written.contains(name) && name != OutputAssembly.provenanceName {
            copies.append((instDir + "/" + name, name))
        }
    }

    /// Name of the provenance file written inside the output directory.
    public static let provenanceName = "lep_propagation.json"

    static func readObject(_ path: String) throws(SurgeryError) -> JSONObject? {
        guard PathUtilities.exists(path) else { return nil }
        guard let bytes = WholeFile.bytes(path) else { throw .unreadableModelFile(path: path, reason: "cannot read") }
        guard let v = try? JSONParser.parse(bytes, duplicateKeys: .lastWins), let o = v.object else {
            throw .unreadableModelFile(path: path, reason: "not a JSON object")
        }
        return o
    }

    static func addedTokenJSON(_ t: AddedToken, id: Int?) -> JSONValue {
        var pairs: [(String, JSONValue)] = []
        if let id { pairs.append(("id", .number(JSONNumber(id)))) }
        pairs += [
            ("content", .string(t.content)), ("single_word", .bool(t.singleWord)), ("lstrip", .bool(t.lstrip)),
            ("rstrip", .bool(t.rstrip)), ("normalized", .bool(t.normalized)), ("special", .bool(t.special))
        ]
        return .object(JSONObject(pairs))
    }

    /// Writes the planned files into `output`.
    public func write(into output: AtomicOutputDirectory) throws(SurgeryError) {
        for f in files {
            if let slash = f.name.lastIndex(of: "/") { try lifting { try output.makeDirectory(String(f.name[..<slash])) } }
            try lifting { try output.writeFile(f.name, contents: f.bytes) }
        }
        for c in copies {
            if let slash = c.name.lastIndex(of: "/") { try lifting { try output.makeDirectory(String(c.name[..<slash])) } }
            try lifting { try output.copyFile(from: c.source, as: c.name) }
        }
    }
}
