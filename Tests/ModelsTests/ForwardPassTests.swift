import Foundation
import Models
import SafeTensors
import TensorMath
import Testing

/// The forward pass against transformers' logits (fixtures/forward, scripts/fixtures/gen_forward.py).
@Suite("Forward pass vs transformers")
struct ForwardPassTests {
    /// Logits tolerance: max |Δ| ≤ 1e-4 × max |logit|. All four models compute in Float32
    /// (bf16 weights are widened exactly), so the same bound applies to bf16 checkpoints.
    static let relativeTolerance: Float = 1e-4

    @Test("full-sequence logits match transformers", arguments: ForwardFixtures.names)
    func logitsMatch(name: String) throws {
        let ref = try ForwardFixtures.Reference(name)
        let model = try Transformer(directory: ForwardFixtures.modelDirectory(name))
        let cache = model.makeCache(capacity: ref.inputIds.count)
        let logits = try model.forward(ref.inputIds, cache: cache)
        #expect(logits.count == ref.logits.count)
        let (err, at) = ForwardFixtures.maxError(logits, ref.logits)
        let V = model.config.vocabSize
        let bound = Self.relativeTolerance * ref.logitScale
        print("\(name): max |Δlogit| = \(err) (bound \(bound), logit scale \(ref.logitScale))")
        #expect(err <= bound, "\(name): worst logit at position \(at / V), token \(at % V): lep \(logits[at]) vs transformers \(ref.logits[at])")
    }

    @Test("without the GEMM kernel (sgemm on converted weights) the logits match too", arguments: ["llama3-bf16", "mistral-f32"])
    func blasPathMatches(name: String) throws {
        // Capping this thread's instruction set below AVX-512 turns the GEMM kernel off for its passes.
        Kernels.limitSIMD(1)
        defer { Kernels.limitSIMD(2) }
        #expect(!Kernels.hasGEMM)
        let ref = try ForwardFixtures.Reference(name)
        let model = try Transformer(directory: ForwardFixtures.modelDirectory(name))
        let logits = try model.forward(ref.inputIds, cache: model.makeCache(capacity: ref.inputIds.count))
        #expect(ForwardFixtures.maxError(logits, ref.logits).error <= Self.relativeTolerance * ref.logitScale)
    }

    @Test("an MLP width whose rows would alias in L1 (padded activation stride) gives the sgemm path's logits")
    func paddedActivationStride() throws {
        // tiny-llama3 at hidden 128: intermediate 384, a stride the GEMM kernel pads (the fixtures' 64 is not).
        let dir = NSTemporaryDirectory() + "lep-forward-stride-\(getpid())-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var options = Synthesizer.Options()
        (options.hidden, options.layers, options.vocab, options.dtype) = (128, 2, 300, .BF16)
        let config = try Synthesizer.synthesize(.tinyLlama3, options: options, output: dir)
        let ids = (0..<40).map { 4 + ($0 * 37) % 290 }
        #expect(Kernels.gemmStride(columns: config.intermediateSize, rows: ids.count) != config.intermediateSize)
        let model = try Transformer(directory: dir)
        let logits = try model.forward(ids, cache: model.makeCache(capacity: ids.count))
        Kernels.limitSIMD(1)
        defer { Kernels.limitSIMD(2) }
        let blas = try model.forward(ids, cache: model.makeCache(capacity: ids.count))
        let scale = blas.map(abs).max() ?? 0
        #expect(scale > 0)
        #expect(ForwardFixtures.maxError(logits, blas).error <= Self.relativeTolerance * scale)
    }

    @Test("greedy 32-token continuation equals transformers'", arguments: ForwardFixtures.names)
    func greedyMatches(name: String) throws {
        let ref = try ForwardFixtures.Reference(name)
        let model = try Transformer(directory: ForwardFixtures.modelDirectory(name))
        let prompt = Array(ref.inputIds.prefix(ref.greedyPromptLength))
        let out = try model.greedy(prompt: prompt, maxNewTokens: ref.greedyIds.count, stopIds: [])
        #expect(out == ref.greedyIds)
    }

    @Test("incremental decoding gives the full prefill's logits", arguments: ["llama3-f32", "mistral-f32"])
    func incrementalEqualsPrefill(name: String) throws {
        let ref = try ForwardFixtures.Reference(name)
        let model = try Transformer(directory: ForwardFixtures.modelDirectory(name))
        let ids = ref.inputIds
        let full = try model.forward(ids, cache: model.makeCache(capacity: ids.count))
        // A prefill of 5 tokens, a chunk of 7, then one token at a time (past the sliding window of 8).
        let cache = model.makeCache(capacity: ids.count)
        var steps = try model.forward(Array(ids[0..<5]), cache: cache)
        steps += try model.forward(Array(ids[5..<12]), cache: cache)
        for t in 12..<ids.count { steps += try model.forward([ids[t]], cache: cache, logits: .last) }
        let (err, at) = ForwardFixtures.maxError(steps, full)
        print("\(name): incremental vs prefill max |Δ| = \(err)")
        #expect(err <= 1e-5 * ref.logitScale, "worst at position \(at / model.config.vocabSize)")
        #expect(cache.count == ids.count)
    }

