import Support

/// Every way lep refuses a safetensors file, index, or output; each case names the file and culprit.
public enum SafeTensorsError: Error, Equatable, Sendable {
    // Reading one file.
    /// The file cannot be opened or mapped.
    case cannotOpen(path: String, reason: String)
    /// Shorter than the 8-byte header length.
    case fileTooSmall(path: String, size: Int)
    /// The header length field exceeds the 100,000,000-byte limit.
    case headerTooLarge(path: String, length: UInt64)
    /// The header length field points past the end of the file.
    case headerLengthPastEnd(path: String, length: UInt64, fileSize: Int)
    /// The header is not valid UTF-8.
    case headerNotUTF8(path: String)
    /// The header JSON is not an object.
    case headerNotObject(path: String)
    /// The header is not valid JSON (includes duplicate keys).
    case headerNotJSON(path: String, detail: String)
    /// A tensor name appears twice.
    case duplicateTensor(path: String, tensor: String)
    /// A tensor entry is not a JSON object.
    case tensorEntryNotObject(path: String, tensor: String)
    /// A required field (dtype, shape, data_offsets) is missing.
    case missingField(path: String, tensor: String, field: String)
    /// An unknown field appears in a tensor entry.
    case unexpectedField(path: String, tensor: String, field: String)
    /// The dtype is not a string.
    case dtypeNotString(path: String, tensor: String)
    /// The dtype string is not a safetensors dtype.
    case unknownDType(path: String, tensor: String, dtype: String)
    /// The shape is not an array of non-negative integers.
    case invalidShape(path: String, tensor: String, reason: String)
    /// data_offsets is not an array of two non-negative integers.
    case invalidOffsets(path: String, tensor: String, reason: String)
    /// data_offsets end is before begin.
    case offsetsReversed(path: String, tensor: String, begin: Int, end: Int)
    /// shape × dtype size overflows 64 bits or leaves a partial byte.
    case sizeOverflow(path: String, tensor: String)
    /// shape × dtype size differs from end − begin.
    case sizeMismatch(path: String, tensor: String, expected: Int, actual: Int)
    /// Tensor data does not start where the previous tensor ended (a gap or an overlap).
    case offsetsNotContiguous(path: String, tensor: String, expectedBegin: Int, begin: Int)
    /// Tensor data runs past the end of the file.
    case dataPastEnd(path: String, tensor: String, end: Int, bufferSize: Int)
    /// Bytes follow the last tensor.
    case trailingBytes(path: String, dataEnd: Int, bufferSize: Int)
    /// `__metadata__` is not an object.
    case metadataNotObject(path: String)
    /// A `__metadata__` value is not a string.
    case metadataValueNotString(path: String, key: String)

    // Model directories and sharded indexes.
    /// No model.safetensors nor model.safetensors.index.json in the directory.
    case noCheckpoint(path: String)
    /// The index file is malformed.
    case invalidIndex(path: String, reason: String)
    /// A shard named by the index does not exist.
    case missingShard(index: String, shard: String)
    /// The index lists a tensor that its shard does not contain.
    case tensorMissingFromShard(tensor: String, shard: String)
    /// A shard contains a tensor that the index does not list (or lists under another shard).
    case tensorNotInIndex(tensor: String, shard: String)
    /// The same tensor appears in two shards.
    case tensorInTwoShards(tensor: String, first: String, second: String)
    /// A tensor was requested that the checkpoint does not hold.
    case noSuchTensor(name: String, path: String)

    // Writing.
    /// Writing a file failed (a full disk, permissions...): Support's error, which names the path.
    case file(FileError)
    /// The caller broke the writer's contract (wrong tensor order, wrong byte count, unknown name).
    case writerMisuse(String)
    /// A tensor requested for writing has a shape/dtype problem.
    case invalidTensorSpec(tensor: String, reason: String)
}

