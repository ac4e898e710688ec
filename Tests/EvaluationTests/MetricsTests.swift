import Testing
@testable import Evaluation

/// Copy and multiple-choice metrics on hand-made cases with the values Documentation/Evaluation.md documents.
struct MetricsTests {
    static let ref = "The kettle clicked off just as the rain began to fall."  // 54 characters

    @Test func exactCopy() {
        #expect(CopyMetrics.copy99(reference: Self.ref, prediction: Self.ref) == 1)
        #expect(CopyMetrics.lengthRatio(generatedTokens: 12, referenceTokens: 12) == 1)
        #expect(CopyMetrics.matchedCharacters(Self.ref, Self.ref) == 54)
    }

    @Test func truncatedCopyFails() {
        let pred = String(Self.ref.prefix(44))  // 44/54 = 0.815
        #expect(CopyMetrics.matchRatio(reference: Self.ref, prediction: pred) == 44.0 / 54.0)
        #expect(CopyMetrics.copy99(reference: Self.ref, prediction: pred) == 0)
        #expect(CopyMetrics.lengthRatio(generatedTokens: 9, referenceTokens: 12) == 0.75)
    }

    @Test func overLongCopyFailsSymmetrically() {
        // Every reference character is matched (an asymmetric metric would pass this), but the
        // prediction is 10 characters longer: 54/64 < 0.99.
        let pred = Self.ref + " And again"
        #expect(CopyMetrics.matchedCharacters(Self.ref, pred) == 54)
        #expect(CopyMetrics.copy99(reference: Self.ref, prediction: pred) == 0)
        #expect(CopyMetrics.lengthRatio(generatedTokens: 15, referenceTokens: 12) == 0.8)
    }

    @Test func oldTokenCopy() {
        // A perfect copy written with twice as many (old, shorter) tokens: copy99 passes, len halves,
        // and symbols per token shows the cost.
        #expect(CopyMetrics.copy99(reference: Self.ref, prediction: Self.ref) == 1)
        #expect(CopyMetrics.lengthRatio(generatedTokens: 24, referenceTokens: 12) == 0.5)
        #expect(CopyMetrics.symbolsPerToken(prediction: Self.ref, generatedTokens: 23) == 54.0 / 24.0)
    }

    @Test func oneCharacterEditPassesAt99() {
        let long = String(repeating: "абвгд", count: 40)  // 200 characters
        var chars = Array(long)
        chars[100] = "ж"
        let pred = String(chars)
        #expect(CopyMetrics.matchedCharacters(long, pred) == 199)
        #expect(CopyMetrics.copy99(reference: long, prediction: pred) == 1)  // 0.995
        #expect(CopyMetrics.copy99(reference: String(long.prefix(50)), prediction: String(pred.prefix(50))) == 1)
    }

    @Test func edgeCases() {
        #expect(CopyMetrics.lengthRatio(generatedTokens: 0, referenceTokens: 5) == 0)
        #expect(CopyMetrics.lengthRatio(generatedTokens: 0, referenceTokens: 0) == 1)
        #expect(CopyMetrics.copy99(reference: "", prediction: "") == 1)
        #expect(CopyMetrics.copy99(reference: "abc", prediction: "") == 0)
        #expect(CopyMetrics.symbolsPerToken(prediction: "", generatedTokens: 0) == 0)
        #expect(CopyMetrics.matchedCharacters("ABCBDAB", "BDCABA") == 4)  // textbook LCS
    }

    @Test func multipleChoice() throws {
        #expect(try MultipleChoiceMetrics.accuracy(scores: [-3.0, -1.0, -2.0], answer: 1) == 1)
        #expect(try MultipleChoiceMetrics.accuracy(scores: [-3.0, -1.0, -2.0], answer: 2) == 0)
        #expect(MultipleChoiceMetrics.argmax([-1.0, -1.0]) == 0)  // ties: first, like numpy
        // acc picks the short choice; acc_norm divides by characters and picks the long one.
        let ll = [-4.0, -6.0], choices = ["cat", "elephant"]  // -1.333 vs -0.75
        #expect(try MultipleChoiceMetrics.accuracy(scores: ll, answer: 1) == 0)
        #expect(try MultipleChoiceMetrics.normalizedAccuracy(logLikelihoods: ll, choices: choices, answer: 1) == 1)
        #expect(throws: EvaluationError.metric("answer index 3 outside the 2 choices")) {
            try MultipleChoiceMetrics.accuracy(scores: [0, 1], answer: 3)
        }
    }

    @Test func statistics() throws {
        #expect(Statistics.standardError([1, 0, 1, 1]) == 0.25)
        #expect(Statistics.standardError([1]) == nil)
        #expect(Statistics.median([3, 1, 2, 10]) == 2.5)
        #expect(Statistics.quantile([1, 2, 3, 4, 5], 0.99) == 4.96)
        let s = try MetricSummary.mean(of: [1, 0, 1, 1])
        #expect(s == MetricSummary(value: 0.75, standardError: 0.25, n: 4))
        #expect(throws: EvaluationError.metric("no items to average")) { try MetricSummary.mean(of: []) }
    }
}
