// Fuzz entry point for the safetensors header parser.
//
// Accepted headers must describe byte ranges inside the file. See FuzzSupport for how the target is
// built and run.
import FuzzSupport
import SafeTensors

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHeader(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let buffer = UnsafeRawBufferPointer(start: data, count: size)
    if let header = try? SafeTensorsHeader.parse(file: buffer, path: "<fuzz>") {
        // Touch every accepted tensor's bytes to prove the ranges are inside the buffer.
        var sum: UInt8 = 0
        for t in header.tensors where t.byteCount > 0 {
            sum &+= buffer[header.dataStart + t.dataOffsets.lowerBound]
            sum &+= buffer[header.dataStart + t.dataOffsets.upperBound - 1]
        }
        if sum == 0x5A { return 0 }
    }
    return 0
}

#if LEP_FUZZING
@_cdecl("lep_fuzz_header_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    FuzzDriver.runLibFuzzer(argc, argv) { data, size in fuzzHeader(data, size) }
}
#else
@main
struct Replay {
    static func main() { FuzzDriver.replayCommandLine { data, size in fuzzHeader(data, size) } }
}
#endif
