import CZstd
import LEPJSON
import Models
import Recipes
import SafeTensors
import Support
import Surgery
import TensorMath

#if canImport(Glibc)
import Glibc
#endif

/// Task vectors (δ = tuned − base) stored compactly: `lep diff` writes one, `lep apply` adds it back.
///
/// A task-vector directory holds `task_vector.json` (format, version, provenance of both models, one
/// entry per tensor: name, dtype, shape, byte offset and length in the blob, kept elements) and
/// `task_vector.zst`: one independent zstd frame per tensor, whose content is the tensor's little-
/// endian bytes split into byte planes (all first bytes, then all second bytes, …), which makes
/// bf16/f32 deltas compress far better. The tuned model's config and tokenizer files are carried too.
public enum TaskVector {
    /// The manifest file of a task vector folder.
    public static let manifestName = "task_vector.json"
    /// The zstd blob holding every δ.
    public static let blobName = "task_vector.zst"
    /// The manifest's `format`.
    public static let format = "lep-task-vector"
    /// The manifest's format version.
    public static let version = 1

    /// Options of `diff`.
    public struct DiffOptions: Sendable {
        /// Keep only the largest ⌊density·n⌋ |δ| per tensor (1 = keep all).
        public var density: Double = 1
        /// Storage dtype of δ (nil: the tuned model's dtype). F32 makes `apply` exact.
        public var dtype: DType?
        /// zstd level.
        public var level: Int32 = 3
        /// Replace an existing output.
        public var force = false
        /// Recorded in the manifest.
        public var toolVersion = "unknown"
        /// Defaults.
        public init() {}
    }

    /// What `diff` wrote.
    public struct DiffSummary: Sendable {
        /// Tensors stored.
        public let tensors: Int
        /// Uncompressed bytes of δ in its storage dtype.
        public let rawBytes: Int
        /// Bytes of the zstd blob.
        public let compressedBytes: Int
        /// Bytes of the tuned model's tensors.
        public let tunedBytes: Int
        /// Tuned model bytes per blob byte.
        public var ratio: Double { compressedBytes > 0 ? Double(tunedBytes) / Double(compressedBytes) : 0 }
    }

    /// Writes `tuned − base` to `output`.
    public static func diff(base basePath: String, tuned tunedPath: String, output path: String, options: DiffOptions, progress: ((Int, Int) -> Void)? = nil) throws -> DiffSummary {
        guard options.density > 0, options.density <= 1 else { throw SurgeryError.invalidOption(option: "density", reason: "must be in (0, 1]") }
        let base = try ModelSource(ref: .init(path: basePath, adapter: nil, written: basePath), role: "BASE")
        let tuned = try ModelSource(ref: .init(path: tunedPath, adapter: nil, written: tunedPath), role: "TUNED")
        let names = tuned.checkpoint.tensorNames
        for n in names where !base.checkpoint.contains(n) { throw SurgeryError.missingTensor(tensor: n, model: base.label) }
        for n in base.checkpoint.tensorNames where !tuned.checkpoint.contains(n) { throw SurgeryError.missingTensor(tensor: n, model: tuned.label) }
        for n in names {
            let a = try base.checkpoint.info(n), b = try tuned.checkpoint.info(n)
            guard a.shape == b.shape else { throw SurgeryError.shapeMismatch(tensor: n, model: tuned.label, shape: b.shape, expected: a.shape) }
            guard b.dtype.isStandardFloat, a.dtype.isStandardFloat else { throw SurgeryError.unsupportedDType(tensor: n, model: tuned.label, dtype: b.dtype.rawValue) }
        }
        let output = try AtomicOutputDirectory(target: path, force: options.force, inputs: [basePath, tunedPath])
        let blob = try RawFile(path: output.path(blobName))
        var entries: [JSONValue] = []
        var raw = 0, tunedBytes = 0, offset = 0
        let total = tuned.checkpoint.totalDataBytes
        for n in names {
            let info = try tuned.checkpoint.info(n)
            tunedBytes += info.byteCount
            let count = info.elementCount
            let d = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
            let b = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
            defer { d.deallocate(); b.deallocate() }
            try tuned.load(n, into: d, through: nil)
            try base.load(n, into: b, through: nil)
            Kernels.forEachChunk(count) { r in for k in r { d[k] -= b[k] } }
            if options.density < 1 { Sparsify.magnitude(d, density: options.density, rescale: false) }
            let kept = Kernels.mapChunks(count, initial: 0) { r in
                var c = 0; for k in r where d[k] != 0 { c += 1 }; return c
            }.reduce(0, +)
            let dtype = options.dtype ?? info.dtype
            let frame = try compress(d, as: dtype, level: options.level, name: n)
            try blob.write(frame)
            raw += dtype.byteCount(elements: count) ?? 0
            entries.append(
                .object(
                    JSONObject([
                        ("name", .string(n)), ("dtype", .string(dtype.rawValue)), ("shape", .array(info.shape.map { .number(JSONNumber($0)) })),
                        ("offset", .number(JSONNumber(offset))), ("bytes", .number(JSONNumber(frame.count))), ("kept", .number(JSONNumber(kept)))
                    ])))
            offset += frame.count
            progress?(tunedBytes, total)
        }
        try blob.close()
        let manifest = JSONObject([
            ("format", .string(format)), ("version", .number(JSONNumber(version))),
            ("tool", .string("lep \(options.toolVersion)")),
            ("density", .number(JSONNumber(options.density))),
            ("base_header_sha256", .array(base.headerHashes().map { .string($0.sha256) })),
            ("tuned_header_sha256", .array(tuned.headerHashes().map { .string($0.sha256) })),
            ("raw_bytes", .number(JSONNumber(raw))), ("compressed_bytes", .number(JSONNumber(offset))),
            ("tensors", .array(entries))
        ])
        try output.writeFile(manifestName, contents: Array((JSONWriter.pretty(.object(manifest)) + "\n").utf8))
        try ModelDirectory.carryFiles(from: tuned.checkpoint.directory, into: output, except: [manifestName, blobName])
        try output.commit()
        return DiffSummary(tensors: names.count, rawBytes: raw, compressedBytes: offset, tunedBytes: tunedBytes)
    }

