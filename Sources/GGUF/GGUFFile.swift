import SafeTensors

/// One tensor's entry in a GGUF file.
public struct GGUFTensorInfo: Equatable, Sendable {
    /// The tensor's GGUF name (e.g. `blk.0.attn_q.weight`).
    public let name: String
    /// GGML dimension order: `dimensions[0]` is the contiguous (row) length.
    public let dimensions: [Int]
    /// The storage type: a float type or a quantisation block format.
    public let type: GGMLType
    /// Offset of the data from the start of the data section.
    public let offset: Int
    /// Size of the data in bytes.
    public let byteCount: Int

    /// The shape in row-major (PyTorch / safetensors) order: the dimensions reversed.
    public var shape: [Int] { dimensions.reversed() }
    /// Number of elements.
    public var elementCount: Int { dimensions.reduce(1, *) }
}

/// The parsed, fully validated header of a GGUF file: metadata, tensor table, data start.
public struct GGUFHeader: Sendable {
    /// File format version (2 or 3).
    public let version: UInt32
    /// Metadata in file order.
    public let metadata: [(key: String, value: GGUFValue)]
    /// Tensors in file order.
    public let tensors: [GGUFTensorInfo]
    /// Alignment of tensor data (`general.alignment`, default 32).
    public let alignment: Int
    /// Byte offset of the data section.
    public let dataStart: Int
    private let index: [String: Int]
    private let tensorIndex: [String: Int]

    /// Looks up a metadata value.
    public subscript(key: String) -> GGUFValue? { index[key].map { metadata[$0].value } }
    /// Looks up a tensor.
    public func tensor(_ name: String) -> GGUFTensorInfo? { tensorIndex[name].map { tensors[$0] } }

    /// Upper bound on any count read from a header (keeps allocation bounded on hostile input).
    static let maxDimensions = 4

