#if canImport(Glibc)
import Glibc
#endif

/// File-system helpers for outputs: real paths, existence, recursive removal, fsync.
package enum PathUtilities {
    /// The canonical absolute path of an existing file, nil when it does not exist.
    package static func realPath(_ path: String) -> String? {
        guard let r = realpath(path, nil) else { return nil }
        defer { free(r) }
        return String(cString: r)
    }

    /// True when `path` exists (a dangling symlink counts).
    package static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    /// True when `path` is a directory.
    package static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// The absolute, normalised path of a target that may not exist yet: the deepest existing
    /// ancestor resolved (symlinks followed), the rest appended with `.` and `..` applied. Creates nothing.
    package static func absoluteTarget(_ path: String) throws(FileError) -> String {
        let full = path.hasPrefix("/") ? path : currentDirectory() + "/" + path
        let comps = full.split(separator: "/").map(String.init)
        func joined(_ k: Int) -> String { "/" + comps[0..<k].joined(separator: "/") }
        var k = comps.count
        while k > 0 && realPath(joined(k)) == nil { k -= 1 }
        var parts = (realPath(joined(k)) ?? "/").split(separator: "/").map(String.init)
        for c in comps[k...] {
            if c == "." { continue }
            if c == ".." { if !parts.isEmpty { parts.removeLast() }; continue }
            parts.append(c)
        }
        guard !parts.isEmpty else { throw .writeFailed(path: path, reason: "not a usable output path") }
        return "/" + parts.joined(separator: "/")
    }

    /// The process's working directory (`.` when it cannot be read).
    package static func currentDirectory() -> String {
        guard let cwd = getcwd(nil, 0) else { return "." }
        defer { free(cwd) }
        return String(cString: cwd)
    }

    /// The directory part of `path`: `a/b/c` → `a/b`, `/c` → `/`, `c` → `.`.
    package static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let dir = String(path[..<slash])
        return dir.isEmpty ? "/" : dir
    }

    /// `mkdir -p`.
    package static func makeDirectories(_ path: String) throws(FileError) {
        if isDirectory(path) { return }
        let parent = parentDirectory(of: path)
        if parent != path, !parent.isEmpty { try makeDirectories(parent) }
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw .writeFailed(path: path, reason: String(cString: strerror(errno)))
        }
    }

    /// Fsyncs a file or directory.
    package static func fsyncPath(_ path: String) throws(FileError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .writeFailed(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        if fsync(fd) != 0 { throw .writeFailed(path: path, reason: String(cString: strerror(errno))) }
    }

    /// `rm -rf` without following symlinks.
    package static func removeTree(_ path: String) {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            if let dir = opendir(path) {
                var names: [String] = []
                while let entry = readdir(dir) {
                    let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                        String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
                    }
                    if name != "." && name != ".." { names.append(name) }
                }
                closedir(dir)
                for n in names { removeTree(path + "/" + n) }
            }
            rmdir(path)
        } else {
            unlink(path)
        }
    }

    /// Lists a directory's entries (names), sorted.
    package static func listDirectory(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// Removes `.BASE.lep-tmp-PID-N` directories left by processes that no longer run.
    static func removeStaleTemporaries(in parent: String, base: String) {
        let prefix = ".\(base).lep-tmp-"
        for name in listDirectory(parent) where name.hasPrefix(prefix) {
            let rest = name.dropFirst(prefix.count)
            guard let dash = rest.firstIndex(of: "-"), let pid = Int32(rest[..<dash]) else { continue }
            if pid != getpid(), kill(pid, 0) != 0, errno == ESRCH {
                removeTree(parent + "/" + name)
            }
        }
    }
}
