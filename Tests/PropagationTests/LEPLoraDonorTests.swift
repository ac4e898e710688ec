import Foundation
import LEPJSON
import Merging
import Propagation
import SafeTensors
import Surgery
import SurgeryTestSupport
import TensorMath
import Testing
import Vocabulary

/// LoRA donors in `lep propagate` (Documentation/Propagation.md §7) against PEFT 0.21.2 (fixtures/lep_lora,
/// scripts/fixtures/gen_lep_lora.py): adapters made on fixtures/lep/bl/donor (the donor base), whose
/// `merge_and_unload()` gives the reference donor rows and layer deltas.
///
/// The claim checked: propagating with `--donor ADAPTER --donor-base INIT` equals propagating the
/// PEFT-merged donor, with PEFT's layer deltas (× 1/alpha_scale) added to the instruct layers.
@Suite struct LEPLoraDonorTests {
    static let root = LEPPropagateTests.root
    static let lep = root + "/fixtures/lep/bl"
    static let lora = root + "/fixtures/lep_lora"
    static let embed = "model.embed_tokens.weight", head = "lm_head.weight"

    static func adapter(_ c: String) -> String { lora + "/\(c)/adapter" }

    static func reference(_ c: String) throws -> Checkpoint { try Checkpoint(path: lora + "/\(c)/reference.safetensors") }

