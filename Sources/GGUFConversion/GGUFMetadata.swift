import GGUF

/// Typed access to GGUF metadata with errors that name the key.
struct GGUFMetadata {
    let header: GGUFHeader
    let path: String

    subscript(key: String) -> GGUFValue? { header[key] }

    func int(_ key: String) throws(GGUFError) -> Int {
        guard let v = header[key] else { throw .conversion(path: path, reason: "metadata '\(key)' is missing") }
        guard let i = v.int else { throw .invalidMetadata(path: path, key: key, reason: "expected an integer, found \(v.kindName)") }
        return i
    }

    func optionalInt(_ key: String) throws(GGUFError) -> Int? {
        guard header[key] != nil else { return nil }
        return try int(key)
    }

    func positiveInt(_ key: String) throws(GGUFError) -> Int {
        let i = try int(key)
        guard i > 0 else { throw .invalidMetadata(path: path, key: key, reason: "must be positive, found \(i)") }
        return i
    }

    func optionalDouble(_ key: String) throws(GGUFError) -> Double? {
        guard let v = header[key] else { return nil }
        guard let d = v.double, d.isFinite else { throw .invalidMetadata(path: path, key: key, reason: "expected a number, found \(v.kindName)") }
        return d
    }

    func optionalString(_ key: String) throws(GGUFError) -> String? {
        guard let v = header[key] else { return nil }
        guard let s = v.string else { throw .invalidMetadata(path: path, key: key, reason: "expected a string, found \(v.kindName)") }
        return s
    }

    func optionalBool(_ key: String) throws(GGUFError) -> Bool? {
        guard let v = header[key] else { return nil }
        guard let b = v.bool else { throw .invalidMetadata(path: path, key: key, reason: "expected a bool, found \(v.kindName)") }
        return b
    }

    func stringArray(_ key: String) throws(GGUFError) -> [String]? {
        guard let v = header[key] else { return nil }
        guard case .array(.string, let a) = v else { throw .invalidMetadata(path: path, key: key, reason: "expected an array of strings, found \(v.kindName)") }
        return a.map { $0.string ?? "" }
    }

    func intArray(_ key: String) throws(GGUFError) -> [Int]? {
        guard let v = header[key] else { return nil }
        guard case .array(_, let a) = v, let ints = Optional(a.compactMap(\.int)), ints.count == a.count else {
            throw .invalidMetadata(path: path, key: key, reason: "expected an array of integers, found \(v.kindName)")
        }
        return ints
    }

    func floatArray(_ key: String) throws(GGUFError) -> [Float]? {
        guard let v = header[key] else { return nil }
        guard case .array(.float32, let a) = v else { throw .invalidMetadata(path: path, key: key, reason: "expected an array of float32, found \(v.kindName)") }
        return a.map { if case .float32(let f) = $0 { f } else { 0 } }
    }
}
