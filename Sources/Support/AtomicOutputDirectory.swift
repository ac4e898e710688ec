import CPlatform

#if canImport(Glibc)
import Glibc
#endif

/// An output directory that appears at its target path complete or not at all.
///
/// Files are written into a hidden temporary sibling (`.NAME.lep-tmp-PID-N`); `commit()` fsyncs
/// it and renames it into place (replacing an existing target only with `force`). `abort()`, an error
/// or SIGINT/SIGTERM/SIGHUP remove the temporary directory. A process killed with SIGKILL leaves the
/// hidden sibling behind, never a partial target; the next run removes stale siblings of dead processes.
public final class AtomicOutputDirectory: @unchecked Sendable {
    /// The final path.
    public let target: String
    /// The temporary directory being filled.
    public let temporary: String
    private let force: Bool
    private var finished = false

    /// Prepares to write `target`. Refuses an existing target unless `force`, and a target equal to,
    /// inside, or containing any of `inputs`.
    public init(target rawTarget: String, force: Bool, inputs: [String]) throws(FileError) {
        let target = try Self.check(target: rawTarget, force: force, inputs: inputs)
        let parent = PathUtilities.parentDirectory(of: target)
        try PathUtilities.makeDirectories(parent)
        let base = String(target[target.index(after: target.lastIndex(of: "/")!)...])
        PathUtilities.removeStaleTemporaries(in: parent, base: base)
        var made: String?
        for attempt in 0..<1000 {
            let candidate = "\(parent)/.\(base).lep-tmp-\(getpid())-\(attempt)"
            // Registered before it exists, so an interrupt at any point removes it.
            CleanupRegistry.register(candidate)
            if mkdir(candidate, 0o755) == 0 { made = candidate; break }
            let err = errno
            CleanupRegistry.unregister(candidate)
            if err != EEXIST { throw .writeFailed(path: candidate, reason: String(cString: strerror(err))) }
        }
        guard let made else { throw .writeFailed(path: parent, reason: "cannot create a temporary directory") }
        self.target = target
        self.temporary = made
        self.force = force
    }

    /// The checks ``init(target:force:inputs:)`` makes, without creating anything: commands run them
    /// before any heavy work so that a refused output costs nothing. Returns the absolute target.
    @discardableResult
    public static func check(target rawTarget: String, force: Bool, inputs: [String]) throws(FileError) -> String {
        let target = try PathUtilities.absoluteTarget(rawTarget)
        for input in inputs {
            guard let real = PathUtilities.realPath(input) else { continue }
            if target == real || target.hasPrefix(real + "/") || real.hasPrefix(target + "/") {
                throw .outputOverlapsInput(output: rawTarget, input: input)
            }
        }
        if PathUtilities.exists(target), !force { throw .outputExists(path: rawTarget) }
        return target
    }

    deinit { if !finished { abort() } }

    /// Path of `name` inside the temporary directory.
    public func path(_ name: String) -> String { temporary + "/" + name }

    /// Writes a small file (config.json...) into the output.
    public func writeFile(_ name: String, contents: [UInt8]) throws(FileError) {
        let sink = try FileSink(path: path(name))
        try sink.write(contents)
        try sink.close(sync: false)
    }

    /// Creates the subdirectory `name` of the output (and nothing above it); an existing one is kept.
    public func makeDirectory(_ name: String) throws(FileError) {
        guard mkdir(path(name), 0o755) == 0 || errno == EEXIST else {
            throw .writeFailed(path: path(name), reason: String(cString: strerror(errno)))
        }
    }

    /// Copies a file from elsewhere into the output under `name`.
    public func copyFile(from source: String, as name: String) throws(FileError) {
        let fd = open(source, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotOpen(path: source, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .cannotOpen(path: source, reason: String(cString: strerror(errno))) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw .cannotOpen(path: source, reason: "not a regular file") }
        let sink = try FileSink(path: path(name))
        try sink.copy(from: fd, offset: 0, count: Int(st.st_size))
        try sink.close(sync: false)
    }

    /// Fsyncs and renames the temporary directory to the target.
    public func commit() throws(FileError) {
        guard !finished else { throw .writerMisuse("commit() twice") }
        // Every file, then the directory, reaches the disk before the rename makes them visible.
        for name in PathUtilities.listDirectory(temporary) where !PathUtilities.isDirectory(path(name)) {
            do { try PathUtilities.fsyncPath(path(name)) } catch { abort(); throw error }
        }
        do { try PathUtilities.fsyncPath(temporary) } catch { abort(); throw error }
        var trash: String?
        if PathUtilities.exists(target) {
            guard force else { abort(); throw .outputExists(path: target) }
            let t = temporary + ".old"
            guard rename(target, t) == 0 else {
                let reason = String(cString: strerror(errno))
                abort()
                throw .writeFailed(path: target, reason: "cannot move the existing output aside: \(reason)")
            }
            trash = t
        }
        guard rename(temporary, target) == 0 else {
            let reason = String(cString: strerror(errno))
            if let trash { rename(trash, target) }
            abort()
            throw .writeFailed(path: target, reason: "rename failed: \(reason)")
        }
        finished = true
        CleanupRegistry.unregister(temporary)
        try? PathUtilities.fsyncPath(PathUtilities.parentDirectory(of: target))
        if let trash { PathUtilities.removeTree(trash) }
    }

    /// Makes the file `name` of the temporary directory the target itself (a single-file output such as
    /// `out.safetensors`): fsyncs it, renames it onto the target (replacing a file only with `force`,
    /// never a directory) and removes the temporary directory.
    public func commitFile(_ name: String) throws(FileError) {
        guard !finished else { throw .writerMisuse("commit() twice") }
        do { try PathUtilities.fsyncPath(path(name)) } catch { abort(); throw error }
        if PathUtilities.exists(target) {
            guard force else { abort(); throw .outputExists(path: target) }
            if PathUtilities.isDirectory(target) {
                abort()
                throw .writeFailed(path: target, reason: "is a directory; a single-file output replaces only a file")
            }
        }
        guard rename(path(name), target) == 0 else {
            let reason = String(cString: strerror(errno))
            abort()
            throw .writeFailed(path: target, reason: "rename failed: \(reason)")
        }
        try? PathUtilities.fsyncPath(PathUtilities.parentDirectory(of: target))
        abort()
    }

    /// Removes the temporary directory and everything in it.
    public func abort() {
        guard !finished else { return }
        finished = true
        PathUtilities.removeTree(temporary)
        CleanupRegistry.unregister(temporary)
    }
}

/// Removes registered temporary directories when the process is interrupted (the handler lives in
/// CPlatform: it must be async-signal-safe, which Swift code is not).
enum CleanupRegistry {
    static func register(_ path: String) {
        lep_cleanup_install()
        _ = lep_cleanup_register(path)
    }

    static func unregister(_ path: String) { lep_cleanup_unregister(path) }
}
