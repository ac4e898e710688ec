#if canImport(Glibc)
import Glibc
#endif
import Recipes
import Surgery

/// `slerp`: spherical interpolation between the base v₀ and one other model v₁, per tensor.
///
///     Ω = arccos(⟨v₀/‖v₀‖, v₁/‖v₁‖⟩)  (clamped to [−1, 1]);  |cos Ω| > 0.9995 → (1−t)v₀ + t·v₁
///     else  sin((1−t)Ω)/sin Ω · v₀ + sin(tΩ)/sin Ω · v₁   (unnormalised originals)
///
/// Reference: Shoemake 1985; mergekit `merge_methods/slerp.py` (norms below 1e-8 count as 1).
public struct SlerpMerge: MergeMethod {
    public let name = "slerp"
    public let summary = "spherical interpolation between base (t = 0) and the other model (t = 1)"
    public let reference = "Shoemake 1985; https://en.wikipedia.org/wiki/Slerp"
    public let basePolicy = BasePolicy.required
    public let inputCount: ClosedRange<Int> = 1...1
    public let isRandom = false
    public let parameters = [ParameterSpec("t", .global, .number, default: nil, "interpolation factor, 0 = base, 1 = other")]
    /// The method; it holds no settings (its parameters come from the recipe, per tensor).
    public init() {}

    public func merge(_ job: MergeJob) throws(SurgeryError) {
        guard let a = job.base else { throw .tensorFailure(tensor: job.tensor, reason: "slerp needs a base") }
        let b = job.inputs[0], out = job.output
        let t = Float(job.parameters.number("t"))
        var na = Float(
            Kernels.sum(a.count) { r in
                var s = 0.0; for k in r { s += Double(a[k]) * Double(a[k]) }; return s
            }.squareRoot())
        var nb = Float(
            Kernels.sum(b.count) { r in
                var s = 0.0; for k in r { s += Double(b[k]) * Double(b[k]) }; return s
            }.squareRoot())
        if !(na > 1e-8) { na = 1 }
        if !(nb > 1e-8) { nb = 1 }
        let (ina, inb) = (na, nb)
        var dot = Float(
            Kernels.sum(a.count) { r in
                var s = 0.0; for k in r { s += Double(a[k] / ina) * Double(b[k] / inb) }; return s
            })
        dot = min(1, max(-1, dot))
        let ca: Float, cb: Float
        if abs(dot) > 0.9995 {
            ca = 1 - t; cb = t
        } else {
            let theta = acosf(dot)
            let s = sinf(theta)
            ca = sinf((1 - t) * theta) / s
            cb = sinf(t * theta) / s
        }
        Kernels.forEachChunk(out.count) { r in for k in r { out[k] = ca * a[k] + cb * b[k] } }
    }
}
