import Dispatch
import Recipes
import SafeTensors
import Surgery
import TensorMath

/// One tensor merged in cache-sized chunks, read straight from the mapped inputs and written as
/// output blocks into an `OutputPipe`: each chunk's inputs are converted to float32 in a small
/// per-thread scratch, merged, checked for NaN/Inf and converted to the output dtype, so no
/// float32 copy of a whole input exists. Chunks of a block are split between `Parallel.threadCount`
/// threads.
///
/// - Elementwise methods (`MergeMethod.isElementwise`): `merge` runs on each chunk.
/// - Magnitude sparsification without rescaling (ties): each input's kept set is found over the whole
///   tensor first (`MagnitudeSelection`: δᵢ built chunk by chunk into (|δ|, index) pairs, torch's
///   selection, then a threshold and a bitmap of the kept ties), then δᵢ is rebuilt per chunk,
///   sparsified, weighted and combined.
/// - Random sparsification (DARE): the kept entries follow from their indices, so δᵢ is built,
///   sparsified and combined per chunk (after a pass for the L1 norms when rescaling).
/// - The rest of the task-arithmetic family with sparsification: the deltas δᵢ = θᵢ − θ₀ are built in
///   chunks into whole-tensor float32 buffers (the sparsifications need the whole tensor), each is
///   sparsified and weighted (inputs concurrently), then the consensus/sum step runs in chunks with
///   θ₀ re-read from the mapped base.
///
/// Both evaluate exactly the operations of the whole-tensor path, in the same order per element,
/// so the bytes are the same (tested in `ChunkedMergeTests`).
struct ChunkedMerge {
    /// A mapped input tensor.
    struct Operand: @unchecked Sendable {
        let data: UnsafeRawPointer
        let storage: FloatStorage
        /// mergekit's `dtype` cast applied after loading.
        let through: DType?
    }

    let task: MergePlan.TensorTask
    let method: any MergeMethod
    let base: Operand?
    let inputs: [Operand]
    /// The mapped tensors read (for read-ahead and dropping their pages).
    let views: [TensorView]
    let count: Int
    let output: FloatStorage
    let seed: UInt64
    let chunk: Int
    /// `MergeOptions.sideBySideElements`.
    let sideBySideLimit: Int

    /// nil when the tensor needs the whole-tensor path: vocabulary row maps, LoRA adapters,
    /// non-float or mismatched inputs (that path reports them), an empty tensor, or a method that is
    /// neither elementwise nor of the task-arithmetic family.
    init?(_ task: MergePlan.TensorTask, _ plan: MergePlan, chunk: Int, sideBySide: Int = 1 << 23) {
        guard task.rowMaps.isEmpty, let output = task.outDtype.floatStorage else { return nil }
        let count = task.shape.reduce(1, *)
        guard count > 0 else { return nil }
        let elementwise = plan.method.isElementwise(task.parameters, inputs: task.inputs.count)
        guard elementwise || plan.method is any TaskArithmeticMethod else { return nil }
        var views: [TensorView] = []
        func operand(_ s: Int, _ name: String) -> Operand? {
            let source = plan.sources[s]
            guard source.adapter == nil, let view = try? source.checkpoint.view(name), view.elementCount == count,
                let storage = view.dtype.floatStorage, let data = view.bytes.baseAddress
            else { return nil }
            views.append(view)
            // Rounding through the stored dtype changes no number (at most a NaN's quiet bit, and any
            // NaN fails the merge or is dropped by a selection that treats all NaNs alike): skipped.
            let through = plan.recipe.dtype == view.dtype ? nil : plan.recipe.dtype
            return Operand(data: data, storage: storage, through: through)
        }
        if let (s, name) = task.base {
            guard let b = operand(s, name) else { return nil }
            base = b
        } else {
            base = nil
        }
        var inputs: [Operand] = []
        for (s, name) in task.inputs {
            guard let x = operand(s, name) else { return nil }
            inputs.append(x)
        }
        guard base != nil || !inputs.isEmpty else { return nil }
        self.task = task
        self.method = plan.method
        self.inputs = inputs
        self.views = views
        self.count = count
        self.output = output
        self.seed = Kernels.mix(plan.recipe.seed ^ Kernels.stableHash(task.name))
        self.chunk = max(1, min(chunk, Kernels.chunk))
        self.sideBySideLimit = sideBySide
    }

