import Foundation
import Testing
@testable import SafeTensors
import TestSupport

/// One row of fixtures/safetensors/malformed/cases.json.
struct MalformedCase: CustomTestStringConvertible, Sendable {
    let file: String
    let error: String
    let python: String
    var testDescription: String { "\(file) → \(error)" }

    static let all: [MalformedCase] = {
        let path = SharedData.fixtures + "/safetensors/malformed/cases.json"
        guard let rows = try? readJSON(path) as? [[String: String]] else { return [] }
        return rows.map { MalformedCase(file: $0["file"]!, error: $0["error"]!, python: $0["python_safetensors"]!) }
    }()
}

@Suite struct MalformedFileTests {
    @Test func corpusHasAtLeast25Files() {
        #expect(MalformedCase.all.count >= 25)
    }

    @Test(arguments: MalformedCase.all)
    func rejectsWithItsSpecificError(_ c: MalformedCase) {
        let path = SharedData.fixtures + "/safetensors/" + c.file
        let error = thrownError { _ = try SafeTensorsFile(path: path) }
        #expect(error != nil, "\(c.file) was accepted")
        if let error {
            #expect(caseName(error) == c.error, "\(c.file): got \(error)")
            // Every message names the file.
            #expect("\(error)".contains(path), "\(error)")
        }
    }

    @Test func duplicateKeyInsideAnEntryIsNotADuplicateTensor() throws {
        let json = #"{"a":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#
        var bytes = [UInt8](repeating: 0, count: 8)
        let n = json.utf8.count
        for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: n >> (8 * i)) }
        bytes += Array(json.utf8) + [0, 0, 0, 0]
        let error = thrownError { _ = try bytes.withUnsafeBytes { try SafeTensorsHeader.parse(file: $0, path: "x") } }
        #expect(error.map(caseName) == "headerNotJSON")
    }

    @Test func leadingWhitespaceIsAcceptedLikePython() throws {
        let json = #"  {"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}"#
        var bytes = [UInt8](repeating: 0, count: 8)
        for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: json.utf8.count >> (8 * i)) }
        bytes += Array(json.utf8) + [7, 9]
        let header = try bytes.withUnsafeBytes { try SafeTensorsHeader.parse(file: $0, path: "x") }
        #expect(header.tensors.map(\.name) == ["a"])
    }
}
