import CPlatform

#if canImport(Glibc)
import Glibc
#endif

/// A buffered, write-only file that reports failures (a full disk) as `FileError.writeFailed`.
///
/// Large writes bypass the buffer; `copy(from:offset:count:)` uses `copy_file_range` so data moves
/// from file to file inside the kernel.
package final class FileSink {
    package let path: String
    private var fd: Int32
    private var buffer: UnsafeMutableRawPointer
    private let capacity: Int
    private var used = 0
    /// Bytes handed to the kernel so far (plus the buffered ones).
    package private(set) var position = 0
    /// Test hook: fail with ENOSPC once this many bytes have been written.
    package let failAfter: Int?
    /// Bytes handed to the kernel and not yet queued for writeback.
    private var writebackStart = 0
    private var kernelPosition = 0
    private static let writebackChunk = 64 << 20

    package init(path: String, capacity: Int = 4 << 20, failAfter: Int? = nil) throws(FileError) {
        self.path = path
        self.capacity = capacity
        self.failAfter = failAfter
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .writeFailed(path: path, reason: String(cString: strerror(errno))) }
        buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 64)
    }

    deinit {
        buffer.deallocate()
        if fd >= 0 { Glibc.close(fd) }
    }

    private func failure(_ err: Int32) -> FileError {
        .writeFailed(path: path, reason: String(cString: strerror(err)) + (err == ENOSPC ? " (free some disk space or choose another output)" : ""))
    }

    private func injectedFault(adding n: Int) throws(FileError) {
        if let failAfter, position + n > failAfter { throw failure(ENOSPC) }
    }

    /// Appends bytes.
    package func write(_ bytes: UnsafeRawBufferPointer) throws(FileError) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        if used + bytes.count <= capacity {
            (buffer + used).copyMemory(from: base, byteCount: bytes.count)
            used += bytes.count
            position += bytes.count
            if used == capacity { try flush() }
            return
        }
        try flush()
        if bytes.count < capacity {
            buffer.copyMemory(from: base, byteCount: bytes.count)
            used = bytes.count
            position += bytes.count
            return
        }
        try injectedFault(adding: bytes.count)
        try writeAll(base, bytes.count)
        position += bytes.count
    }

    /// Appends bytes from a byte array.
    package func write(_ bytes: [UInt8]) throws(FileError) {
        let result = bytes.withUnsafeBytes { b in Result { () throws(FileError) in try write(b) } }
        try result.get()
    }

    /// Exposes up to `max` bytes of free buffer space to `fill`, which returns how many it wrote.
    package func withFreeSpace(max: Int, _ fill: (UnsafeMutableRawPointer, Int) -> Int) throws(FileError) {
        if capacity - used < min(max, capacity) { try flush() }
        let n = fill(buffer + used, min(max, capacity - used))
        used += n
        position += n
        if used == capacity { try flush() }
    }

    /// Appends `count` bytes of another file starting at `offset`, in the kernel when possible.
    package func copy(from sourceFD: Int32, offset: Int, count: Int) throws(FileError) {
        try flush()
        try injectedFault(adding: count)
        // Ask for the whole range up front: with a cold page cache the reads then overlap the writes.
        _ = posix_fadvise(sourceFD, off_t(offset), off_t(count), POSIX_FADV_WILLNEED)
        var srcOffset = Int64(offset)
        var remaining = count
        while remaining > 0 {
            let n = lep_copy_file_range(sourceFD, &srcOffset, fd, remaining)
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP {
                    try copyByReading(sourceFD, offset: Int(srcOffset), count: remaining)
                    break
                }
                throw failure(errno)
            }
            if n == 0 { throw .writeFailed(path: path, reason: "source ended early while copying") }
            remaining -= n
            advanceKernelPosition(n)
        }
        position += count
    }

    private func copyByReading(_ sourceFD: Int32, offset: Int, count: Int) throws(FileError) {
        var done = 0
        while done < count {
            let n = pread(sourceFD, buffer, min(capacity, count - done), off_t(offset + done))
            if n < 0 { if errno == EINTR { continue }; throw failure(errno) }
            if n == 0 { throw .writeFailed(path: path, reason: "source ended early while copying") }
            try writeAll(buffer, n)
            done += n
        }
    }

    /// Writes the buffer out.
    package func flush() throws(FileError) {
        guard used > 0 else { return }
        try injectedFault(adding: 0)
        let n = used
        used = 0
        try writeAll(buffer, n)
    }

    private func writeAll(_ p: UnsafeRawPointer, _ n: Int) throws(FileError) {
        var done = 0
        while done < n {
            let w = Glibc.write(fd, p + done, n - done)
            if w < 0 {
                if errno == EINTR { continue }
                throw failure(errno)
            }
            done += w
        }
        advanceKernelPosition(n)
    }

    /// Queues written data for writeback every 64 MiB, so the disk works while we keep writing and
    /// the final fsync is short (as `cp` followed by `sync` overlaps them).
    private func advanceKernelPosition(_ n: Int) {
        kernelPosition += n
        if kernelPosition - writebackStart >= FileSink.writebackChunk {
            _ = lep_start_writeback(fd, Int64(writebackStart), Int64(kernelPosition - writebackStart))
            writebackStart = kernelPosition
        }
    }

    /// Flushes and closes the file; with `sync` (the default) fsyncs it first. Files inside an
    /// `AtomicOutputDirectory` are closed without sync and fsynced together at commit, so writing
    /// the next file overlaps with the disk flushing the previous one.
    package func close(sync: Bool = true) throws(FileError) {
        try flush()
        if sync, fsync(fd) != 0 { throw failure(errno) }
        let rc = Glibc.close(fd)
        fd = -1
        if rc != 0 { throw failure(errno) }
    }
}