    /// Asks the kernel to start reading the inputs' pages.
    func readAhead() { for v in views { v.file.willNeed(v.fileOffset..<(v.fileOffset + v.byteCount)) } }

    /// Drops the inputs' pages from the process (the page cache keeps them).
    func dropPages() { for v in views { v.file.dropPages(v.fileOffset..<(v.fileOffset + v.byteCount)) } }

    /// Merges the tensor into `pipe`, block after block. Returns false when the writer stopped (its
    /// error is the one to report).
    func run(into pipe: OutputPipe, scratch: ChunkScratch, pool: BufferPool) throws(SurgeryError) -> Bool {
        let slots = inputs.count + 1
        scratch.reserve(slotsPerPart: slots, chunk: chunk)
        if let terms = plainTaskArithmeticTerms() {
            return try emitFused(into: pipe, scratch: scratch) { r, output in
                TaskArithmeticBF16.merge(
                    base: terms.base, inputs: terms.inputs, weights: terms.weights, offset: r.lowerBound, count: r.count,
                    normalize: terms.normalize, divisor: terms.divisor, lambda: terms.lambda, into: output)
            }
        }
        if method.isElementwise(task.parameters, inputs: inputs.count) {
            return try emit(into: pipe, scratch: scratch) { (r, s) throws(SurgeryError) -> UnsafeMutablePointer<Float> in
                let baseBuffer = base.map { b in load(b, r, into: s) }
                var xs: [UnsafeMutableBufferPointer<Float>] = []
                for (i, x) in inputs.enumerated() { xs.append(load(x, r, into: s + (i + 1) * chunk)) }
                guard let out = baseBuffer ?? xs.first else { throw .tensorFailure(tensor: task.name, reason: "no inputs") }
                try method.merge(
                    MergeJob(
                        tensor: task.name, shape: task.shape, base: baseBuffer, inputs: xs,
                        parameters: task.parameters, seed: seed, output: out))
                return out.baseAddress!
            }
        }
        guard let family = method as? any TaskArithmeticMethod, let base else {
            throw .tensorFailure(tensor: task.name, reason: "\(method.name) needs a base")
        }
        if family.sparsification == .magnitude, !task.parameters.flag("rescale"), count <= TorchSortOrder.maxCount {
            return try runMagnitude(family, base: base, into: pipe, scratch: scratch)
        }
        if family.sparsification == .random { return try runRandom(family, base: base, into: pipe, scratch: scratch) }
        // δᵢ = θᵢ − θ₀ into whole-tensor buffers, chunk by chunk.
        pool.reset()
        let deltas = inputs.map { _ in pool.take(count) }
        let dbox = UncheckedSendable(deltas)
        scratch.forEachPart(0..<count, chunk: chunk) { part, r in
            let b = load(base, r, into: scratch.slot(part)).baseAddress!
            for (i, x) in inputs.enumerated() { delta(x, r, base: b, into: dbox.value[i].baseAddress! + r.lowerBound) }
        }
        // Sparsify and weight each δᵢ (the inputs concurrently), then combine in chunks.
        let job = MergeJob(tensor: task.name, shape: task.shape, base: nil, inputs: deltas, parameters: task.parameters, seed: seed, output: deltas[0])
        var results = [Result<Float, SurgeryError>](repeating: .success(0), count: deltas.count)
        results.withUnsafeMutableBufferPointer { rs in
            let box = UncheckedSendable(rs)
            DispatchQueue.concurrentPerform(iterations: deltas.count) { i in
                box.value[i] = Result { () throws(SurgeryError) in try family.prepareDelta(dbox.value[i], input: i, of: job) }
            }
        }
        var weights: [Float] = []
        for r in results { weights.append(try r.get()) }
        let combine = TaskArithmeticCombine(family, task.parameters, deltas: deltas, weights: weights)
        return try emit(into: pipe, scratch: scratch) { (r, s) throws(SurgeryError) -> UnsafeMutablePointer<Float> in
            let b = load(base, r, into: s).baseAddress!
            combine.apply(r, base: b, out: b)
            return b
        }
    }

