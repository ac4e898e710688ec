import Glibc
import LEPJSON
import Support

enum FileIO {
    /// Whole file, or an error naming it.
    static func read(_ path: String) throws(TokenizerError) -> [UInt8] {
        switch WholeFile.read(path) {
        case .success(let bytes): return bytes
        case .failure(let f): throw .unreadable(path: path, reason: f.reason)
        }
    }

    /// Parses a JSON file (duplicate keys rejected).
    static func readJSON(_ path: String) throws(TokenizerError) -> JSONValue {
        let bytes = try read(path)
        do { return try JSONParser.parse(bytes) } catch { throw .invalidJSON(path: path, reason: error.description) }
    }

    /// Writes atomically: a temporary sibling, fsync, rename.
    static func writeAtomically(_ path: String, _ bytes: [UInt8]) throws(TokenizerError) {
        do { try AtomicFile.write(bytes, to: path) } catch {
            switch error {
            case .writeFailed(_, let reason), .cannotOpen(_, let reason): throw .writeFailed(path: path, reason: reason)
            default: throw .writeFailed(path: path, reason: error.description)
            }
        }
    }

    /// Decodes UTF-8 text, or fails with the byte offset of the first invalid byte.
    static func utf8Text(_ bytes: [UInt8], path: String) throws(TokenizerError) -> String {
        if let s = String(validating: bytes, as: UTF8.self) { return s }
        var it = bytes.makeIterator()
        var decoder = UTF8()
        var offset = 0
        loop: while true {
            var consumed = 0
            // Count bytes per scalar by re-encoding.
            switch decoder.decode(&it) {
            case .scalarValue(let s): consumed = UTF8.width(s)
            case .emptyInput: break loop
            case .error: break loop
            }
            offset += consumed
        }
        throw .invalidUTF8(path: path, offset: offset)
    }
}
