// Fuzz target for the strict JSON parser (every JSON file lep reads goes through it).
// Accepted documents must survive a round trip: written compactly and parsed again, they give the
// same value. See FuzzSupport for how the target is built and run.
import FuzzSupport
import LEPJSON

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let buffer = UnsafeRawBufferPointer(start: data, count: size)
    _ = try? JSONParser.parse(buffer, duplicateKeys: .lastWins)
    guard let value = try? JSONParser.parse(buffer) else { return 0 }
    let written = Array(JSONWriter.compact(value).utf8)
    guard let again = try? JSONParser.parse(written), again == value else {
        fatalError("round trip changed the value: \(JSONWriter.compact(value))")
    }
    _ = JSONWriter.pretty(value)
    return 0
}

#if LEP_FUZZING
@_cdecl("lep_fuzz_json_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    FuzzDriver.runLibFuzzer(argc, argv) { data, size in fuzzJSON(data, size) }
}
#else
@main
struct Replay {
    static func main() { FuzzDriver.replayCommandLine { data, size in fuzzJSON(data, size) } }
}
#endif
