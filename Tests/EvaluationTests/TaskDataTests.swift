import Foundation
import Testing
@testable import Evaluation

struct TaskDataTests {
    @Test("bundled files parse, with the documented sizes", arguments: BundledData.languages)
    func bundled(_ lang: String) throws {
        let data = try SuiteData.bundled()
        let d = try #require(data.languages.first { $0.language == lang })
        #expect(d.copy.isEmpty && d.copyText != nil, "bundled copy items are generated from copy_text.txt")
        let copy = d.copyItems(.sentence, seed: 1) + d.copyItems(.paragraph, seed: 1)
        #expect(copy.count == 126 + 189)
        #expect(copy.allSatisfy { $0.language == lang })
        let single = try TaskData.parseMultipleChoice(try #require(BundledData.file("\(lang)/mc_single_token.jsonl")), path: "x")
        let cont = try TaskData.parseMultipleChoice(try #require(BundledData.file("\(lang)/mc_continuation.jsonl")), path: "x")
        #expect(single.count + cont.count >= 20)
        #expect(single.allSatisfy { $0.answerPrefix != nil && $0.choices.allSatisfy { $0.count <= 3 } })
        let text = try #require(BundledData.file("\(lang)/text.txt"))
        #expect(text.utf8.count >= 1500)
        #expect(copy[0].instruction.hasSuffix(copy[0].text))
    }

    @Test func malformedFilesNameFileAndLine() {
        let path = "tasks/mc.jsonl"
        let good = #"{"prompt": "2+2=", "choices": ["3", "4"], "answer": 1}"#
        #expect(throws: EvaluationError.taskFile(path: path, line: 3, message: "\"answer\" must be an integer index in 0..<2")) {
            try TaskData.parseMultipleChoice(good + "\n\n" + #"{"prompt": "x", "choices": ["a", "b"], "answer": 2}"#, path: path)
        }
        #expect(throws: EvaluationError.taskFile(path: path, line: 2, message: "unknown key \"label\" (allowed: answer, answer_prefix, choices, id, meta, prompt)")) {
            try TaskData.parseMultipleChoice(good + "\n" + #"{"prompt": "x", "choices": ["a", "b"], "label": 0}"#, path: path)
        }
        #expect(throws: EvaluationError.taskFile(path: path, line: 1, message: "need at least 2 choices, found 1")) {
            try TaskData.parseMultipleChoice(#"{"prompt": "x", "choices": ["a"], "answer": 0}"#, path: path)
        }
        #expect(throws: EvaluationError.taskFile(path: "c.jsonl", line: 1, message: "missing \"text\"")) {
            try TaskData.parseCopyItems(#"{"language": "en"}"#, path: "c.jsonl")
        }
        #expect(throws: EvaluationError.taskFile(path: "c.jsonl", line: 0, message: "no items (expected one JSON object per line)")) {
            try TaskData.parseCopyItems("\n\n", path: "c.jsonl")
        }
        do {
            _ = try TaskData.parseCopyItems("{\"text\": \"a\", \"language\": \"en\"}\n{not json}", path: "c.jsonl")
            Issue.record("malformed JSON accepted")
        } catch {
            guard case .taskFile("c.jsonl", 2, let m) = error else { Issue.record("wrong error \(error)"); return }
            #expect(m.hasPrefix("not valid JSON"))
            #expect(error.description.hasPrefix("c.jsonl:2: not valid JSON"))
        }
    }

    @Test func filesOnDisk() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lep-eval-data-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data([0x61, 0x0A, 0x62, 0xFF, 0x0A]).write(to: URL(fileURLWithPath: dir + "/bad.txt"))
        #expect(throws: EvaluationError.taskFile(path: dir + "/bad.txt", line: 2, message: "invalid UTF-8")) { try TaskData.readText(path: dir + "/bad.txt") }
        try
            (#"{"id": "ru-s01", "language": "ru", "kind": "sentence", "text": "Тихая река."}"# + "\n"
            + #"{"id": "ru-p01", "language": "ru", "kind": "paragraph", "text": "Тихая река. Старый мост."}"# + "\n")
            .write(toFile: dir + "/copy.jsonl", atomically: true, encoding: .utf8)
        #expect(try TaskData.loadCopyItems(path: dir + "/copy.jsonl").map(\.kind) == [.sentence, .paragraph])
        #expect(throws: EvaluationError.self) { try TaskData.readText(path: dir + "/missing.txt") }
    }
}