    /// Magnitude sparsification without rescaling (ties): each input's kept set is found first (δᵢ
    /// built chunk by chunk straight into the selection's pairs; inputs side by side below
    /// `sideBySideLimit` elements, else in turn with each selection split between the threads), then
    /// δᵢ is computed again per chunk, sparsified by its `MagnitudeSelection`, weighted and combined
    /// (one C pass on bf16 inputs). No float32 copy of a whole δᵢ exists.
    private func runMagnitude(_ family: any TaskArithmeticMethod, base: Operand, into pipe: OutputPipe, scratch: ChunkScratch) throws(SurgeryError) -> Bool {
        let weights = inputs.indices.map { Float(task.parameters.number("weight", model: $0)) }
        let count = self.count, inputs = self.inputs, chunk = self.chunk
        // Small tensors: the inputs side by side, one thread each. Large ones: one after another (one
        // pair buffer), each with its pairs and partitions split between the threads.
        let sideBySide = count < sideBySideLimit
        var found = [MagnitudeSelection?](repeating: nil, count: inputs.count)
        found.withUnsafeMutableBufferPointer { out in
            let box = UncheckedSendable(out)
            let select = { (i: Int) in
                let x = inputs[i], density = task.parameters.number("density", model: i)
                if let (xb, bb) = Self.bf16Bits(x, base) {
                    box.value[i] = MagnitudeSelection(count: count, density: density, concurrentFill: !sideBySide) { r, out in
                        TorchPartition.magnitudePairs(x: xb + r.lowerBound, base: bb + r.lowerBound, count: r.count, first: r.lowerBound, into: out)
                    }
                    return
                }
                // MagnitudeSelection asks for up to Kernels.chunk elements at a time.
                let s = UnsafeMutablePointer<Float>.allocate(capacity: 2 * Kernels.chunk)
                defer { s.deallocate() }
                box.value[i] = MagnitudeSelection(count: count, density: density) { r, out in
                    delta(x, r, base: load(base, r, into: s + Kernels.chunk).baseAddress!, into: s)
                    TorchPartition.magnitudePairs(s, count: r.count, first: r.lowerBound, into: out)
                }
            }
            if sideBySide {
                let run = UncheckedSendable(select)
                DispatchQueue.concurrentPerform(iterations: inputs.count) { run.value($0) }
            } else {
                for i in inputs.indices { select(i) }
            }
        }
        let selections = found.compactMap { $0 }
        let combine = TaskArithmeticCombine(family, task.parameters, weights: weights)
        if let bb = Self.bf16Bits(base, base).map({ $0.1 }) {
            let xs = inputs.compactMap { Self.bf16Bits($0, base)?.0 }
            if xs.count == inputs.count {
                // One C pass per chunk, as in the plain case (the selections stay alive until it returns).
                let kept = selections.map(\.keptSet)
                return try withExtendedLifetime(selections) { () throws(SurgeryError) -> Bool in
                    try emitFused(into: pipe, scratch: scratch) { r, output in
                        TaskArithmeticBF16.mergeSparse(
                            base: bb, inputs: xs, weights: weights, kept: kept, offset: r.lowerBound, count: r.count, consensus: combine.consensus,
                            normalize: combine.normalize, divisor: combine.plainDivisor, lambda: combine.lambda, into: output)
                    }
                }
            }
        }
        return try emitCombined(base: base, combine: combine, into: pipe, scratch: scratch) { i, r, u in
            selections[i].weigh(u, count: r.count, first: r.lowerBound, weight: weights[i], into: u)
        }
    }