    /// Parses and validates the header of `file` (the whole file's bytes); `path` names it in errors.
    ///
    /// Every count, length, type code and offset is checked before use: strings and arrays must fit
    /// in the remaining bytes, tensor data must be aligned, inside the file and not overlapping.
    public static func parse(file: UnsafeRawBufferPointer, path: String) throws(GGUFError) -> GGUFHeader {
        var r = ByteReader(bytes: file, path: path)
        guard file.count >= 4 else { throw .truncated(path: path, offset: 0, needed: 4, field: "the magic 'GGUF'") }
        let magic = Array(file[0..<4])
        guard magic == [0x47, 0x47, 0x55, 0x46] else { throw .badMagic(path: path, found: magic) }
        r.offset = 4
        let version = try r.u32("the version")
        guard version == 2 || version == 3 else { throw .unsupportedVersion(path: path, version: version) }
        let tensorCount = try r.u64("the tensor count")
        let kvCount = try r.u64("the metadata count")
        // A metadata entry takes at least 8 + 4 + 1 bytes, a tensor entry at least 8 + 4 + 8 + 4 + 8.
        let kvLimit = r.remaining / 13
        guard kvCount <= UInt64(kvLimit) else { throw .countTooLarge(path: path, field: "metadata count", count: kvCount, limit: kvLimit) }
        var metadata: [(key: String, value: GGUFValue)] = []
        var index: [String: Int] = [:]
        for _ in 0..<Int(kvCount) {
            let key = try r.string("a metadata key")
            guard index[key] == nil else { throw .duplicateKey(path: path, key: key) }
            let code = try r.u32("the type of metadata '\(key)'")
            guard let type = GGUFValueType(rawValue: code) else { throw .unknownValueType(path: path, key: key, code: code) }
            let value = try r.value(type, key: key, depth: 0)
            index[key] = metadata.count
            metadata.append((key, value))
        }
        var alignment = 32
        if let a = index["general.alignment"].map({ metadata[$0].value }) {
            guard case .uint32(let v) = a else { throw .invalidMetadata(path: path, key: "general.alignment", reason: "expected uint32, found \(a.kindName)") }
            guard v > 0, v & (v - 1) == 0 else { throw .invalidMetadata(path: path, key: "general.alignment", reason: "\(v) is not a power of two") }
            alignment = Int(v)
        }
        guard tensorCount <= UInt64(r.remaining / 32) else {
            throw .countTooLarge(path: path, field: "tensor count", count: tensorCount, limit: r.remaining / 32)
        }
        var tensors: [GGUFTensorInfo] = []
        var tensorIndex: [String: Int] = [:]
        for _ in 0..<Int(tensorCount) {
            let name = try r.string("a tensor name")
            guard tensorIndex[name] == nil else { throw .duplicateTensor(path: path, tensor: name) }
            let nd = try r.u32("the dimension count of tensor '\(name)'")
            guard nd >= 1, nd <= UInt32(maxDimensions) else {
                throw .invalidShape(path: path, tensor: name, reason: "\(nd) dimensions (GGUF allows 1 to \(maxDimensions))")
            }
            var dims: [Int] = []
            var count = 1
            for _ in 0..<Int(nd) {
                let d = try r.u64("a dimension of tensor '\(name)'")
                guard d >= 1, d <= UInt64(Int.max) else { throw .invalidShape(path: path, tensor: name, reason: "dimension \(d)") }
                let (p, o) = count.multipliedReportingOverflow(by: Int(d))
                guard !o else { throw .invalidShape(path: path, tensor: name, reason: "the element count overflows") }
                count = p
                dims.append(Int(d))
            }
            let code = try r.u32("the type of tensor '\(name)'")
            guard let type = GGMLType(rawValue: code) else { throw .unknownTensorType(path: path, tensor: name, code: code) }
            let block = type.blockLayout.elements
            guard dims[0] % block == 0 else {
                throw .rowNotBlockMultiple(path: path, tensor: name, rowLength: dims[0], blockSize: block, type: type.name)
            }
            guard let bytes = type.byteCount(elements: count) else { throw .invalidShape(path: path, tensor: name, reason: "the byte size overflows") }
            let offset = try r.u64("the data offset of tensor '\(name)'")
            guard offset % UInt64(alignment) == 0 else { throw .misalignedTensor(path: path, tensor: name, offset: offset, alignment: alignment) }
            guard offset <= UInt64(Int.max) - UInt64(bytes) else { throw .tensorPastEnd(path: path, tensor: name, end: UInt64.max, fileSize: file.count) }
            tensorIndex[name] = tensors.count
            tensors.append(GGUFTensorInfo(name: name, dimensions: dims, type: type, offset: Int(offset), byteCount: bytes))
        }
        let (padded, o) = r.offset.addingReportingOverflow(alignment - 1)
        guard !o else { throw .truncated(path: path, offset: r.offset, needed: alignment, field: "the data section") }
        let dataStart = padded / alignment * alignment
        // Bounds and overlaps, in offset order.
        for t in tensors where dataStart + t.offset + t.byteCount > file.count {
            throw .tensorPastEnd(path: path, tensor: t.name, end: UInt64(dataStart + t.offset + t.byteCount), fileSize: file.count)
        }
        let sorted = tensors.sorted { ($0.offset, $0.name) < ($1.offset, $1.name) }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.offset + a.byteCount > b.offset {
            throw .overlappingTensors(path: path, first: a.name, second: b.name)
        }
        return GGUFHeader(
            version: version, metadata: metadata, tensors: tensors, alignment: alignment, dataStart: dataStart,
            index: index, tensorIndex: tensorIndex)
    }
}

/// A GGUF file, memory-mapped, with its validated header.
public final class GGUFFile: @unchecked Sendable {
    /// The file as given.
    public let path: String
    /// Metadata, tensor table and data start, validated when the file was opened.
    public let header: GGUFHeader
    private let file: MappedFile

    /// Opens and validates `path`.
    public init(path: String) throws(GGUFError) {
        self.path = path
        do { file = try MappedFile(path: path) } catch {
            if case .cannotOpen(_, let reason) = error { throw .cannotOpen(path: path, reason: reason) }
            throw .cannotOpen(path: path, reason: error.description)
        }
        header = try GGUFHeader.parse(file: file.bytes, path: path)
    }

