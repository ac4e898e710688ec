import Foundation
import Propagation
import Surgery
import Testing

/// Every refusal that needs no tensor data comes before the first progress stage
/// (the stages — comparing layers, mapping tokens, fitting, writing — are where tensors are read).
@Suite struct PreflightOrderTests {
    /// Records the stages `Propagator.run` enters.
    final class Stages: @unchecked Sendable {
        private let lock = NSLock()
        private var names: [String] = []
        func add(_ s: String) { lock.lock(); if names.last != s { names.append(s) }; lock.unlock() }
        var all: [String] { lock.lock(); defer { lock.unlock() }; return names }
    }

    static let fam = "bl"
    static func path(_ m: String) -> String { LEPPropagateTests.path(fam, m) }

    /// Runs with `configure` and expects a refusal containing `contains` before any stage.
    static func expectEarlyRefusal(_ contains: String, configure: (inout Propagator.Options) -> Void) {
        var o = Propagator.Options(base: path("base"), instruct: path("instruct"), donor: path("donor"), output: LEPPropagateTests.tempOut())
        configure(&o)
        let stages = Stages()
        do {
            _ = try Propagator.run(o) { s, _ in stages.add(s) }
            Issue.record("expected a refusal containing '\(contains)'")
        } catch {
            #expect("\(error)".contains(contains), "\(error)")
        }
        #expect(stages.all.isEmpty, "refused after stages \(stages.all): \(contains)")
    }

    @Test func existingOutputRefusedBeforeAnyStage() throws {
        let out = LEPPropagateTests.tempOut()
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: (out as NSString).deletingLastPathComponent) }
        Self.expectEarlyRefusal("exists") { $0.output = out }
    }

    @Test func outputEqualToOrInsideAnInputRefusedBeforeAnyStage() {
        Self.expectEarlyRefusal("input") {
            $0.output = Self.path("instruct"); $0.force = true
        }
        Self.expectEarlyRefusal("input") {
            $0.output = Self.path("donor") + "/sub"; $0.force = true
        }
    }

    @Test func occurrenceModeWithoutMapRefusedBeforeAnyStage() {
        Self.expectEarlyRefusal("option 'occurrence_map'") { $0.mode = .conversionOccurrence }
    }

    @Test func badOccurrenceMapRefusedBeforeAnyStage() throws {
        let dir = NSTemporaryDirectory() + "lep-occ-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        Self.expectEarlyRefusal("cannot read") {
            $0.mode = .conversionOccurrence; $0.occurrenceMap = dir + "/missing.json"
        }
        try "{\"999999\": {\"1\": 2}}".write(toFile: dir + "/far.json", atomically: true, encoding: .utf8)
        Self.expectEarlyRefusal("outside the donor") {
            $0.mode = .conversionOccurrence; $0.occurrenceMap = dir + "/far.json"
        }
        // A key given twice is refused, as by `vocab init` (one loader), naming the file and the key.
        try "{\"3\": {\"1\": 2}, \"3\": {\"2\": 1}}".write(toFile: dir + "/twice.json", atomically: true, encoding: .utf8)
        Self.expectEarlyRefusal("occurrence map \(dir)/twice.json: new id '3' appears twice") {
            $0.mode = .conversionOccurrence; $0.occurrenceMap = dir + "/twice.json"
        }
    }

    @Test func alphaScaleWithoutLoraRefusedBeforeAnyStage() {
        Self.expectEarlyRefusal("LoRA") { $0.alphaScale = 2 }
    }

    @Test func stagesComeInOrderOnSuccess() throws {
        let out = LEPPropagateTests.tempOut()
        defer { try? FileManager.default.removeItem(atPath: (out as NSString).deletingLastPathComponent) }
        var o = Propagator.Options(base: Self.path("base"), instruct: Self.path("instruct"), donor: Self.path("donor"), output: out)
        o.blockRows = 100
        let stages = Stages()
        _ = try Propagator.run(o) { s, _ in stages.add(s) }
        let names = stages.all
        #expect(names.first == "comparing the donor's layers with the base's", "\(names)")
        #expect(names.contains("mapping tokens") && names.contains { $0.hasPrefix("fitting") } && names.contains { $0.hasPrefix("writing") }, "\(names)")
    }
}
