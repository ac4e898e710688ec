import Evaluation
import Models
import Testing
import TestSupport

/// `ModelVerification` (the library behind `lep verify`) on the committed toy models.
@Suite struct ModelVerificationTests {
    static let toy = SharedData.packageRoot + "/fixtures/toy"

    @Test func thresholdsNeedAReference() throws {
        var o = ModelVerification.Options()
        o.maxKLD = 0.1
        #expect(throws: ModelError.invalidOption(option: "max_kld", reason: "the thresholds (max_kld, min_top1) need a reference")) {
            try ModelVerification.validate(o)
        }
    }

    @Test func sameModelAgreesWithItselfAndPassesItsThresholds() throws {
        var o = ModelVerification.Options()
        o.reference = Self.toy + "/instruct"
        o.maxKLD = 1e-9
        o.minTop1 = 1
        o.context = 64
        o.input = .ids(Array(10..<200))
        let r = try ModelVerification.run(model: Self.toy + "/instruct", options: o, clock: { 0 })
        let s = try #require(r.reference?.agreement)
        #expect(s.klMax == 0 && s.sameTop1 == 1 && r.passed, "\(s)")
        #expect(r.checks.map(\.name) == ["weights finite and non-zero", "logits finite", "mean KL ≤ 1e-09", "same top-1 ≥ 1.0"])
        #expect(r.bitsPerByte == nil && r.tokens == 190)
    }

    @Test func differentVocabulariesCompareOnlyBitsPerByte() throws {
        var o = ModelVerification.Options()
        o.reference = Self.toy + "/base"
        o.minTop1 = 0.5
        o.scanWeights = false
        let r = try ModelVerification.run(model: Self.toy + "/donor", options: o, clock: { 0 })
        #expect(r.reference?.agreement == nil && r.reference?.difference?.contains("vocab") == true)
        #expect(r.bitsPerByte != nil && r.reference?.bitsPerByte != nil)
        #expect(!r.passed && r.checks.last?.name == "agreement thresholds")
    }
}
