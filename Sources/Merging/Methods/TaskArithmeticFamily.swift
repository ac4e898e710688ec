/// How a task-arithmetic method thins each task vector δᵢ before combining (mergekit's `sparsify.py`;
/// n = elements of the tensor):
/// - `none`: δᵢ kept whole (task_arithmetic);
/// - `magnitude`: the max(1, ⌊density·n⌋) largest |δ| kept (ties);
/// - `random`: each entry kept with probability `density` (dare_*);
/// - `magnitude_outliers`: the ⌊γ·n⌋ largest |δ| dropped and ⌊density·n⌋ of the next largest kept (breadcrumbs*);
/// - `della_magprune`: per row, keep probability from density − ε (smallest |δ|) to density + ε
///   (largest) by magnitude rank (della*).
public enum Sparsification: String, Sendable {
    case none, magnitude, random, magnitudeOutliers = "magnitude_outliers", dellaMagprune = "della_magprune"
}

/// A method of the task-arithmetic family: which sparsification, whether sign consensus, defaults.
///
/// Generalised task arithmetic (mergekit's `GeneralizedTaskArithmeticMerge`), shared by
/// task_arithmetic, ties, dare_*, breadcrumbs*, della*.
///
///     δᵢ = θᵢ − θ₀;  δ̂ᵢ = sparsify(δᵢ, densityᵢ) (L1-rescaled when `rescale`);  uᵢ = wᵢ·δ̂ᵢ
///     consensus:  s = sign(Σᵢ uᵢ) (≥ 0 → +1),  mᵢ = [sign(uᵢ) = s]   (zeros drop out)
///     δ = Σᵢ mᵢuᵢ,  divisor = Σᵢ mᵢwᵢ (0 → 1)   — without consensus mᵢ = 1 and |Σᵢ wᵢ| < 1e-8 → 1
///     θ = θ₀ + λ · (normalize ? δ / divisor : δ)
///
/// Arithmetic is float32 in mergekit's order (each step rounded to f32 as torch does with
/// `dtype: float32`), so outputs equal mergekit's when it computes in float32.
public protocol TaskArithmeticMethod: MergeMethod {
    /// How each δᵢ is thinned before it is weighted.
    var sparsification: Sparsification { get }
    /// Whether the sign consensus (TIES) masks the deltas that disagree with the sign of their sum.
    var consensus: Bool { get }
    /// Default of the `normalize` parameter: divide by the (masked) weight sum.
    var defaultNormalize: Bool { get }
    /// Default of the `rescale` parameter: rescale each sparsified δᵢ to its original L1 norm.
    var defaultRescale: Bool { get }
}

extension TaskArithmeticMethod {
    /// Every method of the family needs a base: the task vectors are δᵢ = θᵢ − θ₀.
    public var basePolicy: BasePolicy { .required }
    /// One to 1024 models besides the base.
    public var inputCount: ClosedRange<Int> { 1...1024 }
    /// The random sparsifications (`random`, `della_magprune`) depend on the seed.
    public var isRandom: Bool { sparsification == .random || sparsification == .dellaMagprune }

    /// weight and density per model; lambda, normalize, rescale and int8_mask globally; gamma
    /// (breadcrumbs) and epsilon (della) per model where the sparsification uses them.
    public var parameters: [ParameterSpec] {
        var p: [ParameterSpec] = [
            ParameterSpec("weight", .perModel, .number, default: nil, "wᵢ, scale of model i's task vector"),
            ParameterSpec("density", .perModel, .number, default: .number(1), "fraction of δᵢ kept by sparsification"),
            ParameterSpec("lambda", .global, .number, default: .number(1), "λ, scale of the merged task vector"),
            ParameterSpec("normalize", .global, .bool, default: .bool(defaultNormalize), "divide by the (masked) weight sum"),
            ParameterSpec("rescale", .global, .bool, default: .bool(defaultRescale), "rescale sparsified δ to its original L1 norm"),
            ParameterSpec("int8_mask", .global, .bool, default: .bool(false), "accepted for mergekit compatibility (memory only; no effect)")
        ]
        if sparsification == .magnitudeOutliers {
            p.append(ParameterSpec("gamma", .perModel, .number, default: .number(0.01), "fraction of the largest |δ| dropped as outliers"))
        }
        if sparsification == .dellaMagprune {
            p.append(ParameterSpec("epsilon", .perModel, .number, default: .number(0.15), "keep probabilities span density ± epsilon"))
        }
        return p
    }

