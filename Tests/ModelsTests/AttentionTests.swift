import LEPJSON
@testable import Models
import Foundation
import TensorMath
import Testing

/// Attention's paths (vector kernels per row for few rows; for many, the GEMM kernel's tiles, or
/// OpenBLAS products without AVX-512, forced here by capping the instruction set) against the
/// definition computed in Double: several blocks, positions already in the cache, GQA, with and
/// without a sliding window.
@Suite("Attention paths vs the definition")
struct AttentionTests {
    static func config(window: Int?) throws -> ModelConfig {
        var pairs: [(String, JSONValue)] = [
            ("model_type", .string(window == nil ? "llama" : "mistral")), ("vocab_size", .number(JSONNumber(32))),
            ("hidden_size", .number(JSONNumber(64))), ("intermediate_size", .number(JSONNumber(64))),
            ("num_hidden_layers", .number(JSONNumber(1))), ("num_attention_heads", .number(JSONNumber(6))),
            ("num_key_value_heads", .number(JSONNumber(2))), ("head_dim", .number(JSONNumber(16)))
        ]
        if let window { pairs.append(("sliding_window", .number(JSONNumber(window)))) }
        return try ModelConfig(object: JSONObject(pairs), path: "test")
    }

    /// outₜ = softmax(qₜ·kₛ/√d over pₜ − W < s ≤ pₜ)·v in Double.
    static func definition(q: [Float], keys: [Float], values: [Float], T: Int, p0: Int, c: ModelConfig) -> [Double] {
        let d = c.headDim, nH = c.numAttentionHeads, nKV = c.numKeyValueHeads, group = nH / nKV
        var out = [Double](repeating: 0, count: T * nH * d)
        for t in 0..<T {
            let pos = p0 + t, lo = c.slidingWindow.map { max(0, pos - $0 + 1) } ?? 0
            for j in 0..<nH {
                let g = j / group
                var s: [Double] = []
                for k in lo...pos {
                    var dot = 0.0
                    for i in 0..<d { dot += Double(q[t * nH * d + j * d + i]) * Double(keys[k * nKV * d + g * d + i]) }
                    s.append(dot / Double(d).squareRoot())
                }
                let m = s.max()!
                let e = s.map { Foundation.exp($0 - m) }, z = e.reduce(0, +)
                for (idx, k) in (lo...pos).enumerated() {
                    for i in 0..<d { out[t * nH * d + j * d + i] += e[idx] / z * Double(values[k * nKV * d + g * d + i]) }
                }
            }
        }
        return out
    }

    @Test("every path equals the definition", arguments: [(nil, 0, 150), (nil, 37, 150), (50, 0, 150), (50, 37, 150), (nil, 20, 5), (50, 90, 7)] as [(Int?, Int, Int)])
    func pathsMatch(window: Int?, p0: Int, T: Int) throws {
        let c = try Self.config(window: window)
        let d = c.headDim, nH = c.numAttentionHeads, nKV = c.numKeyValueHeads
        var rng = SystemRandomNumberGenerator()
        func random(_ n: Int) -> [Float] { (0..<n).map { _ in Float.random(in: -2...2, using: &rng) } }
        let q = random(T * nH * d), keys = random((p0 + T) * nKV * d), values = random((p0 + T) * nKV * d)
        let ref = Self.definition(q: q, keys: keys, values: values, T: T, p0: p0, c: c)
        defer { Kernels.limitSIMD(2) }
        for level in [2, 1] {
            Kernels.limitSIMD(level)
            var out = [Float](repeating: .nan, count: T * nH * d)
            q.withUnsafeBufferPointer { qp in
                keys.withUnsafeBufferPointer { kp in
                    values.withUnsafeBufferPointer { vp in
                        out.withUnsafeMutableBufferPointer { op in
                            Attention.forward(
                                q: qp.baseAddress!, keys: kp.baseAddress!, values: vp.baseAddress!, rows: T, firstPosition: p0,
                                config: c, into: op.baseAddress!)
                        }
                    }
                }
            }
            let worst = zip(out, ref).map { abs(Double($0) - $1) }.max()!
            #expect(worst < 2e-5, "max |Δ| \(worst) (level \(level), window \(window.map(String.init) ?? "none"), p0 \(p0), T \(T))")
        }
        #expect(T < Attention.productMinRows || T > max(Attention.blockRows, Attention.tiledRows), "the T = 150 cases cross block boundaries")
    }
}
