import LEPJSON

/// Builds safetensors headers exactly as the reference (Rust/Python) writer does.
///
/// Tensors are laid out by dtype (descending rank in the reference dtype enum: U64, I64, F64, C64,
/// F32, U32, I32, BF16, F16, ...), then by name (byte order); the JSON is compact
/// with `__metadata__` first, then the tensors in layout order with keys dtype, shape, data_offsets;
/// the JSON is padded with spaces to a multiple of 8 bytes.
package enum HeaderEncoder {
    /// The reference writer's layout order.
    package static func layoutOrder(_ specs: [TensorSpec]) -> [TensorSpec] {
        specs.sorted { a, b in
            if a.dtype != b.dtype { return a.dtype > b.dtype }
            return a.name.utf8.lexicographicallyPrecedes(b.name.utf8)
        }
    }

    /// Header bytes (length prefix included) and the data offsets of each tensor, for tensors already
    /// in layout order. Metadata keys are written sorted (the reference writer's order is a hash map's).
    package static func encode(_ ordered: [TensorSpec], metadata: [String: String]?) throws(SafeTensorsError) -> (bytes: [UInt8], offsets: [Range<Int>]) {
        var seen = Set<String>()
        var json: [UInt8] = [UInt8(ascii: "{")]
        var first = true
        if let metadata, !metadata.isEmpty {
            json.append(contentsOf: "\"__metadata__\":{".utf8)
            for (i, key) in metadata.keys.sorted().enumerated() {
                if i > 0 { json.append(UInt8(ascii: ",")) }
                JSONWriter.appendString(key, into: &json)
                json.append(UInt8(ascii: ":"))
                JSONWriter.appendString(metadata[key]!, into: &json)
            }
            json.append(UInt8(ascii: "}"))
            first = false
        }
        var offsets: [Range<Int>] = []
        var position = 0
        for spec in ordered {
            guard spec.name != "__metadata__" else { throw .invalidTensorSpec(tensor: spec.name, reason: "reserved name") }
            guard seen.insert(spec.name).inserted else { throw .invalidTensorSpec(tensor: spec.name, reason: "duplicate tensor name") }
            let size = try spec.byteCount()
            if !first { json.append(UInt8(ascii: ",")) }
            first = false
            JSONWriter.appendString(spec.name, into: &json)
            json.append(contentsOf: ":{\"dtype\":\"\(spec.dtype.rawValue)\",\"shape\":[".utf8)
            json.append(contentsOf: spec.shape.map(String.init).joined(separator: ",").utf8)
            json.append(contentsOf: "],\"data_offsets\":[\(position),\(position + size)]}".utf8)
            offsets.append(position..<(position + size))
            position += size
        }
        json.append(UInt8(ascii: "}"))
        let padding = (8 - json.count % 8) % 8
        json.append(contentsOf: repeatElement(UInt8(ascii: " "), count: padding))
        var bytes: [UInt8] = []
        bytes.reserveCapacity(8 + json.count)
        var n = UInt64(json.count)
        for _ in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: n)); n >>= 8 }
        bytes.append(contentsOf: json)
        return (bytes, offsets)
    }
}