    /// The raw bytes of a tensor (valid while this object is alive).
    public func data(_ t: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: file.bytes[(header.dataStart + t.offset)..<(header.dataStart + t.offset + t.byteCount)])
    }

    /// A tensor dequantised to Float32, in row-major order (`t.shape`).
    public func floats(_ name: String) throws(GGUFError) -> [Float] {
        guard let t = header.tensor(name) else { throw .noSuchTensor(path: path, tensor: name) }
        guard let out = GGUFDequantizer.dequantize(data(t), type: t.type, count: t.elementCount) else {
            throw .unsupportedTensorType(path: path, tensor: name, type: t.type.name)
        }
        return out
    }

    /// Tells the kernel a tensor's pages are no longer needed.
    public func release(_ t: GGUFTensorInfo) {
        file.dropPages((header.dataStart + t.offset)..<(header.dataStart + t.offset + t.byteCount))
    }
}

/// A bounds-checked little-endian cursor.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    let path: String
    var offset = 0
    var remaining: Int { bytes.count - offset }

    mutating func take(_ n: Int, _ field: @autoclosure () -> String) throws(GGUFError) -> Int {
        guard n >= 0, n <= remaining else { throw .truncated(path: path, offset: offset, needed: n, field: field()) }
        defer { offset += n }
        return offset
    }
    mutating func u32(_ field: @autoclosure () -> String) throws(GGUFError) -> UInt32 {
        let o = try take(4, field())
        return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: o, as: UInt32.self))
    }
    mutating func u64(_ field: @autoclosure () -> String) throws(GGUFError) -> UInt64 {
        let o = try take(8, field())
        return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: o, as: UInt64.self))
    }
    mutating func string(_ field: @autoclosure () -> String) throws(GGUFError) -> String {
        let n = try u64("the length of \(field())")
        guard n <= UInt64(remaining) else { throw .truncated(path: path, offset: offset, needed: Int(clamping: n), field: field()) }
        let o = try take(Int(n), field())
        guard let s = String(validating: bytes[o..<(o + Int(n))], as: UTF8.self) else { throw .invalidString(path: path, field: field()) }
        return s
    }

    mutating func value(_ type: GGUFValueType, key: String, depth: Int) throws(GGUFError) -> GGUFValue {
        let field = "the value of metadata '\(key)'"
        switch type {
        case .uint8: let o = try take(1, field); return .uint8(bytes[o])
        case .int8: let o = try take(1, field); return .int8(Int8(bitPattern: bytes[o]))
        case .bool:
            let o = try take(1, field)
            guard bytes[o] <= 1 else { throw .invalidMetadata(path: path, key: key, reason: "bool byte is \(bytes[o]), not 0 or 1") }
            return .bool(bytes[o] == 1)
        case .uint16: let o = try take(2, field); return .uint16(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: o, as: UInt16.self)))
        case .int16: let o = try take(2, field); return .int16(Int16(littleEndian: bytes.loadUnaligned(fromByteOffset: o, as: Int16.self)))
        case .uint32: return .uint32(try u32(field))
        case .int32: return .int32(Int32(bitPattern: try u32(field)))
        case .float32: return .float32(Float(bitPattern: try u32(field)))
        case .uint64: return .uint64(try u64(field))
        case .int64: return .int64(Int64(bitPattern: try u64(field)))
        case .float64: return .float64(Double(bitPattern: try u64(field)))
        case .string: return .string(try string(field))
        case .array:
            guard depth < 2 else { throw .nestingTooDeep(path: path, key: key) }
            let code = try u32("the element type of metadata '\(key)'")
            guard let et = GGUFValueType(rawValue: code) else { throw .unknownValueType(path: path, key: key, code: code) }
            let count = try u64("the length of metadata '\(key)'")
            let minSize = et.scalarSize ?? (et == .string ? 8 : 12)
            let limit = remaining / minSize
            guard count <= UInt64(limit) else { throw .countTooLarge(path: path, field: "length of metadata '\(key)'", count: count, limit: limit) }
            var out: [GGUFValue] = []
            out.reserveCapacity(Int(count))
            for _ in 0..<Int(count) { out.append(try value(et, key: key, depth: depth + 1)) }
            return .array(et, out)
        }
    }
}
