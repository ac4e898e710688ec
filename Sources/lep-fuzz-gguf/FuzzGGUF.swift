// Fuzz entry point for the GGUF header parser and the dequantiser.
//
// Any crash, trap or sanitizer report is a bug: the parser must reject bad input with an error, never
// crash. See FuzzSupport for how the target is built and run.
import FuzzSupport
import GGUF

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
@_cdecl("lep_fuzz_gguf_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    FuzzDriver.runLibFuzzer(argc, argv) { data, size in fuzzGGUF(data, size) }
}
#else
@main
struct Replay {
    static func main() { FuzzDriver.replayCommandLine { data, size in fuzzGGUF(data, size) } }
}
#endif
