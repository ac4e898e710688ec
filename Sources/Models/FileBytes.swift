import Support

/// Reads small files (configs, tokenizer files) whole.
public enum FileBytes {
    /// The file's bytes, nil when it cannot be read.
    public static func read(_ path: String) -> [UInt8]? {
        try? WholeFile.read(path).get()
    }
}
