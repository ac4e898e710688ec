#if canImport(Glibc)
import Glibc
#endif

/// Reading a small file (a config, a tokenizer, a task file) whole: the one implementation every
/// module uses, each wrapping a failure in its own error type.
package enum WholeFile {
    /// Why a file could not be read: the system's message (`No such file or directory`, ...).
    package struct Failure: Error, Equatable, Sendable {
        /// Why the file could not be read.
        package let reason: String
        /// An error with its reason.
        package init(reason: String) { self.reason = reason }
    }

    /// The file's bytes, nil when it cannot be read (for callers whose own error names the file).
    package static func bytes(_ path: String) -> [UInt8]? { try? read(path).get() }

    /// The file's bytes, or why they cannot be read.
    package static func read(_ path: String) -> Result<[UInt8], Failure> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(Failure(reason: String(cString: strerror(errno)))) }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(Failure(reason: String(cString: strerror(errno))))
            }
            if n == 0 { return .success(out) }
            out.append(contentsOf: chunk[0..<n])
        }
    }
}
