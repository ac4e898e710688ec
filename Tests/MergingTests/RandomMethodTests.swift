import Foundation
import Merging
import Recipes
import SafeTensors
import Surgery
import SurgeryTestSupport
import Testing

/// DARE and DELLA are random: their outputs are checked by statistics, on lep's output and on
/// mergekit's (fixtures/merge/out) alike, and for determinism by seed.
@Suite struct RandomMethodTests {
    struct Stats { var kept = 0; var total = 0; var l1Ratio: [Double] = []; var keptMag = 0.0; var droppedMag = 0.0; var nk = 0; var nd = 0 }

    /// Per-element statistics of output − base against model a's delta.
    static func stats(_ out: String, single: Bool) throws -> Stats {
        var s = Stats()
        let base = try Checkpoint(path: Fix.merge + "/models/base"), a = try Checkpoint(path: Fix.merge + "/models/a")
        let o = try Checkpoint(path: out)
        for n in base.tensorNames {
            let b = try base.view(n).floats(), x = try a.view(n).floats(), y = try o.view(n).floats()
            var before = 0.0, after = 0.0
            for i in b.indices {
                let d = Double(x[i]) - Double(b[i]), r = Double(y[i]) - Double(b[i])
                s.total += 1
                if r != 0 { s.kept += 1; s.keptMag += abs(d); s.nk += 1 } else { s.droppedMag += abs(d); s.nd += 1 }
                before += abs(d); after += abs(r)
            }
            if single, before > 1e-7 { s.l1Ratio.append(after / before) }
        }
        return s
    }

    @Test func dareLinearKeepsDensityAndRescales() throws {
        let recipe = try Recipe.load(path: Fix.merge + "/recipes/dare_linear.yml", baseDirectory: Fix.merge)
        for path in [try Fix.run(recipe), Fix.merge + "/out/dare_linear.safetensors"] {
            let s = try Self.stats(path, single: true)
            let kept = Double(s.kept) / Double(s.total)
            #expect(abs(kept - 0.3) < 0.03, "\(path): kept fraction \(kept), density 0.3")
            // L1 rescale: ‖δ̂‖₁ = ‖δ‖₁ per tensor (up to float32 rounding of θ₀ + δ̂).
            for r in s.l1Ratio { #expect(abs(r - 1) < 2e-3, "\(path): L1 ratio \(r)") }
        }
    }

    @Test func dareTiesElectsSigns() throws {
        let recipe = try Recipe.load(path: Fix.merge + "/recipes/dare_ties.yml", baseDirectory: Fix.merge)
        let out = try Fix.run(recipe)
        var fractions: [Double] = []
        for path in [out, Fix.merge + "/out/dare_ties.safetensors"] {
            let base = try Checkpoint(path: Fix.merge + "/models/base"), a = try Checkpoint(path: Fix.merge + "/models/a")
            let b = try Checkpoint(path: Fix.merge + "/models/b"), o = try Checkpoint(path: path)
            var changed = 0, total = 0, wrongSign = 0
            for n in base.tensorNames {
                let t0 = try base.view(n).floats(), ta = try a.view(n).floats(), tb = try b.view(n).floats(), to = try o.view(n).floats()
                for i in t0.indices {
                    total += 1
                    let r = to[i] - t0[i]
                    if r != 0 { changed += 1 }
                    let da = ta[i] - t0[i], db = tb[i] - t0[i]
                    // When both deltas agree in sign, the elected sign is theirs.
                    if da * db > 0, r != 0, (r > 0) != (da > 0) { wrongSign += 1 }
                }
            }
            #expect(wrongSign == 0, "\(path): \(wrongSign) elements against the elected sign")
            fractions.append(Double(changed) / Double(total))
        }
        // P(changed) = 1 − 0.6² (each model kept with p = 0.4), minus rare sign drops.
        #expect(abs(fractions[0] - fractions[1]) < 0.04, "changed fraction lep \(fractions[0]) vs mergekit \(fractions[1])")
        #expect(abs(fractions[0] - 0.64) < 0.04)
    }

    @Test func dellaPrefersLargeDeltas() throws {
        let recipe = try Recipe.load(path: Fix.merge + "/recipes/della.yml", baseDirectory: Fix.merge)
        for path in [try Fix.run(recipe), Fix.merge + "/out/della.safetensors"] {
            let s = try Self.stats(path, single: true)
            let kept = Double(s.kept) / Double(s.total)
            #expect(abs(kept - 0.4) < 0.03, "\(path): kept fraction \(kept), density 0.4")
            #expect(s.keptMag / Double(s.nk) > 1.05 * s.droppedMag / Double(s.nd), "\(path): kept |δ| not larger on average")
            for r in s.l1Ratio { #expect(abs(r - 1) < 2e-3, "\(path): L1 ratio \(r)") }
        }
    }

    @Test func sameSeedSameBytesOtherSeedOtherBytes() throws {
        for name in ["dare_ties", "della"] {
            var recipe = try Recipe.load(path: Fix.merge + "/recipes/\(name).yml", baseDirectory: Fix.merge)
            recipe.seed = 7
            let one = Fix.files(try Fix.run(recipe)), two = Fix.files(try Fix.run(recipe))
            #expect(one["model.safetensors"] == two["model.safetensors"], "\(name): seed 7 twice gave different shards")
            recipe.seed = 8
            let three = Fix.files(try Fix.run(recipe))
            #expect(one["model.safetensors"] != three["model.safetensors"], "\(name): seeds 7 and 8 gave the same shards")
        }
    }
}
