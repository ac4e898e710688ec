import CBLAS
import CJSONC
import CSentencePiece
import CZstd
import Foundation
import Testing
import TestSupport

/// Smoke tests: every system library links and answers.
@Suite struct CShimsTests {
    @Test func zstdRoundTrip() {
        let input = [UInt8](repeating: 42, count: 10_000) + Array("lep".utf8)
        var compressed = [UInt8](repeating: 0, count: ZSTD_compressBound(input.count))
        let n = ZSTD_compress(&compressed, compressed.count, input, input.count, 3)
        #expect(ZSTD_isError(n) == 0 && n < 200)
        var output = [UInt8](repeating: 0, count: input.count)
        let m = ZSTD_decompress(&output, output.count, compressed, n)
        #expect(m == input.count && output == input)
    }

    @Test func openBLASMatrixProduct() {
        // [1 2; 3 4] × [5 6; 7 8] = [19 22; 43 50]
        let a: [Float] = [1, 2, 3, 4], b: [Float] = [5, 6, 7, 8]
        var c = [Float](repeating: 0, count: 4)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 2, 2, 2, 1, a, 2, b, 2, 0, &c, 2)
        #expect(c == [19, 22, 43, 50])
    }

    @Test func lapackeCholesky() {
        var a: [Double] = [4, 2, 2, 3]  // SPD
        let info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "L")), 2, &a, 2)
        #expect(info == 0)
        #expect(abs(a[0] - 2) < 1e-12 && abs(a[2] - 1) < 1e-12 && abs(a[3] - 2.0.squareRoot()) < 1e-12)
    }

    @Test func jsonCParses() {
        let obj = json_tokener_parse(#"{"a":[1,2,3]}"#)
        #expect(obj != nil)
        var arr: OpaquePointer?
        #expect(json_object_object_get_ex(obj, "a", &arr) != 0)
        #expect(json_object_array_length(arr) == 3)
        json_object_put(obj)
    }

    @Test func sentencePieceLoadsAModel() throws {
        let path = SharedData.fixtures + "/spm/tiny_bpe.model"
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        var err = [CChar](repeating: 0, count: 256)
        let spm = lep_spm_load(bytes, bytes.count, &err, err.count)
        #expect(spm != nil, "\(String(cString: err))")
        guard let spm else { return }
        defer { lep_spm_free(spm) }
        #expect(lep_spm_piece_size(spm) == 300)
        var ids = [Int32](repeating: 0, count: 64)
        let text = "the cat sat"
        let n = lep_spm_encode(spm, text, text.utf8.count, &ids, ids.count)
        #expect(n > 0)
        var out = [CChar](repeating: 0, count: 64)
        let m = lep_spm_decode(spm, ids, Int(n), &out, out.count)
        #expect(String(decoding: out[0..<Int(m)].map { UInt8(bitPattern: $0) }, as: UTF8.self) == text)
        #expect(lep_spm_load([1, 2, 3], 3, &err, err.count) == nil)
    }
}
