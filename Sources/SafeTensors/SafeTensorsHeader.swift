import LEPJSON

/// A fully validated safetensors header.
///
/// `parse` checks everything the reference reader checks, and more, before any tensor is used:
/// length field, UTF-8, strict JSON (no duplicate keys), the type of every field, dtype names, shapes
/// (non-negative integers), offsets (two non-negative integers, begin ≤ end), shape × dtype size, and
/// that the tensors tile the data buffer exactly, in order, with no gap, overlap or trailing byte.
public struct SafeTensorsHeader: Equatable, Sendable {
    /// The reference reader's limit on the header length.
    public static let maxHeaderLength: UInt64 = 100_000_000

    /// Tensors in file (data offset) order.
    public let tensors: [TensorInfo]
    /// `__metadata__` entries, sorted by key.
    public let metadata: [String: String]
    /// Header length N as stored (the JSON occupies bytes 8..<8+N).
    public let headerLength: Int

    /// Byte offset of the data buffer in the file.
    public var dataStart: Int { 8 + headerLength }

    /// Parses and validates the header of a safetensors file whose complete contents are `file`.
    /// `path` is only used in error messages.
    public static func parse(file: UnsafeRawBufferPointer, path: String) throws(SafeTensorsError) -> SafeTensorsHeader {
        let fileSize = file.count
        guard fileSize >= 8 else { throw .fileTooSmall(path: path, size: fileSize) }
        var n: UInt64 = 0
        for i in 0..<8 { n |= UInt64(file[i]) << (8 * UInt64(i)) }
        guard n <= maxHeaderLength else { throw .headerTooLarge(path: path, length: n) }
        guard n <= UInt64(fileSize - 8) else { throw .headerLengthPastEnd(path: path, length: n, fileSize: fileSize) }
        let headerLength = Int(n)
        let json = UnsafeRawBufferPointer(rebasing: file[8..<(8 + headerLength)])
        guard String(validating: json, as: UTF8.self) != nil else { throw .headerNotUTF8(path: path) }
        let root: JSONValue
        do {
            root = try JSONParser.parse(json, duplicateKeys: .reject)
        } catch {
            // A duplicate key at the top level is a duplicate tensor name.
            if let dup = error.duplicateKey, dup.depth == 1 { throw .duplicateTensor(path: path, tensor: dup.key) }
            throw .headerNotJSON(path: path, detail: error.description)
        }
        guard case .object(let object) = root else { throw .headerNotObject(path: path) }

        var metadata: [String: String] = [:]
        var tensors: [TensorInfo] = []
        tensors.reserveCapacity(object.count)
        for (name, value) in object.members {
            if name == "__metadata__" {
                guard case .object(let meta) = value else { throw .metadataNotObject(path: path) }
                for (k, v) in meta.members {
                    guard case .string(let s) = v else { throw .metadataValueNotString(path: path, key: k) }
                    metadata[k] = s
                }
                continue
            }
            tensors.append(try parseEntry(name: name, value: value, path: path))
        }

        // The data must tile the buffer exactly, in offset order.
        let bufferSize = fileSize - 8 - headerLength
        tensors.sort { ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound) < ($1.dataOffsets.lowerBound, $1.dataOffsets.upperBound) }
        var end = 0
        for t in tensors {
            guard t.dataOffsets.lowerBound == end else {
                throw .offsetsNotContiguous(path: path, tensor: t.name, expectedBegin: end, begin: t.dataOffsets.lowerBound)
            }
            guard t.dataOffsets.upperBound <= bufferSize else {
                throw .dataPastEnd(path: path, tensor: t.name, end: t.dataOffsets.upperBound, bufferSize: bufferSize)
            }
            end = t.dataOffsets.upperBound
        }
        guard end == bufferSize else { throw .trailingBytes(path: path, dataEnd: end, bufferSize: bufferSize) }
        return SafeTensorsHeader(tensors: tensors, metadata: metadata, headerLength: headerLength)
    }

    private static func parseEntry(name: String, value: JSONValue, path: String) throws(SafeTensorsError) -> TensorInfo {
        guard case .object(let entry) = value else { throw .tensorEntryNotObject(path: path, tensor: name) }
        for key in entry.keys where key != "dtype" && key != "shape" && key != "data_offsets" {
            throw .unexpectedField(path: path, tensor: name, field: key)
        }
        guard let dtypeValue = entry["dtype"] else { throw .missingField(path: path, tensor: name, field: "dtype") }
        guard case .string(let dtypeName) = dtypeValue else { throw .dtypeNotString(path: path, tensor: name) }
        guard let dtype = DType(rawValue: dtypeName) else { throw .unknownDType(path: path, tensor: name, dtype: dtypeName) }

        guard let shapeValue = entry["shape"] else { throw .missingField(path: path, tensor: name, field: "shape") }
        guard case .array(let dims) = shapeValue else { throw .invalidShape(path: path, tensor: name, reason: "not an array") }
        var shape: [Int] = []
        shape.reserveCapacity(dims.count)
        for d in dims {
            shape.append(try nonNegativeInt(d) { r throws(SafeTensorsError) in .invalidShape(path: path, tensor: name, reason: r) })
        }

        guard let offsetsValue = entry["data_offsets"] else { throw .missingField(path: path, tensor: name, field: "data_offsets") }
        guard case .array(let offs) = offsetsValue else { throw .invalidOffsets(path: path, tensor: name, reason: "not an array") }
        guard offs.count == 2 else { throw .invalidOffsets(path: path, tensor: name, reason: "\(offs.count) entries, expected [begin, end]") }
        let begin = try nonNegativeInt(offs[0]) { r throws(SafeTensorsError) in .invalidOffsets(path: path, tensor: name, reason: r) }
        let end = try nonNegativeInt(offs[1]) { r throws(SafeTensorsError) in .invalidOffsets(path: path, tensor: name, reason: r) }
        guard begin <= end else { throw .offsetsReversed(path: path, tensor: name, begin: begin, end: end) }

        var elements = 1
        for d in shape {
            let (p, o) = elements.multipliedReportingOverflow(by: d)
            guard !o else { throw .sizeOverflow(path: path, tensor: name) }
            elements = p
        }
        guard let bytes = dtype.byteCount(elements: elements) else { throw .sizeOverflow(path: path, tensor: name) }
        guard bytes == end - begin else { throw .sizeMismatch(path: path, tensor: name, expected: bytes, actual: end - begin) }
        return TensorInfo(name: name, dtype: dtype, shape: shape, dataOffsets: begin..<end)
    }

    private static func nonNegativeInt(_ v: JSONValue, _ fail: (String) throws(SafeTensorsError) -> SafeTensorsError) throws(SafeTensorsError) -> Int {
        guard case .number(let n) = v else { throw try fail("\(v.kindName) where a non-negative integer was expected") }
        guard n.isIntegerLiteral else { throw try fail("\(n.text) is not an integer") }
        guard !n.text.hasPrefix("-") else { throw try fail("\(n.text) is negative") }
        guard let u = UInt64(n.text), u <= UInt64(Int.max) else { throw try fail("\(n.text) is too large") }
        return Int(u)
    }
}