    /// Options of `apply`.
    public struct ApplyOptions: Sendable {
        /// The factor on δ: BASE + scale·δ.
        public var scale: Double = 1
        /// Largest output shard in bytes; nil writes one file.
        public var maxShardBytes: Int? = 5_000_000_000
        /// Replace an existing output.
        public var force = false
        /// Defaults.
        public init() {}
    }

    /// Writes `base + scale·δ` to `output` in the base's dtypes, with the base's config and tokenizer.
    public static func apply(base basePath: String, delta deltaPath: String, output path: String, options: ApplyOptions, progress: ((Int, Int) -> Void)? = nil) throws -> Int {
        let base = try ModelSource(ref: .init(path: basePath, adapter: nil, written: basePath), role: "BASE")
        guard let mbytes = WholeFile.bytes(deltaPath + "/" + manifestName) else {
            throw SurgeryError.invalidDelta(path: deltaPath, reason: "no \(manifestName) (made by 'lep diff'?)")
        }
        guard let manifest = (try? JSONParser.parse(mbytes))?.object, manifest["format"]?.string == format else {
            throw SurgeryError.invalidDelta(path: deltaPath, reason: "\(manifestName) is not a \(format) manifest")
        }
        guard manifest["version"]?.number?.int64 == Int64(version) else {
            throw SurgeryError.invalidDelta(path: deltaPath, reason: "version \(manifest["version"].map { JSONWriter.compact($0) } ?? "?") is not \(version)")
        }
        let blob = try MappedFile(path: deltaPath + "/" + blobName)
        struct Entry { let name: String; let dtype: DType; let shape: [Int]; let offset: Int; let bytes: Int }
        var entries: [String: Entry] = [:]
        for (i, e) in (manifest["tensors"]?.array ?? []).enumerated() {
            guard let name = e["name"]?.string, let ds = e["dtype"]?.string, let dtype = DType(rawValue: ds), dtype.isStandardFloat,
                let shape = e["shape"]?.array?.compactMap({ $0.number?.int64.map(Int.init) }),
                let off = e["offset"]?.number?.int64, let len = e["bytes"]?.number?.int64,
                off >= 0, len >= 0, Int(off + len) <= blob.size
            else {
                throw SurgeryError.invalidDelta(path: deltaPath, reason: "tensors[\(i)] is malformed or points outside \(blobName)")
            }
            entries[name] = Entry(name: name, dtype: dtype, shape: shape, offset: Int(off), bytes: Int(len))
        }
        for n in base.checkpoint.tensorNames where entries[n] == nil { throw SurgeryError.missingTensor(tensor: n, model: "task vector \(deltaPath)") }
        for n in entries.keys.sorted() where !base.checkpoint.contains(n) { throw SurgeryError.missingTensor(tensor: n, model: base.label) }
        var specs: [TensorSpec] = []
        for n in base.checkpoint.tensorNames {
            let info = try base.checkpoint.info(n)
            guard entries[n]!.shape == info.shape else {
                throw SurgeryError.shapeMismatch(tensor: n, model: "task vector \(deltaPath)", shape: entries[n]!.shape, expected: info.shape)
            }
            specs.append(TensorSpec(name: n, dtype: info.dtype, shape: info.shape))
        }
        let output = try AtomicOutputDirectory(target: path, force: options.force, inputs: [basePath, deltaPath])
        let writer = try CheckpointWriter(output: output, tensors: specs, maxShardBytes: options.maxShardBytes)
        let scale = Float(options.scale)
        var done = 0
        try writer.writeTensors { spec, stream in
            let e = entries[spec.name]!
            let count = spec.elementCount
            let w = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
            let d = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
            defer { w.deallocate(); d.deallocate() }
            try base.load(spec.name, into: w, through: nil)
            try decompress(UnsafeRawBufferPointer(rebasing: blob.bytes[e.offset..<(e.offset + e.bytes)]), into: d, as: e.dtype, name: spec.name, path: deltaPath)
            Kernels.forEachChunk(count) { r in for k in r { w[k] = scale == 1 ? w[k] + d[k] : w[k] + scale * d[k] } }
            let bad = Kernels.nonFinite(w)
            if bad > 0 { throw SurgeryError.nonFiniteOutput(tensor: spec.name, count: bad) }
            try MergeExecutor.write(w, as: spec.dtype, to: stream)
            done += stream.expected
            progress?(done, writer.totalDataBytes)
        }
        try ModelDirectory.carryFiles(from: base.checkpoint.directory, into: output)
        try output.commit()
        return specs.count
    }

