import Glibc
import LEPJSON
import Support

/// The chat templates of a model directory, wherever transformers keeps them.
///
/// transformers ≥ 4.43 (and always 5.x) writes the default template to `chat_template.jinja` and
/// further named ones to `additional_chat_templates/NAME.jinja`; older checkpoints keep
/// `tokenizer_config.json`'s `chat_template`, a string or a list of `{"name", "template"}`; processors
/// used `chat_template.json` (`{"chat_template": ...}`). As in transformers, the `.jinja` files win
/// over `tokenizer_config.json`, which wins over `chat_template.json`. Only the text is handled here
/// (rendering belongs to ChatTemplates); ``storage`` records the form so writers can keep it.
public struct ChatTemplateSet: Equatable, Sendable {
    /// Where the templates were found.
    public enum Storage: String, Equatable, Sendable {
        /// `chat_template.jinja` (+ `additional_chat_templates/*.jinja`).
        case jinjaFiles = "chat_template.jinja"
        /// `tokenizer_config.json` `chat_template` as a string.
        case tokenizerConfigString = "tokenizer_config.json"
        /// `tokenizer_config.json` `chat_template` as a list of named templates.
        case tokenizerConfigList = "tokenizer_config.json (named templates)"
        /// `chat_template.json`.
        case chatTemplateJSON = "chat_template.json"
    }

    /// One template and its name (`default` for the unnamed one).
    public struct Named: Equatable, Sendable {
        /// The template's name: `default`, or a name such as `tool_use`.
        public var name: String
        /// The Jinja text.
        public var source: String
        /// A template named `name`.
        public init(name: String, source: String) { self.name = name; self.source = source }
    }

    /// The templates, `default` first when present, the others sorted by name.
    public var templates: [Named]
    /// Where the templates were found (or are to be written).
    public var storage: Storage

    /// A set of `templates`, put in ``templates``' order, kept in `storage`'s form.
    public init(templates: [Named], storage: Storage) {
        self.templates = ChatTemplateSet.ordered(templates)
        self.storage = storage
    }

    /// Name of the subdirectory holding named templates (transformers' `CHAT_TEMPLATE_DIR`).
    public static let additionalDirectory = "additional_chat_templates"

    /// The template file names present in `directory` (relative paths), for copying them unchanged.
    public static func files(in directory: String) -> [String] {
        var out: [String] = []
        for n in ["chat_template.jinja", "chat_template.json"] where PathUtilities.exists(directory + "/" + n) { out.append(n) }
        let sub = directory + "/" + additionalDirectory
        if PathUtilities.isDirectory(sub) {
            out += listJinja(sub).map { additionalDirectory + "/" + $0 }
        }
        return out
    }

    /// Reads the templates of `directory`; nil when it has none.
    public static func load(directory: String) throws(TokenizerError) -> ChatTemplateSet? {
        let jinja = directory + "/chat_template.jinja"
        let sub = directory + "/" + additionalDirectory
        if PathUtilities.exists(jinja) || PathUtilities.isDirectory(sub) {
            var t: [Named] = []
            if PathUtilities.exists(jinja) { t.append(Named(name: "default", source: try FileIO.utf8Text(FileIO.read(jinja), path: jinja))) }
            if PathUtilities.isDirectory(sub) {
                for f in listJinja(sub) {
                    let p = sub + "/" + f
                    t.append(Named(name: String(f.dropLast(".jinja".count)), source: try FileIO.utf8Text(FileIO.read(p), path: p)))
                }
            }
            if !t.isEmpty { return ChatTemplateSet(templates: t, storage: .jinjaFiles) }
        }
        let cp = directory + "/tokenizer_config.json"
        if PathUtilities.exists(cp), let v = try FileIO.readJSON(cp)["chat_template"], !v.isNull {
            if let s = v.string { return ChatTemplateSet(templates: [Named(name: "default", source: s)], storage: .tokenizerConfigString) }
            return ChatTemplateSet(templates: try named(v, path: cp, key: "chat_template"), storage: .tokenizerConfigList)
        }
        let jp = directory + "/chat_template.json"
        if PathUtilities.exists(jp) {
            guard let v = try FileIO.readJSON(jp)["chat_template"], !v.isNull else {
                throw .invalidField(path: jp, key: "chat_template", expected: "a template string or a list of {name, template}")
            }
            if let s = v.string { return ChatTemplateSet(templates: [Named(name: "default", source: s)], storage: .chatTemplateJSON) }
            return ChatTemplateSet(templates: try named(v, path: jp, key: "chat_template"), storage: .chatTemplateJSON)
        }
        return nil
    }

    /// The names, in order.
    public var names: [String] { templates.map(\.name) }

    /// The template called `name`; with nil, `default` (or the only template). The error lists the names.
    public func template(named name: String?) throws(TokenizerError) -> Named {
        if let name {
            if let t = templates.first(where: { $0.name == name }) { return t }
            throw .invalidField(path: storage.rawValue, key: "chat template '\(name)'", expected: "one of the model's templates: \(names.joined(separator: ", "))")
        }
        if let t = templates.first(where: { $0.name == "default" }) { return t }
        if templates.count == 1 { return templates[0] }
        throw .chatTemplateNotChosen(path: storage.rawValue, names: names)
    }

    /// The files that store this set in its form, and the value `tokenizer_config.json`'s
    /// `chat_template` must take (nil: remove the key). Used by commands that write tokenizer files.
    public func encoded() -> (files: [(name: String, bytes: [UInt8])], tokenizerConfigValue: JSONValue?) {
        func list() -> JSONValue {
            .array(templates.map { .object(JSONObject([("name", .string($0.name)), ("template", .string($0.source))])) })
        }
        switch storage {
        case .jinjaFiles:
            let files = templates.map { t in
                (name: t.name == "default" ? "chat_template.jinja" : ChatTemplateSet.additionalDirectory + "/" + t.name + ".jinja", bytes: Array(t.source.utf8))
            }
            return (files, nil)
        case .tokenizerConfigString: return ([], .string(templates[0].source))
        case .tokenizerConfigList: return ([], list())
        case .chatTemplateJSON:
            let v: JSONValue = templates.count == 1 && templates[0].name == "default" ? .string(templates[0].source) : list()
            return ([("chat_template.json", Array((JSONWriter.pretty(.object(JSONObject([("chat_template", v)]))) + "\n").utf8))], nil)
        }
    }

    static func named(_ v: JSONValue, path: String, key: String) throws(TokenizerError) -> [Named] {
        guard let a = v.array, !a.isEmpty else { throw .invalidField(path: path, key: key, expected: "a template string or a non-empty list of {name, template}") }
        var out: [Named] = []
        for (i, e) in a.enumerated() {
            guard let n = e["name"]?.string, let s = e["template"]?.string else {
                throw .invalidField(path: path, key: "\(key)[\(i)]", expected: "an object with string \"name\" and \"template\"")
            }
            guard !out.contains(where: { $0.name == n }) else { throw .duplicateToken(n, context: "\(path) \(key) names") }
            out.append(Named(name: n, source: s))
        }
        return out
    }

    static func ordered(_ t: [Named]) -> [Named] {
        t.filter { $0.name == "default" } + t.filter { $0.name != "default" }.sorted { $0.name < $1.name }
    }

    static func listJinja(_ dir: String) -> [String] {
        guard let d = opendir(dir) else { return [] }
        defer { closedir(d) }
        var names: [String] = []
        while let entry = readdir(d) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name.hasSuffix(".jinja"), !name.hasPrefix(".") { names.append(name) }
        }
        return names.sorted()
    }
}