    /// Random (DARE) sparsification: whether an entry is kept depends only on its index (a
    /// counter-based draw), so no whole-tensor buffer is needed. With `rescale`, a first pass sums
    /// ‖δᵢ‖₁ and ‖δ̂ᵢ‖₁ over the same fixed chunks, in the same order, as `Kernels.l1` does, so the
    /// factor is the same float as on the whole-tensor path; the combine pass rebuilds δᵢ per chunk.
    private func runRandom(_ family: any TaskArithmeticMethod, base: Operand, into pipe: OutputPipe, scratch: ChunkScratch) throws(SurgeryError) -> Bool {
        let p = task.parameters
        let weights = inputs.indices.map { Float(p.number("weight", model: $0)) }
        let seeds = inputs.indices.map { Kernels.inputSeed(seed, $0) }
        // The keep probability of each input (nil: density ≥ 1, kept whole).
        let keep = inputs.indices.map { i -> Float? in p.number("density", model: i) >= 1 ? nil : Float(p.number("density", model: i)) }
        var factors = [Float?](repeating: nil, count: inputs.count)
        if p.flag("rescale") {
            for (i, x) in inputs.enumerated() {
                guard let k = keep[i] else { continue }
                let sums = Kernels.mapChunks(count, initial: (0.0, 0.0)) { r in l1Sums(x, r, base: base, seed: seeds[i], keep: k) }
                var before = 0.0, after = 0.0
                for (b, a) in sums {
                    before += b
                    after += a
                }
                if before >= 1e-7, after >= 1e-7 { factors[i] = Float(before / after) }
            }
        }
        let combine = TaskArithmeticCombine(family, p, weights: weights)
        return try emitCombined(base: base, combine: combine, into: pipe, scratch: scratch) { i, r, u in
            if let k = keep[i] {
                withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Self.maskStep) { m in
                    var lo = 0
                    while lo < r.count {
                        let n = min(Self.maskStep, r.count - lo)
                        BernoulliMask.fill(m.baseAddress!, count: n, seed: seeds[i], first: r.lowerBound + lo, p: k)
                        for j in 0..<n { u[lo + j] = m[j] != 0 ? u[lo + j] : 0 }
                        lo += n
                    }
                }
            }
            if let f = factors[i] { for j in 0..<r.count { u[j] *= f } }
            let w = weights[i]
            for j in 0..<r.count { u[j] = u[j] * w }
        }
    }

    /// Σ|δ| and Σ|δ| over the kept entries for elements `r` of `x`, in index order (as `Kernels.l1`
    /// sums one of its chunks), through a small stack scratch.
    private func l1Sums(_ x: Operand, _ r: Range<Int>, base: Operand, seed: UInt64, keep: Float) -> (Double, Double) {
        let step = Self.maskStep
        return withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * step) { t in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: step) { mask in
                let b = t.baseAddress!, d = b + step, m = mask.baseAddress!
                var before = 0.0, after = 0.0
                var lo = r.lowerBound
                while lo < r.upperBound {
                    let sub = lo..<min(r.upperBound, lo + step)
                    delta(x, sub, base: load(base, sub, into: b).baseAddress!, into: d)
                    BernoulliMask.fill(m, count: sub.count, seed: seed, first: lo, p: keep)
                    for j in 0..<sub.count {
                        let a = Double(abs(d[j]))
                        before += a
                        after += m[j] != 0 ? a : 0
                    }
                    lo = sub.upperBound
                }
                return (before, after)
            }
        }
    }

    /// Elements per step of the DARE loops (their scratch stays on the stack).
    private static let maskStep = 1024

    /// Fills output blocks with the task-arithmetic combine over deltas prepared per chunk: for each
    /// input i, δᵢ of the chunk's elements `r` is built at u, `prepare(i, r, u)` turns it into uᵢ
    /// (sparsified and weighted), and `TaskArithmeticCombine` adds them to θ₀.
    private func emitCombined(
        base: Operand, combine: TaskArithmeticCombine, into pipe: OutputPipe, scratch: ChunkScratch,
        _ prepare: (Int, Range<Int>, UnsafeMutablePointer<Float>) -> Void
    ) throws(SurgeryError) -> Bool {
        let inputs = self.inputs, chunk = self.chunk
        return try emit(into: pipe, scratch: scratch) { (r, s) throws(SurgeryError) -> UnsafeMutablePointer<Float> in
            let b = load(base, r, into: s).baseAddress!
            withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<Float>.self, capacity: inputs.count) { rows in
                for (i, x) in inputs.enumerated() {
                    let u = s + (i + 1) * chunk
                    delta(x, r, base: b, into: u)
                    prepare(i, r, u)
                    rows[i] = u
                }
                combine.apply(r, rows: rows.baseAddress!, origin: r.lowerBound, base: b, out: b)
            }
            return b
        }
    }

    /// The bfloat16 bits of `x` and `base` when both are stored as bfloat16 (2-byte aligned) without a
    /// cast through another dtype.
    private static func bf16Bits(_ x: Operand, _ base: Operand) -> (UnsafePointer<UInt16>, UnsafePointer<UInt16>)? {
        let both = [x, base]
        guard both.allSatisfy({ $0.storage == .bf16 && $0.through == nil && Int(bitPattern: $0.data) & 1 == 0 }) else { return nil }
        return (x.data.assumingMemoryBound(to: UInt16.self), base.data.assumingMemoryBound(to: UInt16.self))
    }

    /// δ = θ − θ₀ for elements `r` of `x` into `d`, with θ₀'s elements already at `b`.
    private func delta(_ x: Operand, _ r: Range<Int>, base b: UnsafePointer<Float>, into d: UnsafeMutablePointer<Float>) {
        _ = load(x, r, into: d)
        for k in 0..<r.count { d[k] = d[k] - b[k] }
    }

    /// What task arithmetic without selection or consensus on bf16 inputs needs (the common case:
    /// task_arithmetic, dense dare_linear/breadcrumbs): the bf16 bits of θ₀ and the θᵢ, the weights, and
    /// the divisor and λ of `TaskArithmeticMethod.merge`. nil when the tensor does not qualify (the
    /// generic chunked path runs instead).
    private struct PlainTerms: @unchecked Sendable {
        let base: UnsafePointer<UInt16>
        let inputs: [UnsafePointer<UInt16>]
        let weights: [Float]
        let normalize: Bool
        let divisor: Float
        let lambda: Float
    }

    private func plainTaskArithmeticTerms() -> PlainTerms? {
        guard let family = method as? any TaskArithmeticMethod, !family.consensus, let base,
            family.isElementwise(task.parameters, inputs: inputs.count)
        else { return nil }
        guard Self.bf16Bits(base, base) != nil, inputs.allSatisfy({ Self.bf16Bits($0, base) != nil }) else { return nil }
        let weights = inputs.indices.map { Float(task.parameters.number("weight", model: $0)) }
        let combine = TaskArithmeticCombine(family, task.parameters, deltas: [], weights: weights)
        return PlainTerms(
            base: base.data.assumingMemoryBound(to: UInt16.self), inputs: inputs.map { $0.data.assumingMemoryBound(to: UInt16.self) },
            weights: weights, normalize: combine.normalize, divisor: combine.plainDivisor, lambda: combine.lambda)
    }

    /// Converts elements `r` of `o` to float32 at `dst` (with the recipe's dtype rounding).
    private func load(_ o: Operand, _ r: Range<Int>, into dst: UnsafeMutablePointer<Float>) -> UnsafeMutableBufferPointer<Float> {
        ElementConversion.convertSerial(o.data + r.lowerBound * o.storage.byteSize, from: o.storage, to: UnsafeMutableRawPointer(dst), as: .f32, range: 0..<r.count)
        let buffer = UnsafeMutableBufferPointer(start: dst, count: r.count)
        if let t = o.through { TensorCast.round(buffer, through: t) }
        return buffer
    }

    /// Fills output blocks with a fused C merge: `merge(range, output)` writes the results of elements
    /// `range` rounded to bf16 straight into the block, or as float32 into the part's scratch, then
    /// converted like every other chunk; it returns how many are NaN or infinite.
    private func emitFused(into pipe: OutputPipe, scratch: ChunkScratch, _ merge: (Range<Int>, TaskArithmeticBF16.Output) -> Int) throws(SurgeryError) -> Bool {
        let output = self.output
        return try emitBlocks(into: pipe, scratch: scratch) { r, dst, s in
            if output == .bf16 { return merge(r, .bf16(dst.assumingMemoryBound(to: UInt16.self))) }
            let bad = merge(r, .f32(s))
            ElementConversion.convertSerial(UnsafeRawPointer(s), from: .f32, to: dst, as: output, range: 0..<r.count)
            return bad
        }
    }

    /// Fills output blocks: `body(range, scratch)` computes the float32 result of one chunk (in the
    /// part's scratch) and returns where it is; it is checked for NaN/Inf and converted into the block.
    private func emit(
        into pipe: OutputPipe, scratch: ChunkScratch,
        _ body: (Range<Int>, UnsafeMutablePointer<Float>) throws(SurgeryError) -> UnsafeMutablePointer<Float>
    ) throws(SurgeryError) -> Bool {
        let output = self.output
        return try emitBlocks(into: pipe, scratch: scratch) { (r, dst, s) throws(SurgeryError) -> Int in
            let y = try body(r, s)
            var n = 0
            for k in 0..<r.count where !y[k].isFinite { n += 1 }
            ElementConversion.convertSerial(UnsafeRawPointer(y), from: .f32, to: dst, as: output, range: 0..<r.count)
            return n
        }
    }

    /// Fills output blocks chunk by chunk: `fill(range, destination, scratch)` writes the output bytes of
    /// elements `range` at `destination` (using the part's float32 scratch if it needs one) and returns
    /// how many of them are NaN or infinite; any such element fails the tensor once all are counted.
    private func emitBlocks(
        into pipe: OutputPipe, scratch: ChunkScratch,
        _ fill: (Range<Int>, UnsafeMutableRawPointer, UnsafeMutablePointer<Float>) throws(SurgeryError) -> Int
    ) throws(SurgeryError) -> Bool {
        let size = output.byteSize
        let blockElements = max(chunk, pipe.blockBytes / size / chunk * chunk)
        var bad = 0
        var start = 0
        while start < count {
            guard var block = pipe.acquire() else { return false }
            let end = min(count, start + blockElements)
            let dst = UncheckedSendable(block.bytes), first = start
            bad += try scratch.forParts(start..<end, chunk: chunk) { (part, r) throws(SurgeryError) -> Int in
                try fill(r, dst.value + (r.lowerBound - first) * size, scratch.slot(part))
            }
            block.count = (end - start) * size
            pipe.submit(block)
            start = end
        }
        if bad > 0 { throw .nonFiniteOutput(tensor: task.name, count: bad) }
        return true
    }
}

