// Fuzz entry point for the GGUF header parser and the dequantiser.
//
// Normal build: `lep-fuzz-gguf FILE...` parses each file and prints the verdict (a corpus replayer).
// Fuzzer build (the Makefile's fuzz loop): built with -DLEP_FUZZING -sanitize=fuzzer, libFuzzer calls
// LLVMFuzzerTestOneInput with arbitrary bytes. Any crash, trap or sanitizer report is a bug: the
// parser must reject bad input with an error, never crash.
import GGUF

#if canImport(Glibc)
import Glibc
#endif

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGGUF(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let buffer = UnsafeRawBufferPointer(start: data, count: size)
    if let header = try? GGUFHeader.parse(file: buffer, path: "<fuzz>") {
        // Dequantise every accepted tensor (small ones) to prove the ranges are inside the buffer.
        var sum: Float = 0
        for t in header.tensors where t.byteCount <= 1 << 16 {
            let bytes = UnsafeRawBufferPointer(rebasing: buffer[(header.dataStart + t.offset)..<(header.dataStart + t.offset + t.byteCount)])
            if let v = GGUFDequantizer.dequantize(bytes, type: t.type, count: t.elementCount) { sum += v.first ?? 0 }
        }
        if sum == 12345 { return 0 }
    }
    return 0
}

#if LEP_FUZZING
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

@_cdecl("lep_fuzz_gguf_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var c = argc
    var v = argv
    return LLVMFuzzerRunDriver(&c, &v) { data, size in fuzzGGUF(data, size) }
}
#else
@main
struct FuzzReplay {
    static func main() {
        for path in CommandLine.arguments.dropFirst() {
            do {
                let file = try GGUFFile(path: path)
                print("\(path): ok, \(file.header.tensors.count) tensors, \(file.header.metadata.count) metadata entries")
            } catch {
                print("\(path): rejected: \(error)")
            }
        }
    }
}
#endif
