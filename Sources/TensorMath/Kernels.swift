import CKernels

/// A row-major `[rows, columns]` matrix read in place from checkpoint storage (F32, BF16 or F16
/// little-endian elements at any alignment), e.g. a weight tensor in a mapped safetensors file.
public struct StoredMatrix: @unchecked Sendable {
    /// The first element.
    public let base: UnsafeRawPointer
    /// The element type.
    public let storage: FloatStorage
    /// Number of rows (a linear layer's output features).
    public let rows: Int
    /// Number of columns (input features).
    public let columns: Int

    /// A matrix at `base`; nil for F64 storage, which the kernels do not read.
    public init?(base: UnsafeRawPointer, storage: FloatStorage, rows: Int, columns: Int) {
        guard storage != .f64 else { return nil }
        self.base = base
        self.storage = storage
        self.rows = rows
        self.columns = columns
    }

    var kernelType: Int32 {
        switch storage {
        case .bf16: Int32(LEP_BF16)
        case .f16: Int32(LEP_F16)
        default: Int32(LEP_F32)
        }
    }
}

/// The forward pass's vector kernels (CKernels: AVX-512 or AVX2 chosen at run time, portable C
/// elsewhere), spread over `Parallel.threadCount` threads where the work is large.
package enum Kernels {
    /// One product of `linear(_:rows:ldx:_:)`: `y[t, o] = (accumulate ? y[t, o] : 0) + Σᵢ x[t, i]·W[o, i]`
    /// with y of row stride `ldy`.
    package struct LinearJob {
        package let weight: StoredMatrix
        package let output: UnsafeMutablePointer<Float>
        package let ldy: Int
        package let accumulate: Bool
        package init(weight: StoredMatrix, output: UnsafeMutablePointer<Float>, ldy: Int? = nil, accumulate: Bool = false) {
            self.weight = weight
            self.output = output
            self.ldy = ldy ?? weight.rows
            self.accumulate = accumulate
        }
    }

    /// Linear layers without bias on a few rows of x (`[rows, ldx]`, each row `weight.columns` long),
    /// reading each weight matrix once from memory: for decoding, where the products are
    /// matrix-vector and memory-bound. The output features of all `jobs` are split over the threads
    /// together (one parallel region for, e.g., the q, k and v projections).
    package static func linear(_ x: UnsafePointer<Float>, rows: Int, ldx: Int, _ jobs: [LinearJob]) {
        let total = jobs.reduce(0) { $0 + $1.weight.rows }
        guard rows > 0, total > 0 else { return }
        let columns = jobs[0].weight.columns
        precondition(jobs.allSatisfy { $0.weight.columns == columns } && ldx >= columns, "linear: input widths differ")
        // Offsets of each job's rows in the concatenated output features.
        var starts = [0]
        for j in jobs { starts.append(starts[starts.count - 1] + j.weight.rows) }
        let xp = UncheckedSendable(x)
        Parallel.forChunks(count: total, minChunk: max(16, 32768 / max(1, columns * rows))) { range in
            for (n, job) in jobs.enumerated() {
                let lo = max(range.lowerBound, starts[n]) - starts[n]
                let hi = min(range.upperBound, starts[n + 1]) - starts[n]
                guard lo < hi else { continue }
                lep_linear_rows(
                    xp.value, rows, ldx, job.weight.base, job.weight.kernelType, columns, lo, hi,
                    job.output, job.ldy, job.accumulate ? 1 : 0)
            }
        }
    }

    /// Whether ``gemm(_:rows:ldx:_:)`` runs its vector code on this CPU (AVX-512, and not capped by
    /// ``limitSIMD(_:)`` on this thread); otherwise long passes use BLAS on Float32 weights.
    package static var hasGEMM: Bool { lep_gemm_available() != 0 }

    /// The products of ``linear(_:rows:ldx:_:)`` on many rows (prefill): each weight matrix is read in
    /// place from its storage, 32 output features at a time converted into a panel (a buffer each thread
    /// keeps) and
    /// multiplied with all rows of x by a register-tiled kernel. The panels of all `jobs` are split
    /// over the threads together. For speed call it only when ``hasGEMM``.
    package static func gemm(_ x: UnsafePointer<Float>, rows: Int, ldx: Int, _ jobs: [LinearJob]) {
        let panel = Int(LEP_GEMM_PANEL)
        var starts = [0]  // first panel of each job in the concatenation
        for j in jobs { starts.append(starts[starts.count - 1] + (j.weight.rows + panel - 1) / panel) }
        let total = starts[starts.count - 1]
        guard rows > 0, total > 0 else { return }
        let columns = jobs[0].weight.columns
        precondition(jobs.allSatisfy { $0.weight.columns == columns } && ldx >= columns, "gemm: input widths differ")
        let (xs, ldxs) = unaliased(x, rows: rows, ldx: ldx, columns: columns)
        defer { if xs != x { xs.deallocate() } }
        let xp = UncheckedSendable(xs), ldx = ldxs
        // One panel at a time to whichever thread is free (a panel is ~0.2 ms at 512 rows).
        Parallel.forEachClaimed(count: total) { p in
            var n = 0
            while p >= starts[n + 1] { n += 1 }
            let job = jobs[n], lo = p - starts[n]
            lep_gemm_panels(
                xp.value, rows, ldx, job.weight.base, job.weight.kernelType, job.weight.rows, columns, lo, lo + 1,
                job.output, job.ldy, job.accumulate ? 1 : 0)
        }
    }

    /// x itself when its rows (stride `ldx`) fall in distinct sets of a 64-set, 64-byte-line L1 cache
    /// for the 14 rows the GEMM kernel reads at once; else a copy (the caller deallocates it) with the
    /// stride ``gemmStride(columns:rows:)`` (e.g. a 4096-float stride puts all 14 rows in one set and
    /// the kernel would miss L1 on every step).
    private static func unaliased(_ x: UnsafePointer<Float>, rows: Int, ldx: Int, columns: Int) -> (UnsafePointer<Float>, Int) {
        if distinctSets(ldx, rows: rows) { return (x, ldx) }
        let ld = gemmStride(columns: columns, rows: rows)
        let copy = UnsafeMutablePointer<Float>.allocate(capacity: rows * ld)
        let src = UncheckedSendable(x), dst = UncheckedSendable(copy)
        Parallel.forChunks(count: rows, minChunk: max(1, 65536 / max(1, columns))) { r in
            for t in r { (dst.value + t * ld).update(from: src.value + t * ldx, count: columns) }
        }
        return (UnsafePointer(copy), ld)
    }

    /// Whether rows of stride `ld` floats fall in distinct L1 sets for the GEMM kernel's 14-row tile.
    private static func distinctSets(_ ld: Int, rows: Int) -> Bool {
        Set((0..<min(rows, 14)).map { ($0 * ld * 4 / 64) % 64 }).count == min(rows, 14)
    }

    /// A row stride (in floats, ≥ `columns`) with which ``gemm(_:rows:ldx:_:)`` and
    /// ``gemmSwiGLU(_:rows:ldx:gate:up:into:ldy:)`` read `rows` input rows in place: `columns` itself
    /// when its rows fall in distinct L1 sets, else the next multiple of 16 floats that does. Buffers
    /// written for a later product (e.g. the MLP's activation, input of down_proj) use it to spare
    /// that product a copy.
    package static func gemmStride(columns: Int, rows: Int) -> Int {
        if distinctSets(columns, rows: rows) { return columns }
        var ld = (columns + 15) / 16 * 16
        while !distinctSets(ld, rows: rows) { ld += 16 }
        return ld
    }

    /// LLaMA's MLP activation on many rows with the two products fused: `y[t, o] = silu(x[t]·gate[o]) ·
    /// (x[t]·up[o])` (silu as ``SwiGLU``), the weights [I, columns] read in place as in
    /// ``gemm(_:rows:ldx:_:)``, y of row stride `ldy`. For speed call it only when ``hasGEMM``.
    package static func gemmSwiGLU(
        _ x: UnsafePointer<Float>, rows: Int, ldx: Int, gate: StoredMatrix, up: StoredMatrix, into y: UnsafeMutablePointer<Float>,
        ldy: Int
    ) {
        precondition(gate.rows == up.rows && gate.columns == up.columns && ldx >= gate.columns, "gemmSwiGLU: shapes differ")
        let panel = Int(LEP_GEMM_PANEL), panels = (gate.rows + panel - 1) / panel
        guard rows > 0 else { return }
        let (xs, ldxs) = unaliased(x, rows: rows, ldx: ldx, columns: gate.columns)
        defer { if xs != x { xs.deallocate() } }
        let xp = UncheckedSendable(xs), yp = UncheckedSendable(y), ldx = ldxs
        Parallel.forEachClaimed(count: panels) { p in
            lep_gemm_swiglu_panels(
                xp.value, rows, ldx, gate.base, gate.kernelType, up.base, up.kernelType, gate.rows, gate.columns, p, p + 1,
                yp.value, ldy)
        }
    }

    /// `dst[i] = src[i]` widened to Float for `count` elements of F32/BF16/F16 storage (exact), in parallel.
    package static func widen(_ src: UnsafeRawPointer, storage: FloatStorage, into dst: UnsafeMutablePointer<Float>, count: Int) {
        guard let m = StoredMatrix(base: src, storage: storage, rows: 1, columns: count) else {
            ElementConversion.convert(src, from: storage, to: UnsafeMutableRawPointer(dst), as: .f32, count: count)
            return
        }
        let type = m.kernelType, size = storage.byteSize
        Parallel.forChunks(count: count, minChunk: 1 << 16) { r in
            lep_to_f32(src + r.lowerBound * size, type, dst + r.lowerBound, r.count)
        }
    }

    /// Softmax of `x[0..<count]` in place (the maximum subtracted first), on this thread.
    @inline(__always)
    package static func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) { lep_softmax(x, count) }

    /// Attention of one query row `q` (d floats) on one head over `count` positions whose keys and
    /// values are rows of stride `ld` at `keys` and `values`: `out = Σₛ softmaxₛ(scale · q·kₛ) vₛ`.
    /// `scores` is scratch for `count` floats. On this thread.
    @inline(__always)
    package static func attend(
        q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, count: Int, ld: Int, d: Int,
        scale: Float, scores: UnsafeMutablePointer<Float>, into out: UnsafeMutablePointer<Float>
    ) {
        lep_attend(q, keys, values, count, ld, d, scale, scores, out)
    }

    /// `attend` with the keys transposed: `keysT` is `[d, ldk]` (key s's element i at `keysT[i·ldk + s]`),
    /// so the scores need no horizontal sums; for prefill, where one transposition serves every row.
    @inline(__always)
    package static func attendTransposed(
        q: UnsafePointer<Float>, keysT: UnsafePointer<Float>, ldk: Int, values: UnsafePointer<Float>, count: Int, ld: Int,
        d: Int, scale: Float, scores: UnsafeMutablePointer<Float>, into out: UnsafeMutablePointer<Float>
    ) {
        lep_attend_t(q, keysT, ldk, values, count, ld, d, scale, scores, out)
    }

    /// Floats ``attentionPack(keys:values:ld:count:d:into:)`` writes for one KV head.
    package static func attentionPackedCount(positions n: Int, d: Int) -> Int { lep_attention_packed_floats(n, d) }

    /// Packs one KV head's keys and values (position s's d floats at `keys + s·ld`, `values + s·ld`,
    /// s < n) as 32-key panels for ``attentionRows(q:ldq:rows:firstPosition:firstKeyPosition:window:packed:positions:d:scale:into:ldo:)``.
    package static func attentionPack(
        keys: UnsafePointer<Float>, values: UnsafePointer<Float>, ld: Int, positions n: Int, d: Int, into dst: UnsafeMutablePointer<Float>
    ) {
        lep_attention_pack(keys, values, ld, n, d, dst)
    }

    /// Causal attention of `rows` query rows of one head (row r at `q + r·ldq`, position p₀ + r) on a
    /// packed KV head whose key s is at position `firstKeyPosition + s`: the keys at positions
    /// `max(0, pos − window + 1)...pos` (window nil: all up to pos), `out = softmax(scale·q·kᵀ)·v`, as
    /// two tiled products on this thread. False (nothing written) without the GEMM kernel.
    package static func attentionRows(
        q: UnsafePointer<Float>, ldq: Int, rows: Int, firstPosition p0: Int, firstKeyPosition: Int, window: Int?,
        packed: UnsafePointer<Float>, positions n: Int, d: Int, scale: Float, into out: UnsafeMutablePointer<Float>, ldo: Int
    ) -> Bool {
        lep_attention_rows(q, ldq, rows, p0, firstKeyPosition, window ?? 0, packed, n, d, scale, out, ldo) != 0
    }

    /// The kernels' exponential of `count` values (`y` may be `x`), for tests.
    package static func exp(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) { lep_exp(x, y, count) }

    /// The instruction set in use on this thread: 0 portable C, 1 AVX2, 2 AVX-512.
    package static var simdLevel: Int { Int(lep_simd_level()) }

    /// Caps the instruction set of kernels called on this thread (for tests comparing the code paths;
    /// work spread over other threads keeps the best); returns the level in use.
    @discardableResult
    package static func limitSIMD(_ level: Int) -> Int { Int(lep_simd_limit(Int32(level))) }
}