    /// Elementwise when nothing is sparsified (every sparsifier returns at once for density ≥ 1).
    public func isElementwise(_ parameters: ResolvedParameters, inputs: Int) -> Bool {
        sparsification == .none || (0..<inputs).allSatisfy { parameters.number("density", model: $0) >= 1 }
    }

    /// δᵢ = θᵢ − θ₀ in place, each sparsified and weighted, then combined elementwise into the output.
    /// Throws ``SurgeryError/tensorFailure(tensor:reason:)`` without a base, or for DELLA when
    /// density ± epsilon leaves (0, 1) (with 0 < density < 1).
    public func merge(_ job: MergeJob) throws(SurgeryError) {
        guard let base = job.base else { throw .tensorFailure(tensor: job.tensor, reason: "\(name) needs a base") }
        for x in job.inputs {
            Kernels.forEachChunk(x.count) { r in for k in r { x[k] = x[k] - base[k] } }
        }
        var weights: [Float] = []
        for i in job.inputs.indices { weights.append(try prepareDelta(job.inputs[i], input: i, of: job)) }
        let combine = TaskArithmeticCombine(self, job.parameters, deltas: job.inputs, weights: weights)
        guard let b = base.baseAddress, let out = job.output.baseAddress else { return }
        Kernels.forEachChunk(job.output.count) { r in combine.apply(r, base: b + r.lowerBound, out: out + r.lowerBound) }
    }

    /// The whole-tensor step for input `i`: sparsifies δᵢ (in `x`) in place and scales it by wᵢ;
    /// returns wᵢ. Inputs are independent, so they may be prepared concurrently.
    func prepareDelta(_ x: UnsafeMutableBufferPointer<Float>, input i: Int, of job: MergeJob) throws(SurgeryError) -> Float {
        let p = job.parameters
        let rescale = p.flag("rescale")
        let density = p.number("density", model: i)
        switch sparsification {
        case .none: break
        case .magnitude: Sparsify.magnitude(x, density: density, rescale: rescale)
        case .random: Sparsify.bernoulli(x, density: density, rescale: rescale, seed: Kernels.inputSeed(job.seed, i))
        case .magnitudeOutliers: Sparsify.magnitudeOutliers(x, density: density, gamma: p.number("gamma", model: i), rescale: rescale)
        case .dellaMagprune:
            try Sparsify.della(
                x, shape: job.shape, density: density, epsilon: p.number("epsilon", model: i), rescale: rescale,
                seed: Kernels.inputSeed(job.seed, i), tensor: job.tensor)
        }
        let w = Float(p.number("weight", model: i))
        Kernels.forEachChunk(x.count) { r in for k in r { x[k] = x[k] * w } }
        return w
    }
}

/// The elementwise last step of the task-arithmetic family, over prepared deltas uᵢ = wᵢ·δ̂ᵢ:
/// consensus mask, sum, divisor, λ, θ₀ +. The same code serves the whole-tensor `merge` and the
/// executor's chunked pass, so both give the same bits.
struct TaskArithmeticCombine: @unchecked Sendable {
    let table: PointerTable
    let consensus: Bool
    let normalize: Bool
    let lambda: Float
    let plainDivisor: Float

    init(_ method: some TaskArithmeticMethod, _ p: ResolvedParameters, deltas: [UnsafeMutableBufferPointer<Float>], weights: [Float]) {
        var plain: Float = 0
        for w in weights { plain += w }
        if abs(plain) < 1e-8 { plain = 1 }
        plainDivisor = plain
        table = PointerTable(deltas, weights: weights)
        consensus = method.consensus
        normalize = p.flag("normalize")
        lambda = Float(p.number("lambda"))
    }

    /// For deltas passed to each `apply(_:rows:origin:base:out:)` call: one per weight.
    init(_ method: some TaskArithmeticMethod, _ p: ResolvedParameters, weights: [Float]) {
        self.init(method, p, deltas: weights.map { _ in UnsafeMutableBufferPointer(start: nil, count: 0) }, weights: weights)
    }

    /// out[k − lo] = θ₀[k − lo] + λ·δ[k] for k in `range` (lo = range.lowerBound): `base` and `out` point
    /// at element lo (they may be the same memory); the deltas are indexed by k.
    ///
    /// Per element this is, in order: s = 0 + u₀ + u₁ + …; mixed = 0 + (agreeing uᵢ), divisor = 0 +
    /// (their wᵢ) (or the plain sums without consensus); mixed /= divisor; mixed *= λ; θ₀ + mixed.
    /// It runs over short blocks input by input so that the loops vectorise; adding +0 for a
    /// disagreeing input leaves a sum that started at +0 unchanged (it can never be −0).
    func apply(_ range: Range<Int>, base: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>) {
        apply(range, rows: table.rows, origin: 0, base: base, out: out)
    }

