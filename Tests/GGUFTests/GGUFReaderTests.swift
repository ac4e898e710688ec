import Foundation
import GGUF
import SafeTensors
import Testing
import TestSupport

/// The strict reader and the dequantiser, against files written and dequantised by llama.cpp's
/// `gguf` Python package (fixtures/gguf, scripts/fixtures/gen_gguf.py).
@Suite struct GGUFReaderTests {
    static let dir = SharedData.fixtures + "/gguf"

    @Test func everyTypeDequantisesLikeGGUF() throws {
        let file = try GGUFFile(path: Self.dir + "/types.gguf")
        let expected = try SafeTensorsFile(path: Self.dir + "/types.expected.safetensors")
        var seen: Set<GGMLType> = []
        for t in file.header.tensors {
            let want = try expected.view(t.name).floats()
            let got = try file.floats(t.name)
            #expect(t.shape == expected.header.tensors.first { $0.name == t.name }?.shape)
            #expect(got.count == want.count)
            // Bit-for-bit (NaN-free data): the kernels follow gguf.quants operation for operation.
            let bad = zip(got, want).enumerated().first { $0.element.0.bitPattern != $0.element.1.bitPattern }
            #expect(bad == nil, "\(t.name) (\(t.type.name)): element \(bad?.offset ?? -1) is \(bad?.element.0 ?? 0), gguf gives \(bad?.element.1 ?? 0)")
            seen.insert(t.type)
        }
        #expect(seen == Set(GGMLType.dequantizable), "the fixture covers every type lep reads")
    }

    @Test func q8_0QuantisationMatchesGGUF() throws {
        // llama-bpe.gguf holds gguf.quants.quantize(Q8_0) of known rows: re-quantising their
        // dequantised values must give the same bytes (Q8_0 is idempotent on its own grid).
        let file = try GGUFFile(path: Self.dir + "/llama-bpe.gguf")
        var checked = 0
        for t in file.header.tensors where t.type == .q8_0 {
            let values = try file.floats(t.name)
            let bytes = try #require(GGUFQuantizer.encode(values, as: .q8_0))
            #expect(bytes == Array(file.data(t)), "\(t.name)")
            checked += 1
        }
        #expect(checked >= 3)
    }

    // MARK: Malformed files

    /// A GGUF byte builder that can write wrong values on purpose.
    struct Raw {
        var bytes: [UInt8] = []
        mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
        mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
        mutating func str(_ s: String) { u64(UInt64(s.utf8.count)); bytes += s.utf8 }
        static func header(tensors: UInt64, kvs: UInt64, version: UInt32 = 3) -> Raw {
            var r = Raw()
            r.bytes = Array("GGUF".utf8)
            r.u32(version); r.u64(tensors); r.u64(kvs)
            return r
        }
        /// One F32 tensor [4] at `offset`.
        mutating func tensor(_ name: String, dims: [UInt64] = [4], type: UInt32 = 0, offset: UInt64 = 0) {
            str(name); u32(UInt32(dims.count)); for d in dims { u64(d) }; u32(type); u64(offset)
        }
        mutating func padAndData(_ n: Int) {
            while bytes.count % 32 != 0 { bytes.append(0) }
            bytes += [UInt8](repeating: 0, count: n)
        }
    }

    func parse(_ r: Raw) throws(GGUFError) -> GGUFHeader {
        var result: Result<GGUFHeader, GGUFError> = .failure(.writerMisuse("unreached"))
        r.bytes.withUnsafeBytes { p in
            do { result = .success(try GGUFHeader.parse(file: p, path: "bad.gguf")) } catch let e as GGUFError { result = .failure(e) } catch {}
        }
        return try result.get()
    }

    @Test func aValidMinimalFileParses() throws {
        var r = Raw.header(tensors: 1, kvs: 1)
        r.str("general.architecture"); r.u32(8); r.str("llama")
        r.tensor("a")
        r.padAndData(16)
        let h = try parse(r)
        #expect(h.tensors.count == 1 && h["general.architecture"]?.string == "llama")
    }

