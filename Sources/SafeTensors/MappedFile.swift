#if canImport(Glibc)
import Glibc
#endif

/// A read-only memory mapping of a whole file, unmapped on deinit.
///
/// Pages are only read when touched. `dropPages` tells the kernel a range is no longer needed so a
/// streaming pass over a large checkpoint does not keep it resident.
public final class MappedFile: @unchecked Sendable {
    /// Path the file was opened from.
    public let path: String
    /// File size in bytes.
    public let size: Int
    /// Open file descriptor (kept for copy_file_range).
    public let fd: Int32
    private let base: UnsafeMutableRawPointer?

    /// Maps `path` read-only.
    public init(path: String) throws(SafeTensorsError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw .cannotOpen(path: path, reason: reason)
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw .cannotOpen(path: path, reason: "not a regular file")
        }
        self.fd = fd
        self.size = Int(st.st_size)
        if size == 0 {
            base = nil
        } else {
            let p = mmap(nil, size, PROT_READ, MAP_SHARED, fd, 0)
            guard let p, p != MAP_FAILED else {
                let reason = String(cString: strerror(errno))
                close(fd)
                throw .cannotOpen(path: path, reason: "mmap failed: \(reason)")
            }
            base = p
        }
    }

    deinit {
        if let base { munmap(base, size) }
        close(fd)
    }

    /// The whole file as bytes. Valid while this object is alive.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: size) }

    /// Advises the kernel that `range` will be read sequentially soon.
    public func willNeed(_ range: Range<Int>) { advise(range, MADV_WILLNEED) }

    /// Drops `range` from this process's resident set (the page cache keeps it).
    public func dropPages(_ range: Range<Int>) { advise(range, MADV_DONTNEED) }

    private func advise(_ range: Range<Int>, _ advice: Int32) {
        guard let base, !range.isEmpty else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let lo = range.lowerBound / page * page
        let hi = min(size, range.upperBound)
        guard hi > lo else { return }
        madvise(base + lo, hi - lo, advice)
    }
}
