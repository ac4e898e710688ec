import Foundation
import LEPJSON
import Propagation
import SafeTensors
import Surgery
import Testing
import TestSupport
import Tokenizers

/// `lep propagate --compat reference` against the authors' code run unchanged (fixtures/lep_reference,
/// scripts/fixtures/gen_lep_reference.py: RefalMachine/ruadapt `make_ushanka` on tiny LLaMA-3-style
/// byte-level and Mistral-style SentencePiece families, untied and tied, SentencePiece donors).
/// Rows are compared by token string; rows the reference leaves at a random initialisation are skipped.
@Suite struct LEPReferenceCompatTests {
    static let dir = SharedData.fixtures + "/lep_reference"
    static let configs = ["llama3-untied", "llama3-tied", "mistral-untied", "mistral-tied"]
    static let modes: [PropagationMode] = [.swap, .overlap, .conversion, .conversionSum, .conversionOccurrence, .full]

    /// Elements compared and elements bit-identical, over every module and every row both outputs have.
    static func compare(config: String, mode: PropagationMode) throws -> (compared: Int, identical: Int, rows: Int, missing: [String]) {
        let d = dir + "/" + config
        let out = NSTemporaryDirectory() + "lep-refcompat-\(UUID().uuidString)/out"
        defer { try? FileManager.default.removeItem(atPath: (out as NSString).deletingLastPathComponent) }
        var o = Propagator.Options(base: d + "/base", instruct: d + "/instruct", donor: d + "/donor", output: out)
        o.mode = mode
        o.compatReference = true
        if mode == .conversionOccurrence { o.occurrenceMap = d + "/occurrence.json" }
        _ = try Propagator.run(o)
        let ref = try SafeTensorsFile(path: d + "/ref_\(mode.rawValue).safetensors")
        let tokens = try JSONParser.parse(Array(ref.header.metadata["tokens", default: "[]"].utf8)).array!.map { $0.string! }
        let random = Set(try JSONParser.parse(Array(ref.header.metadata["random_rows", default: "[]"].utf8)).array!.map { Int($0.number!.int64!) })
        let tok = try loadTokenizer(directory: out)
        let got = try Checkpoint(path: out)
        var compared = 0, identical = 0, rows = 0
        var missing: [String] = []
        for t in ref.tensors {
            let h = t.shape[1]
            let want = Array(try ref.view(t.name).bytes.bindMemory(to: UInt16.self))
            let have = Array(try got.view(t.name).bytes.bindMemory(to: UInt16.self))
            for (i, token) in tokens.enumerated() where !random.contains(i) {
                guard let j = tok.id(for: token) else { missing.append(token); continue }
                rows += 1
                for c in 0..<h {
                    compared += 1
                    if want[i * h + c] == have[j * h + c] { identical += 1 }
                }
            }
        }
        return (compared, identical, rows, missing)
    }

    @Test("--compat reference output rows are bit-identical to the reference code's", arguments: configs, modes)
    func bitIdentical(config: String, mode: PropagationMode) throws {
        let r = try Self.compare(config: config, mode: mode)
        #expect(r.missing.isEmpty, "\(config)/\(mode.rawValue): reference tokens absent from lep's output: \(r.missing.prefix(5))")
        #expect(r.rows > 300, "\(config)/\(mode.rawValue): only \(r.rows) rows compared")
        let (compared, identical) = (r.compared, r.identical)
        #expect(identical == compared, "\(config)/\(mode.rawValue): \(identical) of \(compared) elements bit-identical")
    }

    @Test("--compat reference refuses delta (the reference code has none)")
    func refusesDelta() throws {
        let d = Self.dir + "/llama3-untied"
        var o = Propagator.Options(base: d + "/base", instruct: d + "/instruct", donor: d + "/donor", output: NSTemporaryDirectory() + "lep-refcompat-delta-\(UUID().uuidString)")
        o.mode = .delta
        o.compatReference = true
        #expect(throws: SurgeryError.self) { _ = try Propagator.run(o) }
        #expect(!FileManager.default.fileExists(atPath: o.output))
    }
}
