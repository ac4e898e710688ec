// The part every `lep-fuzz-*` target shares: hand control to libFuzzer in a fuzzer build, replay
// files otherwise.
//
// Fuzzer build (the Makefile's `fuzz` target): compiled with -sanitize=fuzzer,address and
// -DLEP_FUZZING; libFuzzer calls each target's `LLVMFuzzerTestOneInput` with arbitrary bytes. Any
// crash, trap, sanitizer report, timeout or out-of-memory is a bug: a parser must refuse bad input
// with an error, never crash or hang. Normal build: `lep-fuzz-NAME FILE...` runs the same entry point
// on each file (to replay a crash or a corpus) and prints a line per file.
import SafeTensors
#if canImport(Glibc)
import Glibc
#endif

/// The signature of a fuzz entry point (`LLVMFuzzerTestOneInput`).
public typealias FuzzEntryPoint = @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32

#if LEP_FUZZING
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: FuzzEntryPoint
) -> Int32
#endif

/// Runs a fuzz target: libFuzzer's driver in a fuzzer build, a replay of the files named on the
/// command line otherwise.
public enum FuzzDriver {
    /// Hands `argc`/`argv` to libFuzzer (fuzzer builds only).
    public static func runLibFuzzer(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ entry: FuzzEntryPoint) -> Int32 {
        #if LEP_FUZZING
        var c = argc
        var v = argv
        return LLVMFuzzerRunDriver(&c, &v, entry)
        #else
        return replay(Array(CommandLine.arguments.dropFirst()), entry)
        #endif
    }

    /// Replays the files named on the command line and exits (non-zero when one cannot be read).
    public static func replayCommandLine(_ entry: FuzzEntryPoint) -> Never {
        exit(replay(Array(CommandLine.arguments.dropFirst()), entry))
    }

    /// Calls `entry` on the bytes of each file; prints one line per file.
    public static func replay(_ paths: [String], _ entry: FuzzEntryPoint) -> Int32 {
        var status: Int32 = 0
        for path in paths {
            do {
                let file = try MappedFile(path: path)
                _ = entry(file.bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), file.size)
                print("\(path): \(file.size) bytes, no crash")
            } catch {
                print("\(path): \(error)")
                status = 1
            }
        }
        return status
    }
}

/// Splits fuzz input at the first NUL byte: (before, after); `after` is nil without a NUL.
public func splitAtNUL(_ buffer: UnsafeRawBufferPointer) -> (UnsafeRawBufferPointer, UnsafeRawBufferPointer?) {
    guard let i = buffer.firstIndex(of: 0) else { return (buffer, nil) }
    return (UnsafeRawBufferPointer(rebasing: buffer[..<i]), UnsafeRawBufferPointer(rebasing: buffer[(i + 1)...]))
}

/// The bytes as text, invalid UTF-8 replaced (fuzzed text need not be valid).
public func lossyText(_ buffer: UnsafeRawBufferPointer) -> String {
    String(decoding: buffer, as: UTF8.self)
}