    /// `apply` over deltas held elsewhere: uᵢ[k] is `rows[i][k − origin]` (one row per weight, e.g. the
    /// prepared deltas of just this range, with `origin` = range.lowerBound).
    func apply(
        _ range: Range<Int>, rows: UnsafePointer<UnsafeMutablePointer<Float>>, origin: Int, base: UnsafeMutablePointer<Float>,
        out: UnsafeMutablePointer<Float>
    ) {
        let count = table.count, w = table.weights
        let consensus = consensus, normalize = normalize, lambda = lambda, plainDivisor = plainDivisor
        let block = 512
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 3 * block) { tmp in
            let sum = tmp.baseAddress!, mixed = sum + block, divisor = mixed + block
            var lo = range.lowerBound
            while lo < range.upperBound {
                let n = min(block, range.upperBound - lo), at = lo - range.lowerBound
                for j in 0..<n { mixed[j] = 0 }
                if consensus {
                    for j in 0..<n { sum[j] = 0; divisor[j] = 0 }
                    for i in 0..<count { let u = rows[i] + (lo - origin); for j in 0..<n { sum[j] += u[j] } }
                    // Whole vectors without branches (the kept/dropped pattern is random), then the tail.
                    let whole = n / 8 * 8
                    for i in 0..<count {
                        let u = rows[i] + (lo - origin), wi = w[i]
                        var j = 0
                        while j < whole {
                            let x = UnsafeRawPointer(u + j).loadUnaligned(as: SIMD8<Float>.self)
                            let s = UnsafeRawPointer(sum + j).loadUnaligned(as: SIMD8<Float>.self)
                            let agrees = (x .!= 0) .& .!((x .> 0) .^ (s .>= 0))
                            let m =
                                UnsafeRawPointer(mixed + j).loadUnaligned(as: SIMD8<Float>.self)
                                + SIMD8<Float>(repeating: 0).replacing(with: x, where: agrees)
                            let d =
                                UnsafeRawPointer(divisor + j).loadUnaligned(as: SIMD8<Float>.self)
                                + SIMD8<Float>(repeating: 0).replacing(with: wi, where: agrees)
                            UnsafeMutableRawPointer(mixed + j).storeBytes(of: m, as: SIMD8<Float>.self)
                            UnsafeMutableRawPointer(divisor + j).storeBytes(of: d, as: SIMD8<Float>.self)
                            j += 8
                        }
                        for j in whole..<n {
                            let agrees = u[j] != 0 && (u[j] > 0) == (sum[j] >= 0)
                            mixed[j] += agrees ? u[j] : 0
                            divisor[j] += agrees ? wi : 0
                        }
                    }
                    for j in 0..<n { divisor[j] = divisor[j] == 0 ? 1 : divisor[j] }
                } else {
                    for i in 0..<count { let u = rows[i] + (lo - origin); for j in 0..<n { mixed[j] += u[j] } }
                    for j in 0..<n { divisor[j] = plainDivisor }
                }
                if normalize { for j in 0..<n { mixed[j] /= divisor[j] } }
                if lambda != 1 { for j in 0..<n { mixed[j] *= lambda } }
                let b = base + at, o = out + at
                for j in 0..<n { o[j] = b[j] + mixed[j] }
                lo += n
            }
        }
    }
}

/// Sparsification of one task vector, in place (mergekit's `sparsify.py`).
enum Sparsify {
    /// Multiplies the kept entries by ‖before‖₁/‖after‖₁ unless either norm is below 1e-7.
    static func rescaleL1(_ x: UnsafeMutableBufferPointer<Float>, before: Double) {
        let after = Kernels.l1(x)
        guard before >= 1e-7, after >= 1e-7 else { return }
        let f = Float(before / after)
        Kernels.forEachChunk(x.count) { r in for k in r { x[k] *= f } }
    }

    /// ⌊f·n⌋ clamped to 0...n (NaN counts as 0): recipe numbers such as gamma 1e300 never trap.
    static func fractionCount(_ f: Double, of n: Int) -> Int {
        guard f > 0 else { return 0 }
        guard f < 1 else { return n }
        return Int(f * Double(n))
    }

