import Support

#if canImport(Glibc)
import Glibc
#endif

/// Writes a GGUF (version 3) file atomically: a hidden temporary sibling, fsync, rename.
///
/// Metadata and the tensor table are laid out as llama.cpp's `GGUFWriter` does: little-endian,
/// strings as u64 length + UTF-8, tensor data aligned to `general.alignment` (32).
public struct GGUFWriter: Sendable {
    /// One planned tensor: name, GGML dimensions (row length first) and type.
    public struct Tensor: Sendable {
        /// The tensor's GGUF name; unique in the file.
        public let name: String
        /// GGML dimensions, row length first: 1 to 4, their product a whole number of `type`'s blocks.
        public let dimensions: [Int]
        /// The storage type of the bytes ``GGUFWriter/write(to:force:data:)`` will be given.
        public let type: GGMLType
        /// A tensor entry; checked when the file is written.
        public init(name: String, dimensions: [Int], type: GGMLType) { self.name = name; self.dimensions = dimensions; self.type = type }
        var byteCount: Int { type.byteCount(elements: dimensions.reduce(1, *)) ?? 0 }
    }

    /// Metadata entries in file order; keys must be unique and array elements of the array's type.
    public var metadata: [(key: String, value: GGUFValue)] = []
    /// The tensor table in file order (the order `data(i)` is asked for).
    public var tensors: [Tensor] = []
    /// Alignment in bytes of the data section and of each tensor's data (GGUF's default, so no
    /// `general.alignment` key is needed).
    public let alignment = 32

    /// An empty file: no metadata, no tensors.
    public init() {}

    /// Appends a metadata entry.
    public mutating func add(_ key: String, _ value: GGUFValue) { metadata.append((key, value)) }

    /// The header bytes (magic through the tensor table, unpadded) and each tensor's offset.
    func headerBytes() throws(GGUFError) -> ([UInt8], [Int]) {
        var b: [UInt8] = []
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { b += $0 } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { b += $0 } }
        func str(_ s: String) { u64(UInt64(s.utf8.count)); b += s.utf8 }
        func value(_ v: GGUFValue) {
            switch v {
            case .uint8(let x): b.append(x)
            case .int8(let x): b.append(UInt8(bitPattern: x))
            case .uint16(let x): withUnsafeBytes(of: x.littleEndian) { b += $0 }
            case .int16(let x): withUnsafeBytes(of: x.littleEndian) { b += $0 }
            case .uint32(let x): u32(x)
            case .int32(let x): u32(UInt32(bitPattern: x))
            case .uint64(let x): u64(x)
            case .int64(let x): u64(UInt64(bitPattern: x))
            case .float32(let x): u32(x.bitPattern)
            case .float64(let x): u64(x.bitPattern)
            case .bool(let x): b.append(x ? 1 : 0)
            case .string(let s): str(s)
            case .array(let t, let a):
                u32(t.rawValue); u64(UInt64(a.count))
                for e in a { value(e) }
            }
        }
        var seen = Set<String>()
        for (k, v) in metadata {
            guard seen.insert(k).inserted else { throw .writerMisuse("metadata key '\(k)' added twice") }
            if case .array(let t, let a) = v, let bad = a.first(where: { $0.type != t }) {
                throw .writerMisuse("metadata '\(k)': array of \(t) holds a \(bad.type)")
            }
        }
        b += [0x47, 0x47, 0x55, 0x46]
        u32(3)
        u64(UInt64(tensors.count))
        u64(UInt64(metadata.count))
        for (k, v) in metadata { str(k); u32(v.type.rawValue); value(v) }
        var offsets: [Int] = []
        var offset = 0
        var names = Set<String>()
        for t in tensors {
            guard names.insert(t.name).inserted else { throw .writerMisuse("tensor '\(t.name)' added twice") }
            guard !t.dimensions.isEmpty, t.dimensions.count <= 4, t.type.byteCount(elements: t.dimensions.reduce(1, *)) != nil else {
                throw .writerMisuse("tensor '\(t.name)': dimensions \(t.dimensions) do not fit \(t.type.name)")
            }
            str(t.name)
            u32(UInt32(t.dimensions.count))
            for d in t.dimensions { u64(UInt64(d)) }
            u32(t.type.rawValue)
            u64(UInt64(offset))
            offsets.append(offset)
            offset += (t.byteCount + alignment - 1) / alignment * alignment
        }
        return (b, offsets)
    }

    /// Writes the file to `path`. `data(i)` returns the bytes of tensor `i` (exactly its size), in order.
    /// An existing `path` is replaced only with `force`.
    public func write(to path: String, force: Bool, data: (Int) throws -> [UInt8]) throws {
        if access(path, F_OK) == 0 && !force { throw FileError.outputExists(path: path) }
        let (header, _) = try headerBytes()
        let slash = path.lastIndex(of: "/")
        let dir = slash.map { String(path[..<$0]) } ?? "."
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let tmp = (dir.isEmpty ? "" : dir + "/") + ".\(base).tmp-\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw GGUFError.cannotOpen(path: tmp, reason: String(cString: strerror(errno))) }
        var ok = false
        defer {
            close(fd)
            if !ok { unlink(tmp) }
        }
        var position = 0
        func put(_ bytes: [UInt8]) throws(GGUFError) {
            var done = 0
            var failure: Int32 = 0
            bytes.withUnsafeBytes { p in
                while done < p.count {
                    let n = Glibc.write(fd, p.baseAddress! + done, p.count - done)
                    if n < 0 {
                        if errno == EINTR { continue }
                        failure = errno
                        return
                    }
                    done += n
                }
            }
            if failure != 0 { throw .cannotOpen(path: path, reason: "write failed: " + String(cString: strerror(failure))) }
            position += bytes.count
        }
        func pad() throws(GGUFError) {
            let r = position % alignment
            if r != 0 { try put([UInt8](repeating: 0, count: alignment - r)) }
        }
        try put(header)
        try pad()
        for (i, t) in tensors.enumerated() {
            let bytes = try data(i)
            guard bytes.count == t.byteCount else { throw GGUFError.writerMisuse("tensor '\(t.name)': \(bytes.count) bytes given, \(t.byteCount) expected") }
            try put(bytes)
            try pad()
        }
        guard fsync(fd) == 0 else { throw GGUFError.cannotOpen(path: path, reason: "fsync failed: " + String(cString: strerror(errno))) }
        guard rename(tmp, path) == 0 else { throw GGUFError.cannotOpen(path: path, reason: "rename failed: " + String(cString: strerror(errno))) }
        ok = true
    }
}
