import LEPJSON
import Support

#if canImport(Glibc)
import Glibc
#endif

/// The tensors of a Hugging Face model: one `.safetensors` file, a directory with
/// `model.safetensors`, or a directory with a sharded `model.safetensors.index.json`.
///
/// Opening validates every shard's header and the index against the shards: a tensor listed in
/// the index but absent from its shard, present in two shards, or present in a shard the index does
/// not map it to is an error.
public final class Checkpoint: @unchecked Sendable {
    /// Name of the single-file checkpoint in a model directory.
    public static let singleFileName = "model.safetensors"
    /// Name of the sharded index in a model directory.
    public static let indexFileName = "model.safetensors.index.json"

    /// The model directory (or the directory holding the single file given).
    public let directory: String
    /// The opened shard files, in the order of their names.
    public let files: [SafeTensorsFile]
    /// The index file path, when sharded.
    public let indexPath: String?
    /// `metadata` of the index (e.g. total_size), when sharded.
    public let indexMetadata: JSONObject?
    private let location: [String: Int]  // tensor → file index

    /// Opens `path`: a model directory or a single `.safetensors` file.
    public init(path: String) throws(SafeTensorsError) {
        var isDir = false
        var st = stat()
        if stat(path, &st) == 0 {
            isDir = (st.st_mode & S_IFMT) == S_IFDIR
        } else {
            throw .cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        if !isDir {
            let file = try SafeTensorsFile(path: path)
            directory = PathUtilities.parentDirectory(of: path)
            files = [file]
            indexPath = nil
            indexMetadata = nil
            var loc: [String: Int] = [:]
            for name in file.names { loc[name] = 0 }
            location = loc
            return
        }
        directory = path
        let single = path + "/" + Checkpoint.singleFileName
        let index = path + "/" + Checkpoint.indexFileName
        if access(single, F_OK) == 0 {
            let file = try SafeTensorsFile(path: single)
            files = [file]
            indexPath = nil
            indexMetadata = nil
            var loc: [String: Int] = [:]
            for name in file.names { loc[name] = 0 }
            location = loc
            return
        }
        guard access(index, F_OK) == 0 else { throw .noCheckpoint(path: path) }
        let (weightMap, metadata) = try Checkpoint.readIndex(index)
        let shardNames = Array(Set(weightMap.values)).sorted()
        var opened: [SafeTensorsFile] = []
        var shardSlot: [String: Int] = [:]
        for name in shardNames {
            let shardPath = path + "/" + name
            guard access(shardPath, F_OK) == 0 else { throw .missingShard(index: index, shard: name) }
            shardSlot[name] = opened.count
            opened.append(try SafeTensorsFile(path: shardPath))
        }
        var loc: [String: Int] = [:]
        for (i, file) in opened.enumerated() {
            for t in file.names {
                if let j = loc[t] {
                    throw .tensorInTwoShards(tensor: t, first: opened[j].path, second: file.path)
                }
                loc[t] = i
            }
        }
        for (tensor, shard) in weightMap.sorted(by: { $0.key < $1.key }) {
            let slot = shardSlot[shard]!
            if loc[tensor] != slot { throw .tensorMissingFromShard(tensor: tensor, shard: opened[slot].path) }
        }
        for (tensor, slot) in loc.sorted(by: { $0.key < $1.key }) where weightMap[tensor] == nil {
            throw .tensorNotInIndex(tensor: tensor, shard: opened[slot].path)
        }
        files = opened
        indexPath = index
        indexMetadata = metadata
        location = loc
    }

    /// Reads and checks `model.safetensors.index.json`: `weight_map` of tensor → shard file name.
    static func readIndex(_ path: String) throws(SafeTensorsError) -> ([String: String], JSONObject?) {
        let root: JSONValue
        do {
            let file = try MappedFile(path: path)
            root = try JSONParser.parse(file.bytes)
        } catch let e as SafeTensorsError {
            throw e
        } catch {
            throw .invalidIndex(path: path, reason: "not valid JSON: \(error)")
        }
        guard case .object(let object) = root else { throw .invalidIndex(path: path, reason: "top level is not an object") }
        guard let wm = object["weight_map"] else { throw .invalidIndex(path: path, reason: "no \"weight_map\"") }
        guard case .object(let map) = wm else { throw .invalidIndex(path: path, reason: "\"weight_map\" is not an object") }
        var weightMap: [String: String] = [:]
        for (tensor, shardValue) in map.members {
            guard case .string(let shard) = shardValue else {
                throw .invalidIndex(path: path, reason: "weight_map[\"\(tensor)\"] is not a string")
            }
            guard !shard.isEmpty, !shard.contains("/"), shard != ".", shard != ".." else {
                throw .invalidIndex(path: path, reason: "weight_map[\"\(tensor)\"] = \"\(shard)\" is not a file name in the model directory")
            }
            weightMap[tensor] = shard
        }
        var metadata: JSONObject?
        if let m = object["metadata"] {
            guard case .object(let mo) = m else { throw .invalidIndex(path: path, reason: "\"metadata\" is not an object") }
            metadata = mo
        }
        return (weightMap, metadata)
    }

    /// All tensor names, sorted in natural order (layer 2 before layer 10).
    public var tensorNames: [String] { location.keys.sorted(by: NaturalOrder.less) }
    /// Number of tensors.
    public var tensorCount: Int { location.count }

    /// True when the checkpoint has tensor `name`.
    public func contains(_ name: String) -> Bool { location[name] != nil }

    /// The header entry of `name`.
    public func info(_ name: String) throws(SafeTensorsError) -> TensorInfo {
        try view(name).info
    }

    /// The file holding `name`.
    public func file(of name: String) throws(SafeTensorsError) -> SafeTensorsFile {
        guard let i = location[name] else { throw .noSuchTensor(name: name, path: directory) }
        return files[i]
    }

    /// A zero-copy view of `name`.
    public func view(_ name: String) throws(SafeTensorsError) -> TensorView {
        try file(of: name).view(name)
    }

    /// Sum of the data bytes of all tensors.
    public var totalDataBytes: Int { files.reduce(0) { $0 + $1.tensors.reduce(0) { $0 + $1.byteCount } } }
    /// Sum of the shard file sizes.
    public var totalFileBytes: Int { files.reduce(0) { $0 + $1.mapped.size } }
}

/// Natural ordering of tensor names: digit runs compare as numbers, so `layers.2` < `layers.10`.
package enum NaturalOrder {
    /// True when `a` sorts before `b`.
    package static func less(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var i = 0, j = 0
        while i < x.count && j < y.count {
            if isDigit(x[i]) && isDigit(y[j]) {
                var i2 = i, j2 = j
                while i2 < x.count && isDigit(x[i2]) { i2 += 1 }
                while j2 < y.count && isDigit(y[j2]) { j2 += 1 }
                // Compare numerically: strip leading zeros, then by length, then lexicographically.
                var a0 = i, b0 = j
                while a0 < i2 - 1 && x[a0] == 0x30 { a0 += 1 }
                while b0 < j2 - 1 && y[b0] == 0x30 { b0 += 1 }
                if i2 - a0 != j2 - b0 { return i2 - a0 < j2 - b0 }
                for k in 0..<(i2 - a0) where x[a0 + k] != y[b0 + k] { return x[a0 + k] < y[b0 + k] }
                if i2 - i != j2 - j { return i2 - i < j2 - j }
                i = i2; j = j2
            } else {
                if x[i] != y[j] { return x[i] < y[j] }
                i += 1; j += 1
            }
        }
        if x.count - i != y.count - j { return x.count - i < y.count - j }
        return false
    }

    @inline(__always) private static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
}