    /// How many entries magnitude sparsification keeps: n at density ≥ 1, 0 at density ≤ 0 (or n = 0),
    /// else max(1, ⌊density·n⌋).
    static func magnitudeCount(_ density: Double, of n: Int) -> Int {
        if density >= 1 { return n }
        if density <= 0 || n == 0 { return 0 }
        return min(n, max(1, fractionCount(density, of: n)))
    }

    /// Keeps the k = max(1, ⌊density·n⌋) largest |δ|: the first k of mergekit's
    /// `argsort(|δ|, descending=True)`, equal |δ| in torch's order.
    static func magnitude(_ x: UnsafeMutableBufferPointer<Float>, density: Double, rescale: Bool) {
        let n = x.count, k = magnitudeCount(density, of: n)
        if k >= n { return }
        if k == 0 { Kernels.keepRanks(x, 0..<0); return }
        let before = rescale ? Kernels.l1(x) : 0
        Kernels.keepSorted(x, positions: 0..<k, descending: true)
        if rescale { rescaleL1(x, before: before) }
    }

    /// Drops the ⌊γ·n⌋ largest |δ| and the smallest, keeping ⌊density·n⌋ (breadcrumbs): positions
    /// n_bot..<n_bot + target of mergekit's ascending `torch.sort(|δ|)`, equal |δ| in torch's order.
    static func magnitudeOutliers(_ x: UnsafeMutableBufferPointer<Float>, density: Double, gamma: Double, rescale: Bool) {
        if density >= 1 { return }
        let n = x.count
        let target = fractionCount(density, of: n)
        let top = fractionCount(gamma, of: n)
        let bottom = max(0, n - target - top)
        let before = rescale ? Kernels.l1(x) : 0
        Kernels.keepSorted(x, positions: bottom..<min(n, bottom + target), descending: false)
        if rescale { rescaleL1(x, before: before) }
    }

    /// Keeps each entry with probability `density` (DARE).
    static func bernoulli(_ x: UnsafeMutableBufferPointer<Float>, density: Double, rescale: Bool, seed: UInt64) {
        if density >= 1 { return }
        let p = Float(density)
        let before = rescale ? Kernels.l1(x) : 0
        Kernels.forEachChunk(x.count) { r in for k in r where !(Kernels.uniform(seed, k) < p) { x[k] = 0 } }
        if rescale { rescaleL1(x, before: before) }
    }

    /// DELLA's MagPrune: per row, keep probability rises linearly with the magnitude rank from
    /// density − ε (smallest) to density + ε (largest). Ranks are mergekit's `argsort(|δ|, dim=1)`,
    /// equal magnitudes in torch's order; the Bernoulli draws are lep's own (never mergekit's bytes).
    static func della(_ x: UnsafeMutableBufferPointer<Float>, shape: [Int], density: Double, epsilon: Double, rescale: Bool, seed: UInt64, tensor: String) throws(SurgeryError) {
        if density >= 1 { return }
        if density <= 0 { Kernels.keepRanks(x, 0..<0); return }
        guard density + epsilon < 1, density - epsilon > 0 else {
            throw .tensorFailure(tensor: tensor, reason: "della needs 0 < density ± epsilon < 1 (density \(density), epsilon \(epsilon))")
        }
        let n = x.count
        let rows = shape.count >= 2 ? shape[0] : 1
        guard rows > 0, n > 0 else { return }
        let cols = n / rows
        let before = rescale ? Kernels.l1(x) : 0
        let lo = density - epsilon, span = 2 * epsilon
        DispatchRows.forEach(rows) { row in
            let start = row * cols
            let magnitudes = (0..<cols).map { abs(x[start + $0]) }
            let order = magnitudes.withUnsafeBufferPointer { TorchSortOrder.argsort($0, descending: false) }
            for (rank, j) in order.enumerated() {
                let norm = cols > 1 ? Double(rank) / Double(cols - 1) : 0
                let prob = Float(lo + norm * span)
                if !(Kernels.uniform(seed, start + j) < prob) { x[start + j] = 0 }
            }
        }
        if rescale { rescaleL1(x, before: before) }
    }
}

import Dispatch
import Recipes
import Surgery
import TensorMath

/// Parallel loop over rows.
enum DispatchRows {
    static func forEach(_ rows: Int, _ body: (Int) -> Void) {
        guard rows > 1, Parallel.threadCount > 1 else { for r in 0..<rows { body(r) }; return }
        withoutActuallyEscaping(body) { b in
            let box = UncheckedSendable(b)
            DispatchQueue.concurrentPerform(iterations: rows) { box.value($0) }
        }
    }
}