extension SafeTensorsError: CustomStringConvertible {
    /// The message shown to the user: the file or tensor, the problem and, where there is one, the fix.
    public var description: String {
        switch self {
        case .cannotOpen(let p, let r): "\(p): cannot open: \(r)"
        case .fileTooSmall(let p, let s): "\(p): file is \(s) bytes, too small for a safetensors header (8-byte length + JSON); is it a safetensors file?"
        case .headerTooLarge(let p, let n): "\(p): header length \(n) exceeds the 100000000-byte limit; the file is corrupt or not safetensors"
        case .headerLengthPastEnd(let p, let n, let s): "\(p): header length \(n) points past the end of the \(s)-byte file; the file is truncated or not safetensors"
        case .headerNotUTF8(let p): "\(p): header is not valid UTF-8"
        case .headerNotObject(let p): "\(p): header is not a JSON object"
        case .headerNotJSON(let p, let d): "\(p): header is not valid JSON: \(d)"
        case .duplicateTensor(let p, let t): "\(p): tensor '\(t)' appears twice in the header"
        case .tensorEntryNotObject(let p, let t): "\(p): header entry for tensor '\(t)' is not an object"
        case .missingField(let p, let t, let f): "\(p): tensor '\(t)' has no '\(f)'"
        case .unexpectedField(let p, let t, let f): "\(p): tensor '\(t)' has an unknown field '\(f)'"
        case .dtypeNotString(let p, let t): "\(p): tensor '\(t)': dtype is not a string"
        case .unknownDType(let p, let t, let d): "\(p): tensor '\(t)': unknown dtype '\(d)' (known: \(DType.allCases.map(\.rawValue).joined(separator: ", ")))"
        case .invalidShape(let p, let t, let r): "\(p): tensor '\(t)': invalid shape: \(r)"
        case .invalidOffsets(let p, let t, let r): "\(p): tensor '\(t)': invalid data_offsets: \(r)"
        case .offsetsReversed(let p, let t, let b, let e): "\(p): tensor '\(t)': data_offsets end \(e) is before begin \(b)"
        case .sizeOverflow(let p, let t): "\(p): tensor '\(t)': shape × dtype size overflows or is not a whole number of bytes"
        case .sizeMismatch(let p, let t, let x, let a): "\(p): tensor '\(t)': shape and dtype need \(x) bytes but data_offsets span \(a)"
        case .offsetsNotContiguous(let p, let t, let x, let b): "\(p): tensor '\(t)' starts at \(b) but the previous tensor ends at \(x) (gap or overlap in data_offsets)"
        case .dataPastEnd(let p, let t, let e, let s): "\(p): tensor '\(t)' ends at \(e) but the data buffer holds \(s) bytes; the file is truncated"
        case .trailingBytes(let p, let e, let s): "\(p): \(s - e) unexpected bytes after the last tensor (data ends at \(e) of \(s))"
        case .metadataNotObject(let p): "\(p): __metadata__ is not an object"
        case .metadataValueNotString(let p, let k): "\(p): __metadata__ value for '\(k)' is not a string"
        case .noCheckpoint(let p): "\(p): no model.safetensors or model.safetensors.index.json here; point lep at a Hugging Face model directory or a .safetensors file"
        case .invalidIndex(let p, let r): "\(p): invalid index: \(r)"
        case .missingShard(let i, let s): "\(i): shard '\(s)' does not exist; download it or fix the index"
        case .tensorMissingFromShard(let t, let s): "\(s): tensor '\(t)' is listed in the index but absent from this shard"
        case .tensorNotInIndex(let t, let s): "\(s): tensor '\(t)' is in this shard but the index does not map it here"
        case .tensorInTwoShards(let t, let a, let b): "tensor '\(t)' is present in two shards: \(a) and \(b)"
        case .noSuchTensor(let n, let p): "\(p): no tensor named '\(n)'"
        case .file(let e): e.description
        case .writerMisuse(let m): "internal writer error: \(m)"
        case .invalidTensorSpec(let t, let r): "tensor '\(t)': \(r)"
        }
    }
}

/// Runs one of Support's file operations, reporting its failure as ``SafeTensorsError/file(_:)``.
@inline(__always)
func fileOperation<T>(_ body: () throws(FileError) -> T) throws(SafeTensorsError) -> T {
    do { return try body() } catch { throw .file(error) }
}
