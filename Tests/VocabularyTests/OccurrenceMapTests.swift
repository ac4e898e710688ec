import Foundation
import Surgery
import Testing
import Vocabulary

/// The one occurrence-map loader (`vocab init --aggregation occurrence`, `propagate --mode conversion-occurrence`).
struct OccurrenceMapTests {
    func write(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "lep-occmap-\(getpid())-\(UUID().uuidString.prefix(8)).json"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func readsCountsSortedByOldId() throws {
        let p = try write("{\"7\": {\"5\": 1, \"2\": 3.5}, \"8\": {}}")
        defer { try? FileManager.default.removeItem(atPath: p) }
        let m = try OccurrenceMap.load(path: p)
        #expect(m.keys.sorted() == [7, 8])
        #expect(m[7]!.map(\.id) == [2, 5] && m[7]!.map(\.count) == [3.5, 1])
        #expect(m[8]!.isEmpty)
    }

    @Test func aKeyGivenTwiceIsRefusedNamingFileAndKey() throws {
        let outer = try write("{\"7\": {\"5\": 1}, \"7\": {\"6\": 1}}")
        let inner = try write("{\"7\": {\"5\": 1, \"5\": 2}}")
        defer { for p in [outer, inner] { try? FileManager.default.removeItem(atPath: p) } }
        #expect(throws: SurgeryError.invalidOccurrenceMap(path: outer, reason: "new id '7' appears twice; give each new id one entry")) {
            try OccurrenceMap.load(path: outer)
        }
        #expect(throws: SurgeryError.invalidOccurrenceMap(path: inner, reason: "old id '5' appears twice within one entry; give each old id one count")) {
            try OccurrenceMap.load(path: inner)
        }
    }

    @Test func malformedEntriesNameTheEntry() throws {
        let p = try write("{\"7\": {\"x\": 1}}")
        defer { try? FileManager.default.removeItem(atPath: p) }
        #expect(throws: SurgeryError.invalidOccurrenceMap(path: p, reason: "entry '7'.'x' must map an old token id to a non-negative count")) {
            try OccurrenceMap.load(path: p)
        }
        #expect(throws: SurgeryError.invalidOccurrenceMap(path: "/nonexistent-lep/m.json", reason: "cannot read the file")) {
            try OccurrenceMap.load(path: "/nonexistent-lep/m.json")
        }
    }
}
