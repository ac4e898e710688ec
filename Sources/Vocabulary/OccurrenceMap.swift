import LEPJSON
import Support
import Surgery

/// An occurrence map, `{"new_id": {"old_id": count, ...}, ...}`: for each new token, how often each old
/// token occurs in it (the weights of `vocab init --aggregation occurrence` and of `propagate --mode
/// conversion-occurrence`). The one loader both use, with one behaviour: a key given twice is refused.
public enum OccurrenceMap {
    /// New id → its old ids with their counts, ascending old id.
    public typealias Counts = [Int: [(id: Int, count: Double)]]

    /// Reads and checks the map at `path`. Ids must be non-negative integers and counts non-negative
    /// finite numbers; a new id, or an old id within one entry, given twice is refused, naming the key.
    /// Whether the ids fit a vocabulary is the caller's check.
    public static func load(path: String) throws(SurgeryError) -> Counts {
        func fail(_ reason: String) -> SurgeryError { .invalidOccurrenceMap(path: path, reason: reason) }
        guard let bytes = WholeFile.bytes(path) else { throw fail("cannot read the file") }
        let root: JSONValue
        do { root = try JSONParser.parse(bytes) } catch {
            if let (key, depth) = error.duplicateKey {
                throw fail(
                    depth == 1
                        ? "new id '\(key)' appears twice; give each new id one entry"
                        : "old id '\(key)' appears twice within one entry; give each old id one count")
            }
            throw fail("not valid JSON: \(error)")
        }
        guard let top = root.object else { throw fail("expected a JSON object {new_id: {old_id: count}}") }
        var out: Counts = [:]
        for (k, v) in top.members {
            guard let newId = Int(k), newId >= 0, let inner = v.object else {
                throw fail("key '\(k)' must be a new token id with an object {old_id: count}")
            }
            var terms: [(id: Int, count: Double)] = []
            for (ok, ov) in inner.members {
                guard let oldId = Int(ok), oldId >= 0, let c = ov.number?.double, c >= 0, c.isFinite else {
                    throw fail("entry '\(k)'.'\(ok)' must map an old token id to a non-negative count")
                }
                terms.append((oldId, c))
            }
            out[newId] = terms.sorted { $0.id < $1.id }
        }
        return out
    }
}