/// Per-thread float32 scratch of the chunked merge, and the loop that splits a range between threads.
final class ChunkScratch: @unchecked Sendable {
    let parts = Parallel.threadCount
    private var memory = UnsafeMutablePointer<Float>.allocate(capacity: 1)
    private var perPart = 0

    deinit { memory.deallocate() }

    /// Makes room for `slotsPerPart` chunks per thread.
    func reserve(slotsPerPart: Int, chunk: Int) {
        let need = slotsPerPart * chunk
        guard need > perPart else { return }
        memory.deallocate()
        memory = .allocate(capacity: need * parts)
        perPart = need
    }

    /// The scratch of thread `part`: `slotsPerPart` chunks, one after another.
    func slot(_ part: Int) -> UnsafeMutablePointer<Float> { memory + part * perPart }

    /// Splits `range` into `parts` runs of whole chunks, one per thread, and calls `body(part, chunk)`
    /// for each chunk of a run in order; returns the sum of the results. The first error (by part) is thrown.
    @discardableResult
    func forParts(_ range: Range<Int>, chunk: Int, _ body: (Int, Range<Int>) throws(SurgeryError) -> Int) throws(SurgeryError) -> Int {
        let chunks = (range.count + chunk - 1) / chunk
        let used = max(1, min(parts, chunks))
        let perRun = (chunks + used - 1) / used
        var results = [Result<Int, SurgeryError>](repeating: .success(0), count: used)
        withoutActuallyEscaping(body) { b in
            let box = UncheckedSendable(b)
            results.withUnsafeMutableBufferPointer { rs in
                let out = UncheckedSendable(rs)
                let run = { (p: Int) in
                    var total = 0
                    for c in (p * perRun)..<min(chunks, (p + 1) * perRun) {
                        let lo = range.lowerBound + c * chunk
                        do throws(SurgeryError) { total += try box.value(p, lo..<min(range.upperBound, lo + chunk)) } catch {
                            out.value[p] = .failure(error); return
                        }
                    }
                    out.value[p] = .success(total)
                }
                let runBox = UncheckedSendable(run)
                if used == 1 { run(0) } else { DispatchQueue.concurrentPerform(iterations: used) { runBox.value($0) } }
            }
        }
        var total = 0
        for r in results { total += try r.get() }
        return total
    }

    /// `forParts` for a body that neither fails nor returns anything.
    func forEachPart(_ range: Range<Int>, chunk: Int, _ body: (Int, Range<Int>) -> Void) {
        _ = try? forParts(range, chunk: chunk) { (p, r) throws(SurgeryError) -> Int in
            body(p, r); return 0
        }
    }
}
