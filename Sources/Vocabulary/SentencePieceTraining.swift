#if canImport(Glibc)
import Glibc
#endif
import Surgery

/// `lep vocab train`: a new SentencePiece vocabulary trained on a corpus by Debian's `spm_train`, with the
/// settings of the paper's Russian tokenizers (byte fallback, split digits, full character coverage,
/// identity normalisation, unk/bos/eos at 0/1/2). The model is written under a temporary name and renamed
/// into place; a failed run leaves nothing.
public enum SentencePieceTraining {
    /// The SentencePiece model types `spm_train` trains.
    public enum ModelType: String, CaseIterable, Sendable { case bpe, unigram }

    /// What to train.
    public struct Request: Sendable {
        /// UTF-8 training text.
        public var corpus: String
        /// BPE or Unigram.
        public var type: ModelType
        /// Vocabulary size asked of spm_train.
        public var size: Int
        /// The model file (`x.model`) or its prefix (`x`).
        public var output: String
        /// Replace an existing model file.
        public var force = false
        /// What to train and where; `force` off.
        public init(corpus: String, type: ModelType, size: Int, output: String) {
            self.corpus = corpus
            self.type = type
            self.size = size
            self.output = output
        }
        /// The `.model` file that is written.
        public var modelPath: String { (output.hasSuffix(".model") ? String(output.dropLast(6)) : output) + ".model" }
    }

    /// Checks the request (readable corpus, no existing model unless `force`, `spm_train` on PATH), runs
    /// `spm_train` (its messages go to this process's stderr) and returns the model's path.
    public static func train(_ r: Request) throws(SurgeryError) -> String {
        guard r.size > 0 else { throw .invalidOption(option: "size", reason: "must be a positive vocabulary size, got \(r.size)") }
        guard access(r.corpus, R_OK) == 0 else { throw .invalidOption(option: "corpus", reason: "cannot read \(r.corpus)") }
        let model = r.modelPath, prefix = String(model.dropLast(6))
        if access(model, F_OK) == 0 && !r.force { throw .output(.outputExists(path: model)) }
        guard let tool = executableOnPath("spm_train") else {
            throw .externalCommand(
                command: "spm_train", reason: "spm_train (SentencePiece's trainer) is not on PATH; install Debian's sentencepiece package ('make deps' does, or: apt-get install sentencepiece)")
        }
        let tmp = prefix + ".lep-tmp-\(getpid())"
        let argv = [
            "spm_train", "--input=\(r.corpus)", "--model_prefix=\(tmp)", "--vocab_size=\(r.size)", "--model_type=\(r.type.rawValue)",
            "--byte_fallback=true", "--split_digits=true", "--character_coverage=1.0", "--normalization_rule_name=identity",
            "--unk_id=0", "--bos_id=1", "--eos_id=2", "--pad_id=-1", "--hard_vocab_limit=false", "--minloglevel=1"
        ]
        var pid = pid_t()
        var cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for p in cargs { free(p) } }
        let rc = posix_spawn(&pid, tool, nil, nil, &cargs, environ)
        guard rc == 0 else { throw .externalCommand(command: tool, reason: "cannot run \(tool) (\(String(cString: strerror(rc)))); install Debian's sentencepiece package") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        unlink(tmp + ".vocab")
        guard status == 0 else {
            unlink(tmp + ".model")
            let how = status & 0x7f == 0 ? "exit status \((status >> 8) & 0xff)" : "signal \(status & 0x7f)"
            throw .externalCommand(command: "spm_train", reason: "spm_train failed (\(how)); its message is above")
        }
        guard rename(tmp + ".model", model) == 0 else { throw .output(.writeFailed(path: model, reason: "cannot rename \(tmp).model to it: \(String(cString: strerror(errno)))")) }
        return model
    }

    /// The first executable `name` in `PATH`.
    static func executableOnPath(_ name: String) -> String? {
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":", omittingEmptySubsequences: true) {
            let candidate = dir + "/" + name
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }
}
