/// Every way lep refuses a GGUF file or a GGUF output; each case names the file and the culprit.
public enum GGUFError: Error, Equatable, Sendable {
    /// The file cannot be opened, mapped or written.
    case cannotOpen(path: String, reason: String)
    /// The first four bytes are not `GGUF`.
    case badMagic(path: String, found: [UInt8])
    /// A GGUF version lep does not read (1 is obsolete; 2 and 3 are read).
    case unsupportedVersion(path: String, version: UInt32)
    /// The file ends inside a field.
    case truncated(path: String, offset: Int, needed: Int, field: String)
    /// A count (tensors, metadata entries, array elements) cannot fit in the file.
    case countTooLarge(path: String, field: String, count: UInt64, limit: Int)
    /// A string is not valid UTF-8.
    case invalidString(path: String, field: String)
    /// A metadata value type code is unknown.
    case unknownValueType(path: String, key: String, code: UInt32)
    /// Arrays nested deeper than GGUF allows.
    case nestingTooDeep(path: String, key: String)
    /// A metadata key appears twice.
    case duplicateKey(path: String, key: String)
    /// A metadata value has the wrong type or an invalid value.
    case invalidMetadata(path: String, key: String, reason: String)
    /// A tensor name appears twice.
    case duplicateTensor(path: String, tensor: String)
    /// A tensor has no dimensions, too many, or a zero dimension; or its element count overflows.
    case invalidShape(path: String, tensor: String, reason: String)
    /// A tensor's type code is not a GGML type lep knows.
    case unknownTensorType(path: String, tensor: String, code: UInt32)
    /// A tensor's type is known but lep cannot dequantise it.
    case unsupportedTensorType(path: String, tensor: String, type: String)
    /// A row length that is not a multiple of the type's block size.
    case rowNotBlockMultiple(path: String, tensor: String, rowLength: Int, blockSize: Int, type: String)
    /// A tensor offset that is not a multiple of the alignment.
    case misalignedTensor(path: String, tensor: String, offset: UInt64, alignment: Int)
    /// Tensor data that runs past the end of the file.
    case tensorPastEnd(path: String, tensor: String, end: UInt64, fileSize: Int)
    /// Two tensors whose data overlap.
    case overlappingTensors(path: String, first: String, second: String)
    /// A tensor was requested that the file does not hold.
    case noSuchTensor(path: String, tensor: String)
    /// A conversion from or to GGUF cannot be done (a missing key, an unsupported architecture...).
    case conversion(path: String, reason: String)
    /// The caller broke the writer's contract.
    case writerMisuse(String)
}

extension GGUFError: CustomStringConvertible {
    /// The message shown to the user: the file, the problem and, where there is one, the fix.
    public var description: String {
        switch self {
        case .cannotOpen(let p, let r): "\(p): cannot open: \(r)"
        case .badMagic(let p, let f): "\(p): not a GGUF file (starts with \(f.map { String($0, radix: 16) }.joined(separator: " ")), expected 47 47 55 46 'GGUF')"
        case .unsupportedVersion(let p, let v): "\(p): GGUF version \(v) is not supported (lep reads versions 2 and 3; re-convert the model with a current llama.cpp)"
        case .truncated(let p, let o, let n, let f): "\(p): file ends inside \(f) (needs \(n) bytes at offset \(o)); the file is truncated or corrupt"
        case .countTooLarge(let p, let f, let c, let l): "\(p): \(f) \(c) cannot fit in the file (at most \(l)); the file is corrupt"
        case .invalidString(let p, let f): "\(p): \(f) is not valid UTF-8"
        case .unknownValueType(let p, let k, let c): "\(p): metadata '\(k)' has unknown value type \(c)"
        case .nestingTooDeep(let p, let k): "\(p): metadata '\(k)' nests arrays too deeply"
        case .duplicateKey(let p, let k): "\(p): metadata key '\(k)' appears twice"
        case .invalidMetadata(let p, let k, let r): "\(p): metadata '\(k)': \(r)"
        case .duplicateTensor(let p, let t): "\(p): tensor '\(t)' appears twice"
        case .invalidShape(let p, let t, let r): "\(p): tensor '\(t)': invalid shape: \(r)"
        case .unknownTensorType(let p, let t, let c): "\(p): tensor '\(t)' has unknown GGML type code \(c)"
        case .unsupportedTensorType(let p, let t, let ty):
            "\(p): tensor '\(t)' has type \(ty), which lep cannot dequantise (supported: \(GGMLType.dequantizable.map(\.name).joined(separator: ", "))); re-quantise the model to one of these with llama-quantize"
        case .rowNotBlockMultiple(let p, let t, let r, let b, let ty): "\(p): tensor '\(t)': row length \(r) is not a multiple of the \(ty) block size \(b)"
        case .misalignedTensor(let p, let t, let o, let a): "\(p): tensor '\(t)': data offset \(o) is not a multiple of the alignment \(a)"
        case .tensorPastEnd(let p, let t, let e, let s): "\(p): tensor '\(t)' ends at byte \(e) but the file has \(s) bytes; the file is truncated"
        case .overlappingTensors(let p, let a, let b): "\(p): the data of tensors '\(a)' and '\(b)' overlap"
        case .noSuchTensor(let p, let t): "\(p): no tensor named '\(t)'"
        case .conversion(let p, let r): "\(p): \(r)"
        case .writerMisuse(let m): "internal GGUF writer error: \(m)"
        }
    }
}
