import Support

/// Streams one safetensors file: the header first, then each tensor's bytes in layout order.
///
/// The caller supplies tensors one at a time (`HeaderEncoder.layoutOrder`), each with exactly the
/// number of bytes its spec needs; the writer checks both. Nothing is ever held for the whole file.
public final class SafeTensorsWriter {
    /// Tensors in the order they must be supplied.
    public let order: [TensorSpec]
    /// The data byte range of each tensor (same order).
    public let offsets: [Range<Int>]
    /// Final file size.
    public let fileSize: Int
    let sink: FileSink
    private let dataStart: Int
    private var next = 0
    private var tensorEnd = 0

    /// Files of at least this size are written with direct I/O unless the caller says otherwise.
    public static let directIOThreshold = 256 << 20

    /// Creates `path` (which must not exist) and writes the header. `directIO` writes the file with
    /// O_DIRECT, past the page cache (nil: when the file is `directIOThreshold` bytes or more): for
    /// large outputs that saves the kernel's copy and writeback, and keeps the inputs cached.
    public init(path: String, tensors: [TensorSpec], metadata: [String: String]?, failAfter: Int? = nil, directIO: Bool? = nil) throws(SafeTensorsError) {
        order = HeaderEncoder.layoutOrder(tensors)
        let (header, offsets) = try HeaderEncoder.encode(order, metadata: metadata)
        self.offsets = offsets
        dataStart = header.count
        fileSize = header.count + (offsets.last?.upperBound ?? 0)
        let direct = directIO ?? (fileSize >= Self.directIOThreshold)
        let sink = try fileOperation { () throws(FileError) in try FileSink(path: path, failAfter: failAfter, direct: direct) }
        self.sink = sink
        try fileOperation { () throws(FileError) in try sink.write(header) }
    }

    /// Path of the file being written.
    public var path: String { sink.path }

    /// The spec of the next tensor to supply, nil when all are done.
    public var nextTensor: TensorSpec? { next < order.count ? order[next] : nil }

    /// Supplies the next tensor, which must be `name`; `produce` writes its bytes through the stream.
    public func writeTensor(_ name: String, _ produce: (TensorByteStream) throws -> Void) throws {
        guard next < order.count, order[next].name == name else {
            throw SafeTensorsError.writerMisuse("expected tensor '\(nextTensor?.name ?? "<none>")' but got '\(name)'")
        }
        let range = offsets[next]
        let stream = TensorByteStream(sink: sink, expected: range.count)
        try produce(stream)
        guard stream.written == range.count else {
            throw SafeTensorsError.writerMisuse("tensor '\(name)': \(stream.written) bytes supplied, \(range.count) expected")
        }
        next += 1
    }

    /// Flushes and closes the file (fsynced unless `sync` is false, for files an
    /// `AtomicOutputDirectory` fsyncs at commit); every tensor must have been supplied.
    public func finish(sync: Bool = true) throws(SafeTensorsError) {
        guard next == order.count else {
            throw .writerMisuse("finish() with \(order.count - next) tensors not written (next: '\(order[next].name)')")
        }
        try fileOperation { () throws(FileError) in try sink.close(sync: sync) }
    }
}

/// Where a tensor's bytes go; counts them so the writer can check the total.
public final class TensorByteStream {
    let sink: FileSink
    /// Bytes this tensor needs in all.
    public let expected: Int
    /// Bytes written so far.
    public private(set) var written = 0

    init(sink: FileSink, expected: Int) {
        self.sink = sink
        self.expected = expected
    }

    private func check(_ n: Int) throws(SafeTensorsError) {
        guard written + n <= expected else {
            throw .writerMisuse("\(written + n) bytes written for a tensor of \(expected) bytes")
        }
    }

    /// Appends raw bytes.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(SafeTensorsError) {
        try check(bytes.count)
        try fileOperation { () throws(FileError) in try sink.write(bytes) }
        written += bytes.count
    }

    /// Appends `count` bytes of file `fd` from `offset` (kernel copy when possible).
    public func copy(fromFD fd: Int32, offset: Int, count: Int) throws(SafeTensorsError) {
        try check(count)
        try fileOperation { () throws(FileError) in try sink.copy(from: fd, offset: offset, count: count) }
        written += count
    }

    /// Lets `fill` write up to `max` bytes straight into the output buffer; it returns the count.
    /// Use it to convert or generate data without an intermediate copy.
    public func fill(max: Int, _ fill: (UnsafeMutableRawPointer, Int) -> Int) throws(SafeTensorsError) {
        try check(0)
        let limit = Swift.min(max, expected - written)
        var produced = 0
        try fileOperation { () throws(FileError) in
            try sink.withFreeSpace(max: limit) { p, cap in
                produced = fill(p, cap)
                return produced
            }
        }
        written += produced
    }
}