    @Test func malformedFilesAreRejectedWithTheirOwnError() throws {
        var r = Raw()
        r.bytes = Array("GGML".utf8) + [0, 0, 0, 0]
        #expect(throws: GGUFError.badMagic(path: "bad.gguf", found: Array("GGML".utf8))) { try parse(r) }

        r = Raw.header(tensors: 0, kvs: 0, version: 1)
        #expect(throws: GGUFError.unsupportedVersion(path: "bad.gguf", version: 1)) { try parse(r) }

        r = Raw.header(tensors: 0, kvs: 1_000_000_000)
        #expect(throws: GGUFError.countTooLarge(path: "bad.gguf", field: "metadata count", count: 1_000_000_000, limit: 0)) { try parse(r) }

        r = Raw.header(tensors: UInt64.max, kvs: 0)
        #expect(throws: GGUFError.countTooLarge(path: "bad.gguf", field: "tensor count", count: UInt64.max, limit: 0)) { try parse(r) }

        r = Raw.header(tensors: 0, kvs: 1)
        r.u64(UInt64.max); r.bytes += [UInt8](repeating: 1, count: 20)
        #expect(throws: GGUFError.truncated(path: "bad.gguf", offset: 32, needed: Int.max, field: "a metadata key")) { try parse(r) }

        r = Raw.header(tensors: 0, kvs: 1)
        r.str("k"); r.u32(99); r.u32(0)
        #expect(throws: GGUFError.unknownValueType(path: "bad.gguf", key: "k", code: 99)) { try parse(r) }

        r = Raw.header(tensors: 0, kvs: 1)
        r.str("k"); r.u32(9); r.u32(4); r.u64(1 << 40)
        #expect(throws: GGUFError.self) { try parse(r) }

        r = Raw.header(tensors: 0, kvs: 1)
        r.str("k"); r.u32(9); r.u32(9); r.u64(1); r.u32(9); r.u64(1); r.u32(9); r.u64(1); r.u32(4); r.u64(0)
        #expect(throws: GGUFError.nestingTooDeep(path: "bad.gguf", key: "k")) { try parse(r) }

        r = Raw.header(tensors: 0, kvs: 2)
        r.str("k"); r.u32(4); r.u32(1); r.str("k"); r.u32(4); r.u32(2)
        #expect(throws: GGUFError.duplicateKey(path: "bad.gguf", key: "k")) { try parse(r) }

        r = Raw.header(tensors: 0, kvs: 1)
        r.str("k"); r.u32(8); r.u64(2); r.bytes += [0xC3, 0x28]
        #expect(throws: GGUFError.invalidString(path: "bad.gguf", field: "the value of metadata 'k'")) { try parse(r) }

        r = Raw.header(tensors: 0, kvs: 1)
        r.str("general.alignment"); r.u32(4); r.u32(24)
        #expect(throws: GGUFError.invalidMetadata(path: "bad.gguf", key: "general.alignment", reason: "24 is not a power of two")) { try parse(r) }

        r = Raw.header(tensors: 1, kvs: 0)
        r.tensor("w", type: 77); r.padAndData(16)
        #expect(throws: GGUFError.unknownTensorType(path: "bad.gguf", tensor: "w", code: 77)) { try parse(r) }

        r = Raw.header(tensors: 1, kvs: 0)
        r.tensor("w", dims: [1, 1, 1, 1, 1]); r.padAndData(16)
        #expect(throws: GGUFError.invalidShape(path: "bad.gguf", tensor: "w", reason: "5 dimensions (GGUF allows 1 to 4)")) { try parse(r) }

        r = Raw.header(tensors: 1, kvs: 0)
        r.tensor("w", dims: [4, 0]); r.padAndData(16)
        #expect(throws: GGUFError.invalidShape(path: "bad.gguf", tensor: "w", reason: "dimension 0")) { try parse(r) }

        r = Raw.header(tensors: 1, kvs: 0)
        r.tensor("w", dims: [1 << 31, 1 << 31, 1 << 31]); r.padAndData(16)
        #expect(throws: GGUFError.invalidShape(path: "bad.gguf", tensor: "w", reason: "the element count overflows")) { try parse(r) }

        r = Raw.header(tensors: 1, kvs: 0)
        r.tensor("w", dims: [40], type: 8); r.padAndData(64)
        #expect(throws: GGUFError.rowNotBlockMultiple(path: "bad.gguf", tensor: "w", rowLength: 40, blockSize: 32, type: "Q8_0")) { try parse(r) }

        r = Raw.header(tensors: 1, kvs: 0)
        r.tensor("w", offset: 8); r.padAndData(64)
        #expect(throws: GGUFError.misalignedTensor(path: "bad.gguf", tensor: "w", offset: 8, alignment: 32)) { try parse(r) }

        r = Raw.header(tensors: 1, kvs: 0)
        r.tensor("w", dims: [64]); r.padAndData(16)
        #expect(throws: GGUFError.tensorPastEnd(path: "bad.gguf", tensor: "w", end: UInt64(r.bytes.count - 16 + 256), fileSize: r.bytes.count)) { try parse(r) }

        r = Raw.header(tensors: 2, kvs: 0)
        r.tensor("a", dims: [16]); r.tensor("b", dims: [4], offset: 32); r.padAndData(96)
        #expect(throws: GGUFError.overlappingTensors(path: "bad.gguf", first: "a", second: "b")) { try parse(r) }

        r = Raw.header(tensors: 2, kvs: 0)
        r.tensor("a"); r.tensor("a", offset: 32); r.padAndData(64)
        #expect(throws: GGUFError.duplicateTensor(path: "bad.gguf", tensor: "a")) { try parse(r) }
    }

    @Test func everyTruncationOfARealFileIsAnErrorNotACrash() throws {
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: Self.dir + "/llama-bpe.gguf")))
        let full = try bytes.withUnsafeBytes { try GGUFHeader.parse(file: $0, path: "x") }
        var rejected = 0
        for n in stride(from: 0, to: full.dataStart + 64, by: 13) {
            let cut = Array(bytes[..<n])
            var r = Raw()
            r.bytes = cut
            do {
                _ = try parse(r)
                Issue.record("a file cut at \(n) bytes was accepted")
            } catch {
                rejected += 1
                #expect(error.description.hasPrefix("bad.gguf: "))
            }
        }
        #expect(rejected > 100)
    }

    @Test func unsupportedQuantisationNamesTheTensorAndType() throws {
        var r = Raw.header(tensors: 1, kvs: 0)
        r.tensor("blk.0.attn_q.weight", dims: [256], type: 10)  // Q2_K
        r.padAndData(84)
        let t = NSTemporaryDirectory() + "lep-q2k-\(getpid()).gguf"
        try Data(r.bytes).write(to: URL(fileURLWithPath: t))
        defer { try? FileManager.default.removeItem(atPath: t) }
        let f = try GGUFFile(path: t)
        #expect(throws: GGUFError.unsupportedTensorType(path: t, tensor: "blk.0.attn_q.weight", type: "Q2_K")) { try f.floats("blk.0.attn_q.weight") }
        do { _ = try f.floats("blk.0.attn_q.weight") } catch { #expect(error.description.contains("llama-quantize")) }
    }
}
