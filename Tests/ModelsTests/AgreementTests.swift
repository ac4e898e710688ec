import Foundation
import Models
import Testing

/// Agreement statistics against numpy (fixtures/forward/agreement.json from gen_forward.py).
@Suite("Agreement statistics")
struct AgreementTests {
    struct Expected: Decodable {
        let kl_mean, kl_median, kl_p99, kl_max, same_top1, delta_p_mean, delta_p_rms, ln_ppl_ratio: Double
        let positions: Int
    }

    @Test("llama3-bf16 vs llama3-f32 logits (transformers) give numpy's statistics")
    func matchesNumpy() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: ForwardFixtures.root + "/agreement.json"))
        let e = try JSONDecoder().decode(Expected.self, from: data)
        let p = try ForwardFixtures.Reference("llama3-f32"), q = try ForwardFixtures.Reference("llama3-bf16")
        var a = Agreement()
        a.add(reference: p.logits, candidate: q.logits, ids: p.inputIds[...], vocabSize: 256)
        let s = a.statistics
        #expect(s.positions == e.positions)
        func close(_ x: Double, _ y: Double, _ what: String) {
            #expect(abs(x - y) <= 1e-6 * max(abs(y), 1e-3), "\(what): lep \(x) vs numpy \(y)")
        }
        close(s.klMean, e.kl_mean, "KL mean"); close(s.klMedian, e.kl_median, "KL median")
        close(s.klP99, e.kl_p99, "KL p99"); close(s.klMax, e.kl_max, "KL max")
        close(s.sameTop1, e.same_top1, "same top-1"); close(s.deltaPMean, e.delta_p_mean, "Δp mean")
        close(s.deltaPRMS, e.delta_p_rms, "Δp RMS"); close(s.lnPPLRatio, e.ln_ppl_ratio, "ln PPL ratio")

        // Standard errors (s / √n, n − 1) of the per-position values, computed here in Double from
        // transformers' logits of both models.
        let V = 256
        var kl: [Double] = [], top: [Double] = [], dp: [Double] = [], lr: [Double] = []
        for t in 0..<(p.inputIds.count - 1) {
            func logSoftmax(_ l: [Float]) -> [Double] {
                let row = l[(t * V)..<((t + 1) * V)].map(Double.init)
                let m = row.max() ?? 0
                let z = m + log(row.reduce(0) { $0 + exp($1 - m) })
                return row.map { $0 - z }
            }
            let a = logSoftmax(p.logits), b = logSoftmax(q.logits)
            kl.append(max(0, zip(a, b).reduce(0) { $0 + exp($1.0) * ($1.0 - $1.1) }))
            top.append(a.firstIndex(of: a.max()!) == b.firstIndex(of: b.max()!) ? 1 : 0)
            let y = p.inputIds[t + 1]
            dp.append(exp(b[y]) - exp(a[y]))
            lr.append(a[y] - b[y])
        }
        func se(_ xs: [Double]) -> Double {
            let n = Double(xs.count), m = xs.reduce(0, +) / n
            return (xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / (n - 1) / n).squareRoot()
        }
        for (what, lep, want) in [
            ("KL mean", s.klMeanStandardError, se(kl)), ("same top-1", s.sameTop1StandardError, se(top)),
            ("Δp mean", s.deltaPMeanStandardError, se(dp)), ("ln PPL ratio", s.lnPPLRatioStandardError, se(lr))
        ] {
            let x = try #require(lep, "\(what): no standard error")
            #expect(abs(x - want) <= 1e-4 * max(want, 1e-9), "\(what) standard error: lep \(x) vs \(want) from transformers' logits")
        }
    }

    @Test("a model against itself: KL 0, same top-1 1, Δp 0")
    func selfAgreement() throws {
        let model = try Transformer(directory: ForwardFixtures.modelDirectory("mistral-bf16"))
        let ids = try ForwardFixtures.Reference("mistral-bf16").inputIds
        var a = Agreement()
        _ = try model.likelihood(of: ids, context: 16) { (w: ArraySlice<Int>, logits: [Float]) in
            a.add(reference: logits, candidate: logits, ids: w, vocabSize: model.config.vocabSize)
        }
        let s = a.statistics
        #expect(s.positions == ids.count - 1)
        #expect(s.klMax == 0 && s.sameTop1 == 1 && s.deltaPRMS == 0 && s.lnPPLRatio == 0)
    }

    @Test("percentiles interpolate linearly, as numpy does")
    func percentile() {
        #expect(Agreement.percentile([1, 2, 3, 4], 50) == 2.5)
        #expect(abs(Agreement.percentile([0, 10], 99) - 9.9) < 1e-12)
        #expect(Agreement.percentile([7], 99) == 7)
    }
}
