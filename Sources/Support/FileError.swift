/// Every way Support's file helpers (``AtomicOutputDirectory``, ``PathUtilities``, the buffered file
/// sink) refuse or fail; each case names the path.
public enum FileError: Error, Equatable, Sendable {
    /// A file to copy into an output cannot be opened.
    case cannotOpen(path: String, reason: String)
    /// The output exists and replacing it was not asked for (the `force` option; the command line and
    /// pipelines word the fix as their users write it).
    case outputExists(path: String)
    /// The output is equal to, inside, or contains an input.
    case outputOverlapsInput(output: String, input: String)
    /// A write, fsync or rename failed (a full disk, permissions...).
    case writeFailed(path: String, reason: String)
    /// The caller broke a writer's contract (committing twice...).
    case writerMisuse(String)
}

extension FileError: CustomStringConvertible {
    /// The message, naming the path.
    public var description: String {
        switch self {
        case .cannotOpen(let p, let r): "\(p): cannot open: \(r)"
        case .outputExists(let p): "\(p) already exists; choose another output or allow replacing it"
        case .outputOverlapsInput(let o, let i): "output \(o) is equal to, inside, or contains input \(i); write somewhere else"
        case .writeFailed(let p, let r): "\(p): write failed: \(r)"
        case .writerMisuse(let m): "internal writer error: \(m)"
        }
    }
}