    @Test("mean NLL equals transformers' loss (labels = input ids)", arguments: ForwardFixtures.names)
    func nllMatchesLoss(name: String) throws {
        let ref = try ForwardFixtures.Reference(name)
        let model = try Transformer(directory: ForwardFixtures.modelDirectory(name))
        let l = try model.likelihood(of: ref.inputIds, context: ref.inputIds.count)
        #expect(l.tokens == ref.inputIds.count - 1 && l.windows == 1)
        print("\(name): NLL \(l.meanNLL) vs loss \(ref.loss)")
        #expect(abs(l.meanNLL - ref.loss) <= 1e-5 * ref.loss)
        #expect(abs(l.bitsPerByte(textBytes: 100) - l.totalNLL / (100 * log(2.0))) < 1e-12)
        // The standard error of the mean NLL against the per-token losses of transformers' logits
        // (two-pass sample variance with n − 1, in Double).
        let V = ref.logits.count / ref.inputIds.count
        var nll: [Double] = []
        for t in 0..<(ref.inputIds.count - 1) {
            let row = ref.logits[(t * V)..<((t + 1) * V)].map(Double.init)
            let m = row.max() ?? 0
            nll.append(m + log(row.reduce(0) { $0 + exp($1 - m) }) - row[ref.inputIds[t + 1]])
        }
        let mean = nll.reduce(0, +) / Double(nll.count)
        let se = (nll.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(nll.count - 1) / Double(nll.count)).squareRoot()
        let lepSE = try #require(l.meanNLLStandardError)
        #expect(abs(lepSE - se) <= 1e-3 * se, "\(name): se(NLL) lep \(lepSE) vs transformers' logits \(se)")
    }

    @Test("the sliding window matters: full attention would give other logits")
    func slidingWindowIsApplied() throws {
        // Without the window the logits after position 8 must differ; guards against a mask that
        // silently ignores sliding_window (the fixture sequence is 40 tokens, the window 8).
        let ref = try ForwardFixtures.Reference("mistral-f32")
        var config = try ModelConfig.load(directory: ForwardFixtures.modelDirectory("mistral-f32"))
        config.slidingWindow = nil
        let checkpoint = try Checkpoint(path: ForwardFixtures.modelDirectory("mistral-f32"))
        let model = try Transformer(weights: ModelWeights(config: config, checkpoint: checkpoint))
        let logits = try model.forward(ref.inputIds, cache: model.makeCache(capacity: ref.inputIds.count))
        let V = config.vocabSize
        let (early, _) = ForwardFixtures.maxError(Array(logits[0..<(8 * V)]), Array(ref.logits[0..<(8 * V)]))
        let (late, _) = ForwardFixtures.maxError(logits, ref.logits)
        #expect(early <= 1e-4 * ref.logitScale)
        #expect(late > 0.01)
    }

    @Test("weights are converted per layer and kept only within the budget")
    func streamingMatchesResident() throws {
        let ref = try ForwardFixtures.Reference("llama3-bf16")
        let streaming = try Transformer(directory: ForwardFixtures.modelDirectory("llama3-bf16"), residentBudget: 0)
        #expect(!streaming.weights.keepsConvertedWeights)
        let logits = try streaming.forward(ref.inputIds, cache: streaming.makeCache(capacity: ref.inputIds.count))
        #expect(ForwardFixtures.maxError(logits, ref.logits).error <= 1e-4 * ref.logitScale)
        let resident = try ModelWeights(directory: ForwardFixtures.modelDirectory("llama3-f32"))
        #expect(resident.keepsConvertedWeights)
        #expect(try resident.layer(0).q.isBorrowed)  // f32 weights are read in place
        #expect(try !ModelWeights(directory: ForwardFixtures.modelDirectory("llama3-bf16")).layer(0).q.isBorrowed)
    }

    @Test("rolling windows score every token after the first exactly once")
    func windows() {
        #expect(Likelihood.windows(count: 10, context: 4) == [0..<4, 3..<7, 6..<10])
        #expect(Likelihood.windows(count: 11, context: 4) == [0..<4, 3..<7, 6..<10, 9..<11])
        #expect(Likelihood.windows(count: 1, context: 4).isEmpty)
        for (n, c) in [(10, 4), (11, 4), (40, 7), (5, 100)] {
            #expect(Likelihood.windows(count: n, context: c).reduce(0) { $0 + $1.count - 1 } == n - 1)
        }
    }

    @Test("windowed NLL agrees with single-window NLL on positions both score from the same context")
    func windowedLikelihood() throws {
        let ref = try ForwardFixtures.Reference("llama3-f32")
        let model = try Transformer(directory: ForwardFixtures.modelDirectory("llama3-f32"))
        let ids = Array(ref.inputIds.prefix(16))
        let windowed = try model.likelihood(of: ids, context: 16)
        let split = try model.likelihood(of: ids, context: 9)
        #expect(split.tokens == 15 && split.windows == 2)
        #expect(abs(windowed.totalNLL - split.totalNLL) > 1e-6)  // the context restarts
        // The first window of the split run is the first 9 tokens of the full run.
        let first = try model.likelihood(of: Array(ids.prefix(9)), context: 9)
        let rest = try model.likelihood(of: Array(ids[8...]), context: 9)
        #expect(abs(first.totalNLL + rest.totalNLL - split.totalNLL) < 1e-9)
    }
}