    static func tempDir() throws -> String {
        let d = NSTemporaryDirectory() + "lep-lora-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    /// The PEFT-merged donor as a model directory: bl/donor with embed_tokens/lm_head replaced by the
    /// reference rows (F32), everything else byte-identical.
    static func peftMergedDonor(_ c: String) throws -> String {
        let dir = try tempDir() + "/merged_donor"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for f in ["config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json"] {
            try FileManager.default.copyItem(atPath: lep + "/donor/" + f, toPath: dir + "/" + f)
        }
        let src = try Checkpoint(path: lep + "/donor"), ref = try reference(c)
        var specs: [TensorSpec] = []
        for n in src.tensorNames {
            let i = try src.info(n)
            specs.append(TensorSpec(name: n, dtype: ref.contains("donor." + n) ? .F32 : i.dtype, shape: i.shape))
        }
        let w = try SafeTensorsWriter(path: dir + "/model.safetensors", tensors: specs, metadata: ["format": "pt"])
        for s in w.order {
            let v = try ref.contains("donor." + s.name) ? ref.view("donor." + s.name) : src.view(s.name)
            try w.writeTensor(s.name) { try $0.write(UnsafeRawBufferPointer(v.bytes)) }
        }
        try w.finish()
        return dir
    }

    static func propagate(donor: String, donorBase: String?, instruct: String, mode: PropagationMode, alphaScale: Double? = nil) throws -> (Propagator.Report, String) {
        let out = try tempDir() + "/out"
        var o = Propagator.Options(base: lep + "/base", instruct: lep + "/\(instruct)", donor: donor, output: out)
        o.donorBase = donorBase
        o.alphaScale = alphaScale
        o.mode = mode
        o.blockRows = 100
        return (try Propagator.run(o), out)
    }

    /// One unit in the last place of `x` in bf16 (normal numbers).
    static func bf16ULP(_ x: Float) -> Float { max(Float(bitPattern: x.bitPattern & 0x7f80_0000) / 128, 1e-30) }

    /// Worst element of |a − b| measured in units of `tol(b)`.
    static func worst(_ a: [Float], _ b: [Float], tol: (Float) -> Float) -> (ratio: Float, index: Int, abs: Float) {
        var r: (Float, Int, Float) = (0, 0, 0)
        for i in a.indices {
            let d = abs(a[i] - b[i]), q = d / tol(max(abs(a[i]), abs(b[i])))
            if q > r.0 { r = (q, i, d) }
        }
        return r
    }

    // MARK: donor rows = PEFT merge_and_unload

    @Test(arguments: ["emb", "mts"])
    func mergedDonorRowsEqualPEFT(c: String) throws {
        let inputs = try PropagationInputs(
            base: Self.lep + "/base", instruct: Self.lep + "/instruct", donor: Self.adapter(c),
            donorBase: Self.lep + "/donor", checkDonorLayers: false)
        let l = try #require(inputs.lora)
        #expect(l.embeddingTargets == [Self.head, Self.embed])
        let ref = try Self.reference(c)
        for name in [Self.embed, Self.head] {
            let lep = try l.mergedRows(name, donorBase: inputs.donor.checkpoint), peft = try ref.view("donor." + name).floats()
            #expect(lep.count == peft.count)
            // Both add s·(B·A) (or its transpose) in float32 to the same float32 rows; the summation
            // order differs, so allow 1e-6 absolute (rows and deltas are O(1)).
            let w = Self.worst(lep, peft) { _ in 1e-6 }
            #expect(w.ratio <= 1, "\(c) \(name): worst |lep − PEFT| = \(w.abs) at [\(w.index / 16), \(w.index % 16)]")
        }
    }

    // MARK: propagate(LoRA donor) = propagate(PEFT-merged donor) + PEFT layer deltas

    @Test(arguments: [
        ("emb", "instruct", PropagationMode.conversion, nil as Double?), ("emb", "instruct_linear", .overlap, 2.0),
        ("mts", "instruct", .full, 4.0), ("mts", "instruct_linear", .swap, nil)
    ])
    func propagationEqualsPEFTMergedDonor(c: String, instruct: String, mode: PropagationMode, alphaScale: Double?) throws {
        let (report, out) = try Self.propagate(donor: Self.adapter(c), donorBase: Self.lep + "/donor", instruct: instruct, mode: mode, alphaScale: alphaScale)
        let (_, want) = try Self.propagate(donor: try Self.peftMergedDonor(c), donorBase: nil, instruct: instruct, mode: mode)
        let ref = try Self.reference(c), inst = try Checkpoint(path: Self.lep + "/" + instruct), o = try Checkpoint(path: out)
        let f32 = try inst.info(Self.embed).dtype == .F32
        // Tolerance: outputs in the instruct dtype. F32: 1e-5 absolute (float32 accumulation of the same
        // sums in another order, through D·X). BF16: one bf16 ulp (an f32 difference of ~1e-7 can flip
        // the final rounding); at least 1e-8 absolute: an element near zero (cancellation in D·X) has an
        // ulp far below the float32 error of its terms (seen: 7.5e-9 on an element of ~1e-6).
        let tol: (Float) -> Float = f32 ? { _ in 1e-5 } : { max(Self.bf16ULP($0), 1e-8) }
        for name in [Self.embed, Self.head] {
            let a = try o.view(name).floats(), b = try Checkpoint(path: want).view(name).floats()
            #expect(a.count == b.count)
            let w = Self.worst(a, b, tol: tol)
            #expect(w.ratio <= 1, "\(c)/\(instruct)/\(mode) \(name): worst |lep − PEFT-merged| = \(w.abs) at [\(w.index / 16), \(w.index % 16)]")
        }
        let deltas = ref.tensorNames.filter { $0.hasPrefix("delta.") }.map { String($0.dropFirst(6)) }
        #expect(report.loraLayerTensors == deltas.sorted(by: NaturalOrder.less))
        for name in inst.tensorNames where name != Self.embed && name != Self.head {
            let v = try inst.view(name), got = try o.view(name)
            #expect(got.dtype == v.dtype && got.shape == v.shape)
            guard deltas.contains(name) else {
                #expect(Array(got.bytes) == Array(v.bytes), "\(name) is not in the adapter and must be copied verbatim")
                continue
            }
            var expected = try v.floats()
            let d = try ref.view("delta." + name).floats(), f = Float(1 / (alphaScale ?? 1))
            for k in expected.indices { expected[k] += f * d[k] }
            if !f32 { expected = expected.map { HalfPrecision.bf16ToFloat(HalfPrecision.floatToBF16($0)) } }
            let w = Self.worst(try got.floats(), expected, tol: tol)
            #expect(w.ratio <= 1, "\(c)/\(instruct) \(name): worst |lep − (instruct + PEFT Δ/\(alphaScale ?? 1))| = \(w.abs)")
        }
        let prov = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: out + "/lep_propagation.json"))), duplicateKeys: .lastWins)
        #expect(prov["lora_donor"]?["donor_base"]?.string == Self.lep + "/donor")
        #expect(prov["lora_donor"]?["layer_deltas_added"]?.array?.count == deltas.count)
    }

    // MARK: refusals

    @Test func adapterWithoutDonorBaseIsRefused() throws {
        let out = try Self.tempDir() + "/out"
        let o = Propagator.Options(base: Self.lep + "/base", instruct: Self.lep + "/instruct", donor: Self.adapter("emb"), output: out)
        #expect { try Propagator.run(o) } throws: { "\($0)".contains("option 'donor_base'") }
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func alphaScaleWithoutLoraDonorIsRefused() throws {
        let out = try Self.tempDir() + "/out"
        var o = Propagator.Options(base: Self.lep + "/base", instruct: Self.lep + "/instruct", donor: Self.lep + "/donor", output: out)
        o.alphaScale = 2
        #expect { try Propagator.run(o) } throws: { "\($0)".contains("LoRA donors only") }
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func adapterForAnotherVocabularyIsRefused() throws {
        // The adapter's embedding LoRA has the bl donor's 422 rows; the base has fewer.
        let out = try Self.tempDir() + "/out"
        var o = Propagator.Options(base: Self.lep + "/base", instruct: Self.lep + "/instruct", donor: Self.adapter("emb"), output: out)
        o.donorBase = Self.lep + "/base"
        #expect { try Propagator.run(o) } throws: { e in
            guard case .invalidAdapter(_, let reason)? = e as? SurgeryError else { return false }
            return reason.contains("embed_tokens") || reason.contains("lm_head")
        }
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}
