import SafeTensors
import Support

/// The non-weight files of a model directory (configs, tokenizer files, licence, README).
public enum ModelDirectory {
    /// Files that hold weights and are never carried as-is.
    static func isWeightFile(_ name: String) -> Bool {
        let weightSuffixes = [".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".gguf", ".h5", ".msgpack", ".onnx"]
        return name == Checkpoint.indexFileName || name.hasSuffix(".index.json") || weightSuffixes.contains { name.hasSuffix($0) }
    }

    /// transformers' folder of named chat templates (`additional_chat_templates/NAME.jinja`).
    public static let chatTemplateDirectory = "additional_chat_templates"

    /// Names of the regular, non-hidden, non-weight files in `directory` (config.json,
    /// generation_config.json, tokenizer files, ...), sorted; named chat templates appear as
    /// `additional_chat_templates/NAME.jinja`.
    public static func carriedFiles(in directory: String) -> [String] {
        let top = PathUtilities.listDirectory(directory).filter { name in
            !name.hasPrefix(".") && !isWeightFile(name) && !PathUtilities.isDirectory(directory + "/" + name)
        }
        return top + chatTemplateFiles(in: directory).filter { $0.hasPrefix(chatTemplateDirectory + "/") }
    }

    /// The chat template files present: `chat_template.jinja`, `chat_template.json` and
    /// `additional_chat_templates/*.jinja` (relative paths).
    public static func chatTemplateFiles(in directory: String) -> [String] {
        var out = ["chat_template.jinja", "chat_template.json"].filter { PathUtilities.exists(directory + "/" + $0) }
        let sub = directory + "/" + chatTemplateDirectory
        if PathUtilities.isDirectory(sub) {
            out += PathUtilities.listDirectory(sub).filter { $0.hasSuffix(".jinja") && !$0.hasPrefix(".") && !PathUtilities.isDirectory(sub + "/" + $0) }
                .map { chatTemplateDirectory + "/" + $0 }
        }
        return out
    }

    /// The tokenizer files present, among the names HF uses.
    public static func tokenizerFiles(in directory: String) -> [String] {
        let names = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model", "vocab.json", "merges.txt", "added_tokens.json"]
        return names.filter { PathUtilities.exists(directory + "/" + $0) }
    }

    /// Copies the carried files of `source` into `output`, skipping `except`. Returns the names copied.
    @discardableResult
    public static func carryFiles(from source: String, into output: AtomicOutputDirectory, except: Set<String> = []) throws(FileError) -> [String] {
        var copied: [String] = []
        for name in carriedFiles(in: source) where !except.contains(name) {
            if name.hasPrefix(chatTemplateDirectory + "/") { try output.makeDirectory(chatTemplateDirectory) }
            try output.copyFile(from: source + "/" + name, as: name)
            copied.append(name)
        }
        return copied
    }
}
