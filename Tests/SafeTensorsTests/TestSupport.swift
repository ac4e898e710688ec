import Foundation
@testable import SafeTensors

/// A fresh temporary directory, removed by the caller with `cleanup`.
func makeTempDir(_ label: String = "lep-test") -> String {
    let path = NSTemporaryDirectory() + "\(label)-\(getpid())-\(UUID().uuidString.prefix(8))"
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func cleanup(_ path: String) { try? FileManager.default.removeItem(atPath: path) }

func readJSON(_ path: String) throws -> Any {
    try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
}

/// The enum case name of an error ("sizeMismatch"), for table-driven tests.
func caseName(_ error: any Error) -> String {
    let m = Mirror(reflecting: error)
    return m.children.first?.label ?? "\(error)"
}

/// Runs a throwing body and returns the error it threw (nil when it succeeded).
func thrownError(_ body: () throws -> Void) -> (any Error)? {
    do { try body(); return nil } catch { return error }
}

/// Parses a float written by the fixture scripts ("nan", "inf", "-inf", or a Python repr).
func parseExpected(_ s: String) -> Double {
    switch s {
    case "nan": return .nan
    case "inf": return .infinity
    case "-inf": return -.infinity
    default: return Double(s)!
    }
}

extension Data {
    init(hex: String) {
        var bytes: [UInt8] = []
        var it = hex.utf8.makeIterator()
        func nibble(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : (c | 0x20) - 87 }
        while let a = it.next(), let b = it.next() { bytes.append(nibble(a) << 4 | nibble(b)) }
        self.init(bytes)
    }
}
