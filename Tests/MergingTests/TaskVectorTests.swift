import Foundation
import Merging
import Recipes
import SafeTensors
import Surgery
import SurgeryTestSupport
import Testing

/// `diff` / `apply`: task vectors compressed with zstd.
@Suite struct TaskVectorTests {
    @Test func f32DeltaRoundTripsExactly() throws {
        let dir = Fix.tempDir()
        var o = TaskVector.DiffOptions()
        o.dtype = .F32
        let s = try TaskVector.diff(base: Fix.merge + "/models/base", tuned: Fix.merge + "/models/a", output: dir + "/delta", options: o)
        #expect(s.tensors == 21 && s.compressedBytes > 0)
        _ = try TaskVector.apply(base: Fix.merge + "/models/base", delta: dir + "/delta", output: dir + "/out", options: .init())
        let a = try Fix.tensors(Fix.merge + "/models/a"), out = try Fix.tensors(dir + "/out")
        for (n, t) in a { #expect(out[n]?.1 == t.1, "\(n) not reproduced") }
    }

    /// A bf16 delta is rounded once (≤ ½ ulp of δ) and the sum once more (≤ ½ ulp of the result).
    @Test func bf16DeltaIsWithinRoundingAndSmaller() throws {
        let dir = Fix.tempDir()
        let s = try TaskVector.diff(base: Fix.merge + "/models/base", tuned: Fix.merge + "/models/a", output: dir + "/delta", options: .init())
        #expect(s.ratio > 1.0, "compression ratio \(s.ratio)")
        _ = try TaskVector.apply(base: Fix.merge + "/models/base", delta: dir + "/delta", output: dir + "/out", options: .init())
        let c = try Checkpoint(path: Fix.merge + "/models/a"), base = try Checkpoint(path: Fix.merge + "/models/base")
        var exact = 0, total = 0
        for n in c.tensorNames {
            let a = try c.view(n).floats(), b = try Fix.floats(dir + "/out", n), z = try base.view(n).floats()
            for i in a.indices {
                let bound = (Fix.ulp(a[i], .BF16) + Fix.ulp(a[i] - z[i], .BF16)) / 2
                #expect(abs(a[i] - b[i]) <= bound, "\(n)[\(i)]: \(b[i]) vs \(a[i])")
                if a[i] == b[i] { exact += 1 }
                total += 1
            }
        }
        #expect(Double(exact) / Double(total) > 0.8, "only \(exact)/\(total) exact")
    }

    @Test func densityTrimsAndScaleScales() throws {
        let dir = Fix.tempDir()
        var o = TaskVector.DiffOptions()
        o.density = 0.25
        o.dtype = .F32
        _ = try TaskVector.diff(base: Fix.merge + "/models/base32", tuned: Fix.merge + "/models/a32", output: dir + "/delta", options: o)
        var a = TaskVector.ApplyOptions()
        a.scale = 0
        _ = try TaskVector.apply(base: Fix.merge + "/models/base32", delta: dir + "/delta", output: dir + "/zero", options: a)
        let base = try Fix.tensors(Fix.merge + "/models/base32"), zero = try Fix.tensors(dir + "/zero")
        for (n, t) in base { #expect(zero[n]?.1 == t.1, "scale 0 changed \(n)") }
        _ = try TaskVector.apply(base: Fix.merge + "/models/base32", delta: dir + "/delta", output: dir + "/out", options: .init())
        let b = try Checkpoint(path: Fix.merge + "/models/base32")
        var changed = 0, total = 0
        for n in b.tensorNames {
            let x = try b.view(n).floats(), y = try Fix.floats(dir + "/out", n)
            total += x.count
            changed += zip(x, y).filter { $0 != $1 }.count
            #expect(zip(x, y).filter { $0 != $1 }.count <= max(1, x.count / 4), "\(n): more than density changed")
        }
        #expect(Double(changed) / Double(total) > 0.2)
    }

    @Test func applyRefusesAMismatchedBase() throws {
        let dir = Fix.tempDir()
        _ = try TaskVector.diff(base: Fix.merge + "/models/base", tuned: Fix.merge + "/models/a", output: dir + "/delta", options: .init())
        try Fix.synth(dir + "/wide", hidden: 32)
        #expect(throws: SurgeryError.self) {
            _ = try TaskVector.apply(base: dir + "/wide", delta: dir + "/delta", output: dir + "/out", options: .init())
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/out"))
    }
}
