import Foundation
import LEPJSON
import Merging
import Propagation
import SafeTensors
import Surgery
import SurgeryTestSupport
import Testing
import Tokenizers
import Vocabulary

/// `lep propagate` (Documentation/Propagation.md §5-§8) against fixtures/lep (scripts/fixtures/gen_lep.py: upstream
/// `tokenizers` for the sub-token ids, numpy float64 `lstsq` for X).
@Suite struct LEPPropagateTests {
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url.path }
        }
        return FileManager.default.currentDirectoryPath
    }()
    static let dir = root + "/fixtures/lep"
    nonisolated(unsafe) static let reference: [String: Any] = {
        let data = (try? Data(contentsOf: URL(fileURLWithPath: dir + "/reference.json"))) ?? Data()
        return ((try? JSONSerialization.jsonObject(with: data)) as? [String: Any]) ?? [:]
    }()

    static func ref(_ fam: String) -> [String: Any] { reference[fam] as? [String: Any] ?? [:] }
    static func path(_ fam: String, _ model: String) -> String { dir + "/\(fam)/\(model)" }

    static func tempOut() -> String {
        let d = NSTemporaryDirectory() + "lep-prop-\(UUID().uuidString)"
        return d + "/out"
    }

    static func run(
        _ fam: String, mode: PropagationMode, instruct: String = "instruct", base: String = "base", donor: String = "donor",
        configure: (inout Propagator.Options) -> Void = { _ in }
    ) throws -> (Propagator.Report, String) {
        let out = tempOut()
        var o = Propagator.Options(base: path(fam, base), instruct: path(fam, instruct), donor: path(fam, donor), output: out)
        o.mode = mode
        o.blockRows = 100  // several blocks even on tiny fixtures
        configure(&o)
        return (try Propagator.run(o), out)
    }

    static func floats(_ dir: String, _ name: String) throws -> [Float] {
        try Checkpoint(path: dir).view(name).floats()
    }

    static func relFrobenius(_ a: [Double], _ b: [Double]) -> (Double, Int) {
        var num = 0.0, den = 0.0, worst = 0, worstV = -1.0
        for i in a.indices {
            let d = abs(a[i] - b[i]); num += d * d; den += b[i] * b[i]
            if d > worstV { worstV = d; worst = i }
        }
        return ((num / den).squareRoot(), worst)
    }

    // MARK: row pairs equal upstream tokenizers

    @Test(arguments: ["bl", "sp"])
    func tokenMappingMatchesUpstream(fam: String) throws {
        let r = Self.ref(fam)
        let new = try loadTokenizer(directory: Self.path(fam, "donor")), old = try loadTokenizer(directory: Self.path(fam, "base"))
        let vDonor = r["v_donor"] as! Int, vBase = r["v_base"] as! Int
        let m = TokenMapping(new: new, old: old, count: vDonor, oldRows: vBase)
        let expected = r["mapping"] as! [[Any]]
        var bad: [String] = []
        for (i, e) in expected.enumerated() {
            let want: TokenMapping.Source
            switch e[0] as! String {
            case "copy": want = .copy(e[1] as! Int)
            case "sub": want = .subTokens(e[1] as! [Int])
            default: want = .unmapped
            }
            if m.sources[i] != want { bad.append("id \(i) '\(new.token(for: i) ?? "?")': lep \(m.sources[i]), upstream \(want)") }
        }
        #expect(bad.isEmpty, "\(bad.count) of \(vDonor) mappings differ; first: \(bad.prefix(5))")
        let shared = TokenMapping.sharedTokens(new: new, old: old, count: vDonor, oldRows: vBase)
        let wantShared = (r["shared"] as! [[Int]]).map { "\($0[0])-\($0[1])" }
        #expect(shared.map { "\($0.new)-\($0.old)" } == wantShared)
    }

    // MARK: X equals numpy float64 lstsq

    @Test(arguments: [("bl", PropagationMode.overlap), ("bl", .conversion), ("bl", .full), ("sp", .overlap), ("sp", .conversion), ("sp", .full)])
    func fitEqualsNumpyLstsq(fam: String, mode: PropagationMode) throws {
        let (report, _) = try Self.run(fam, mode: mode)
        let ref = (Self.ref(fam)["x"] as! [String: Any])[mode.rawValue] as! [String: Any]
        #expect(report.modules.count == ref.count)
        for m in report.modules {
            let want = ref[m.tensor] as! [String: Any]
            let x = (want["x"] as! [[Double]]).flatMap { $0 }
            let sol = try #require(m.solution)
            #expect(sol.rows == want["rows"] as! Int)
            let (err, worst) = Self.relFrobenius(sol.x, x)
            // Tolerance: relative Frobenius 1e-6; both solve the same float64 problem.
            #expect(err <= 1e-6, "\(fam) \(mode) \(m.tensor): relative error \(err), worst X[\(worst / 16), \(worst % 16)] lep \(sol.x[worst]) numpy \(x[worst])")
            let res = want["relative_residual"] as! Double
            #expect(abs(sol.relativeResidual - res) <= 1e-6 + 1e-4 * res, "residual lep \(sol.relativeResidual) numpy \(res)")
            #expect(sol.method == .cholesky)
        }
    }

    // MARK: Documentation/Propagation.md §8 identities

    @Test(arguments: ["bl", "sp"])
    func swapCopiesDonorAndInstructAddedRows(fam: String) throws {
        let (report, out) = try Self.run(fam, mode: .swap)
        let r = Self.ref(fam)
        let vDonor = r["v_donor"] as! Int, h = 16
        let inst = try loadTokenizer(directory: Self.path(fam, "instruct")), donorTok = try loadTokenizer(directory: Self.path(fam, "donor"))
        #expect(report.outputRows == vDonor + 1)
        for name in r["modules"] as! [String] {
            let o = try Self.floats(out, name), d = try Self.floats(Self.path(fam, "donor"), name), t = try Self.floats(Self.path(fam, "instruct"), name)
            #expect(o.count == (vDonor + 1) * h)
            var added: [Int: Int] = [:]
            for a in donorTok.addedTokens { if let j = inst.id(for: a.content) { added[a.id] = j } }
            added[vDonor] = inst.id(for: fam == "bl" ? "<|eot_id|>" : "<|end_of_turn|>")!
            for i in 0..<(vDonor + 1) {
                let src: ArraySlice<Float> = added[i].map { t[($0 * h)..<($0 * h + h)] } ?? d[(i * h)..<(i * h + h)]
                #expect(Array(o[(i * h)..<(i * h + h)]) == Array(src), "row \(i)")
                if Array(o[(i * h)..<(i * h + h)]) != Array(src) { break }
            }
        }
    }

    @Test(arguments: [PropagationMode.overlap, .conversion, .full, .conversionSum], FitPrecision.allCases)
    func instructEqualsBaseGivesIdentity(mode: PropagationMode, precision: FitPrecision) throws {
        let (report, out) = try Self.run("bl", mode: mode, instruct: "base") { $0.fitPrecision = precision }
        // float64: X = I to rounding; mixed: the float32 block products leave ~1e-7 (diagonals exact).
        let (xTol, resTol) = precision == .float64 ? (1e-9, 1e-6) : (1e-6, 1e-3)
        for m in report.modules {
            let s = try #require(m.solution)
            #expect(s.precision == precision)
            #expect(s.distanceFromIdentity < xTol, "\(mode) \(m.tensor): ‖X − I‖/‖I‖ = \(s.distanceFromIdentity)")
            #expect(s.relativeResidual < resTol, "\(mode) \(m.tensor): residual \(s.relativeResidual)")
            let o = try Self.floats(out, m.tensor), d = try Self.floats(Self.path("bl", "donor"), m.tensor)
            var worst: Float = 0
            for i in 0..<d.count { worst = max(worst, abs(o[i] - d[i])) }
            // bf16 output of D·X with X = I ± 1e-9: equal to the donor up to one bf16 rounding of a tiny change.
            #expect(worst <= 1e-3, "worst |OUT − D| = \(worst)")
        }
    }

    @Test(arguments: [PropagationMode.overlap, .conversion, .full])
    func linearInstructRecoversM(mode: PropagationMode) throws {
        let (report, _) = try Self.run("bl", mode: mode, instruct: "instruct_linear")
        let mRef = Self.ref("bl")["M"] as! [String: Any]
        for m in report.modules {
            let want = (mRef[m.tensor] as! [[Double]]).flatMap { $0 }
            let (err, _) = Self.relFrobenius(try #require(m.solution).x, want)
            // T = S·M stored in float32: M is recovered to float32 precision, ≪ bf16's 2⁻⁸.
            #expect(err < 1e-5, "\(mode) \(m.tensor): relative error \(err)")
        }
    }

    @Test func deltaWithInstructEqualsBaseGivesDonor() throws {
        for shared in [DeltaShared.projected, .exact] {
            let (_, out) = try Self.run("bl", mode: .delta, instruct: "base") { $0.deltaShared = shared }
            let vDonor = Self.ref("bl")["v_donor"] as! Int
            for name in Self.ref("bl")["modules"] as! [String] {
                let o = try Self.floats(out, name), d = try Self.floats(Self.path("bl", "donor"), name)
                #expect(Array(o[0..<(vDonor * 16)]) == d, "\(shared) \(name)")
            }
        }
    }

    // MARK: output files

    @Test func outputFilesAreRemappedByString() throws {
        let (report, out) = try Self.run("bl", mode: .conversion)
        let vDonor = Self.ref("bl")["v_donor"] as! Int
        let config = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: out + "/config.json"))))
        #expect(config["vocab_size"]?.number?.int64 == Int64(vDonor + 1))
        let donorTok = try loadTokenizer(directory: Self.path("bl", "donor"))
        let outTok = try loadTokenizer(directory: out)
        #expect(outTok.id(for: "<|eot_id|>") == vDonor)
        let gen = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: out + "/generation_config.json"))))
        let eos = try #require(gen["eos_token_id"]?.array)  // a list stays a list
        #expect(eos.compactMap { $0.number?.int64 }.map(Int.init) == [donorTok.id(for: "<|end_of_text|>")!, vDonor])
        #expect(config["eos_token_id"]?.array?.count == 2)
        #expect(config["bos_token_id"]?.number?.int64.map(Int.init) == donorTok.id(for: "<|begin_of_text|>"))
        let tc = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: out + "/tokenizer_config.json"))))
        #expect(tc["eos_token"]?.string == "<|eot_id|>")
        #expect(tc["chat_template"]?.string?.contains("<|eot_id|>") == true)
        let shapes = try Checkpoint(path: out)
        #expect(try shapes.info("lm_head.weight").shape == [vDonor + 1, 16])
        // Untouched tensors keep their dtype and bytes.
        #expect(try shapes.info("model.layers.0.mlp.up_proj.weight").dtype == (try Checkpoint(path: Self.path("bl", "instruct")).info("model.layers.0.mlp.up_proj.weight").dtype))
        let instCk = try Checkpoint(path: Self.path("bl", "instruct"))
        let va = try shapes.view("model.layers.0.mlp.up_proj.weight"), vb = try instCk.view("model.layers.0.mlp.up_proj.weight")
        #expect(Array(va.bytes) == Array(vb.bytes))
        #expect(FileManager.default.fileExists(atPath: out + "/" + OutputAssembly.provenanceName))
        #expect(report.instructRowsCopied >= 2)
    }

    @Test func tiedFamilyHasNoHead() throws {
        let (report, out) = try Self.run("sp", mode: .conversion)
        #expect(report.modules.map(\.tensor) == ["model.embed_tokens.weight"])
        #expect(!(try Checkpoint(path: out)).contains("lm_head.weight"))
    }

    @Test func compatReferenceRoundsXToBF16() throws {
        let (_, a) = try Self.run("bl", mode: .conversion)
        let (_, b) = try Self.run("bl", mode: .conversion) { $0.compatReference = true }
        #expect(try Self.floats(a, "model.embed_tokens.weight") != (try Self.floats(b, "model.embed_tokens.weight")))
    }

    @Test func deterministicBytes() throws {
        let (_, a) = try Self.run("sp", mode: .conversion)
        let (_, b) = try Self.run("sp", mode: .conversion)
        for f in ["model.safetensors", "tokenizer.json", "config.json"] {
            #expect(FileManager.default.contents(atPath: a + "/" + f) == FileManager.default.contents(atPath: b + "/" + f), "\(f)")
        }
    }

    // MARK: bad inputs: a clear error, nothing written

    static func expectRefused(
        _ fam: String, base: String = "base", instruct: String = "instruct", donor: String = "donor",
        baseFam: String? = nil, contains: String, propagationError: Bool = true
    ) {
        let out = tempOut()
        var o = Propagator.Options(base: path(baseFam ?? fam, base), instruct: path(fam, instruct), donor: path(fam, donor), output: out)
        o.mode = .conversion
        do {
            _ = try Propagator.run(o)
            Issue.record("expected a refusal containing '\(contains)'")
        } catch {
            #expect("\(error)".contains(contains), "\(error)")
            if propagationError {
                switch error {
                case .missingEmbedding, .incompatibleEmbeddings, .tokenizerLargerThanEmbeddings, .fitFailed, .specialTokenIdUnknown, .specialTokenNotInOutput,
                    .tokenizersDisagree, .notAnEmbedding, .unreadableModelFile, .addedTokensWithoutTokenizerJSON, .unreadableChatTemplates,
                    .referenceCodeFails, .loraDonorRows, .saveFit:
                    break
                default: Issue.record("not a propagation refusal: \(error)")
                }
            }
        }
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func mixedTyingRefused() { Self.expectRefused("sp", baseFam: "bl", contains: "tie_word_embeddings") }
    @Test func mixedTyingIsATypedRefusal() throws {
        var o = Propagator.Options(base: Self.path("bl", "base"), instruct: Self.path("sp", "instruct"), donor: Self.path("sp", "donor"), output: Self.tempOut())
        o.mode = .conversion
        #expect { try Propagator.run(o) } throws: { e in
            guard case SurgeryError.incompatibleEmbeddings(let what, _, _) = e else { return false }
            return what == "tie_word_embeddings"
        }
    }
    @Test func hiddenMismatchRefused() { Self.expectRefused("bl", instruct: "bad_hidden", contains: "hidden size mismatch") }
    // The fixture's truncated donor also has bos/eos ids beyond its rows, which config.json validation
    // (Models) refuses first; either refusal names the donor.
    @Test func donorRowsMismatchRefused() { Self.expectRefused("bl", donor: "bad_donor_rows", contains: "bad_donor_rows", propagationError: false) }
    @Test func unmappableSpecialRefused() {
        let tok = Self.ref("bl")["bad_eos_token"] as! String
        Self.expectRefused("bl", instruct: "bad_instruct_special", contains: "'\(tok)') is not a token of the output tokenizer")
    }
    @Test func unmappableSpecialIsATypedRefusal() throws {
        let tok = Self.ref("bl")["bad_eos_token"] as! String
        var o = Propagator.Options(base: Self.path("bl", "base"), instruct: Self.path("bl", "bad_instruct_special"), donor: Self.path("bl", "donor"), output: Self.tempOut())
        o.mode = .conversion
        #expect { try Propagator.run(o) } throws: { e in
            guard case SurgeryError.specialTokenNotInOutput(_, _, let token) = e else { return false }
            return token == tok
        }
    }
    @Test func disagreeingTokenizersAreATypedRefusal() throws {
        // instruct's tokenizer with two ids swapped: no longer the base's vocabulary.
        let out = Self.tempOut(), inst = (out as NSString).deletingLastPathComponent + "/instruct"
        let fm = FileManager.default
        try fm.createDirectory(atPath: (inst as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        defer { try? fm.removeItem(atPath: (inst as NSString).deletingLastPathComponent) }
        try fm.copyItem(atPath: Self.path("bl", "instruct"), toPath: inst)
        let tjPath = inst + "/tokenizer.json"
        var tj = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: tjPath))) as? [String: Any])
        var model = try #require(tj["model"] as? [String: Any])
        var vocab = try #require(model["vocab"] as? [String: Int])
        let a = try #require(vocab.first { $0.value == 40 }?.key), b = try #require(vocab.first { $0.value == 41 }?.key)
        vocab[a] = 41
        vocab[b] = 40
        model["vocab"] = vocab
        tj["model"] = model
        try JSONSerialization.data(withJSONObject: tj).write(to: URL(fileURLWithPath: tjPath))
        var o = Propagator.Options(base: Self.path("bl", "base"), instruct: inst, donor: Self.path("bl", "donor"), output: out)
        o.mode = .conversion
        #expect { try Propagator.run(o) } throws: { e in
            guard case SurgeryError.tokenizersDisagree(let n, _, let example) = e else { return false }
            return n == 2 && example.hasPrefix("id 40 is ") && "\(e)".contains("the instruct model must be fine-tuned from the base")
        }
        #expect(!fm.fileExists(atPath: out))
    }
}