    /// One zstd frame holding `x` stored as `dtype`, byte-plane shuffled.
    static func compress(_ x: UnsafeMutableBufferPointer<Float>, as dtype: DType, level: Int32, name: String) throws(SurgeryError) -> [UInt8] {
        guard let storage = dtype.floatStorage else { throw .unsupportedDType(tensor: name, model: "task vector", dtype: dtype.rawValue) }
        let size = storage.byteSize, n = x.count
        var raw = [UInt8](repeating: 0, count: n * size)
        var planes = [UInt8](repeating: 0, count: n * size)
        raw.withUnsafeMutableBytes { r in
            if n > 0 { ElementConversion.convert(UnsafeRawPointer(x.baseAddress!), from: .f32, to: r.baseAddress!, as: storage, count: n) }
            planes.withUnsafeMutableBytes { p in
                for k in 0..<n { for b in 0..<size { p[b * n + k] = r[k * size + b] } }
            }
        }
        var out = [UInt8](repeating: 0, count: ZSTD_compressBound(planes.count))
        let written = out.withUnsafeMutableBytes { o in planes.withUnsafeBytes { p in ZSTD_compress(o.baseAddress, o.count, p.baseAddress, p.count, level) } }
        if ZSTD_isError(written) != 0 { throw .compression(path: name, reason: String(cString: ZSTD_getErrorName(written))) }
        out.removeLast(out.count - written)
        return out
    }

    /// Decodes one frame into f32.
    static func decompress(_ frame: UnsafeRawBufferPointer, into d: UnsafeMutableBufferPointer<Float>, as dtype: DType, name: String, path: String) throws(SurgeryError) {
        guard let storage = dtype.floatStorage else { throw .invalidDelta(path: path, reason: "\(name): dtype \(dtype.rawValue)") }
        let size = storage.byteSize, n = d.count
        var planes = [UInt8](repeating: 0, count: n * size)
        let got = planes.withUnsafeMutableBytes { p in ZSTD_decompress(p.baseAddress, p.count, frame.baseAddress, frame.count) }
        if ZSTD_isError(got) != 0 { throw .compression(path: path, reason: "\(name): \(String(cString: ZSTD_getErrorName(got)))") }
        guard got == n * size else { throw .invalidDelta(path: path, reason: "\(name): \(got) bytes decoded, \(n * size) expected") }
        var raw = [UInt8](repeating: 0, count: n * size)
        raw.withUnsafeMutableBytes { r in
            planes.withUnsafeBytes { p in for k in 0..<n { for b in 0..<size { r[k * size + b] = p[b * n + k] } } }
            if n > 0 { ElementConversion.convert(UnsafeRawPointer(r.baseAddress!), from: storage, to: UnsafeMutableRawPointer(d.baseAddress!), as: .f32, count: n) }
        }
    }
}

/// A plain output file written with write(2), fsynced on close.
final class RawFile {
    let path: String
    private var fd: Int32
    init(path: String) throws(SurgeryError) {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .output(.writeFailed(path: path, reason: String(cString: strerror(errno)))) }
    }
    deinit { if fd >= 0 { Glibc.close(fd) } }
    func write(_ bytes: [UInt8]) throws(SurgeryError) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 { if errno == EINTR { continue }; throw .output(.writeFailed(path: path, reason: String(cString: strerror(errno)))) }
            done += n
        }
    }
    func close() throws(SurgeryError) {
        if fsync(fd) != 0 || Glibc.close(fd) != 0 { fd = -1; throw .output(.writeFailed(path: path, reason: String(cString: strerror(errno)))) }
        fd = -1
    }
}
