// Fuzz entry point for the safetensors header parser.
//
// Normal build: `lep-fuzz-header FILE...` parses each file and prints the verdict (a corpus replayer).
// Fuzzer build (see the Makefile's `fuzz` target): built with -DLEP_FUZZING -sanitize=fuzzer, libFuzzer
// calls LLVMFuzzerTestOneInput with arbitrary bytes. Any crash, trap or sanitizer report is a bug:
// the parser must reject bad input with an error, never crash.
import SafeTensors

#if canImport(Glibc)
import Glibc
#endif

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
// SwiftPM links executables with `main` aliased to `<target>_main`; hand control to libFuzzer's driver.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

@_cdecl("lep_fuzz_header_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var c = argc
    var v = argv
    return LLVMFuzzerRunDriver(&c, &v) { data, size in fuzzHeader(data, size) }
}
#else
@main
struct FuzzReplay {
    static func main() {
        for path in CommandLine.arguments.dropFirst() {
            do {
                let file = try MappedFile(path: path)
                _ = fuzzHeader(file.bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), file.size)
                let header = try SafeTensorsHeader.parse(file: file.bytes, path: path)
                print("\(path): ok, \(header.tensors.count) tensors")
            } catch {
                print("\(path): rejected: \(error)")
            }
        }
    }
}
#endif
