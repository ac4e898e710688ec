#if canImport(Glibc)
import Glibc
#endif

/// A single small file written atomically: a temporary sibling, fsync, rename (readers see the old file
/// or the new one, never a part). The one implementation for tokenizer files and reports; directories of
/// outputs use ``AtomicOutputDirectory``.
package enum AtomicFile {
    /// Writes `bytes` to `path`, replacing a file that is there.
    package static func write(_ bytes: [UInt8], to path: String) throws(FileError) {
        let tmp = path + ".tmp-lep-\(getpid())"
        unlink(tmp)
        do {
            let sink = try FileSink(path: tmp)
            try sink.write(bytes)
            try sink.close(sync: true)
        } catch {
            unlink(tmp)
            throw error
        }
        guard rename(tmp, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(tmp)
            throw .writeFailed(path: path, reason: reason)
        }
    }
}
