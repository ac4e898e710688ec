import CPlatform

#if canImport(Glibc)
import Glibc
#endif

/// A buffered, write-only file that reports failures (a full disk) as `FileError.writeFailed`.
///
/// Large writes bypass the buffer; `copy(from:offset:count:)` uses `copy_file_range` so data moves
/// from file to file inside the kernel.
///
/// With `direct`, the file is written with O_DIRECT: every write is a whole number of aligned
/// 4 KiB blocks from the aligned buffer, straight to the disk, so the kernel neither copies the data
/// into its page cache nor spends time writing those pages back (for large outputs that is most of
/// the cost of writing). Everything then goes through the buffer (one copy in user space), and the
/// last partial block is written without O_DIRECT at `close`. A file system that refuses direct I/O
/// gets ordinary buffered writes.
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
    /// Alignment of the buffer, of each write's size and of each write's file offset under O_DIRECT
    /// (a multiple of the logical block size of common disks, 512 or 4096 bytes).
    private static let directAlignment = 4096
    /// Whether writes go straight to the disk (O_DIRECT); false when not asked for, when the file
    /// system refused it, and after `close` began writing the unaligned tail.
    package private(set) var isDirect = false

    /// Creates `path`, which must not exist. `capacity` is the buffer size (rounded to whole 4 KiB
    /// blocks with `direct`); `direct` asks for O_DIRECT writes (see the type's documentation).
    package init(path: String, capacity: Int = 4 << 20, failAfter: Int? = nil, direct: Bool = false) throws(FileError) {
        self.path = path
        let align = FileSink.directAlignment
        self.capacity = direct ? max(align, capacity / align * align) : capacity
        self.failAfter = failAfter
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .writeFailed(path: path, reason: String(cString: strerror(errno))) }
        buffer = UnsafeMutableRawPointer.allocate(byteCount: self.capacity, alignment: direct ? align : 64)
        if direct { isDirect = lep_set_direct(fd, 1) == 0 }
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
        if isDirect {
            // Through the aligned buffer: the kernel only ever gets whole aligned buffers.
            var done = 0
            while done < bytes.count {
                let n = min(capacity - used, bytes.count - done)
                (buffer + used).copyMemory(from: base + done, byteCount: n)
                used += n
                position += n
                done += n
                if used == capacity { try flush() }
            }
            return
        }
        // A write of a whole buffer or more goes straight to the kernel (no copy through the buffer).
        if bytes.count < capacity, used + bytes.count <= capacity {
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
        if isDirect { return try copyThroughBuffer(sourceFD, offset: offset, count: count) }
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

    /// Under O_DIRECT: reads the source into the aligned buffer (the page cache copy is the only one).
    private func copyThroughBuffer(_ sourceFD: Int32, offset: Int, count: Int) throws(FileError) {
        var done = 0
        while done < count {
            let n = pread(sourceFD, buffer + used, min(capacity - used, count - done), off_t(offset + done))
            if n < 0 { if errno == EINTR { continue }; throw failure(errno) }
            if n == 0 { throw .writeFailed(path: path, reason: "source ended early while copying") }
            used += n
            position += n
            done += n
            if used == capacity { try flush() }
        }
    }

    /// Writes the buffer out; under O_DIRECT only its whole aligned blocks (the rest, under 4 KiB,
    /// moves to the front of the buffer and waits for more data or for `close`).
    package func flush() throws(FileError) {
        guard used > 0 else { return }
        try injectedFault(adding: 0)
        if isDirect {
            let n = used / FileSink.directAlignment * FileSink.directAlignment
            guard n > 0 else { return }
            try writeAll(buffer, n)
            let rest = used - n
            if rest > 0 { buffer.copyMemory(from: buffer + n, byteCount: rest) }  // rest < n: no overlap
            used = rest
            return
        }
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
                // A file system that takes O_DIRECT at open but not the write: write buffered instead.
                if errno == EINVAL, isDirect, leaveDirect() { continue }
                throw failure(errno)
            }
            done += w
            // A short direct write leaves an unaligned offset: finish without O_DIRECT.
            if done < n, isDirect, !leaveDirect() { throw failure(errno) }
        }
        advanceKernelPosition(n)
    }

    /// Turns O_DIRECT off (for the tail, or after the file system refused a direct write).
    private func leaveDirect() -> Bool {
        guard lep_set_direct(fd, 0) == 0 else { return false }
        isDirect = false
        return true
    }

    /// Queues written data for writeback every 64 MiB, so the disk works while we keep writing and
    /// the final fsync is short (as `cp` followed by `sync` overlaps them).
    private func advanceKernelPosition(_ n: Int) {
        kernelPosition += n
        if isDirect { writebackStart = kernelPosition; return }  // nothing is left in the page cache
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
        if isDirect, used > 0 {
            guard leaveDirect() else { throw failure(errno) }
            try flush()
        }
        if sync, fsync(fd) != 0 { throw failure(errno) }
        let rc = Glibc.close(fd)
        fd = -1
        if rc != 0 { throw failure(errno) }
    }
}
