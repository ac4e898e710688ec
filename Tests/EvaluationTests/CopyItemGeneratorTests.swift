import Foundation
import Testing
@testable import Evaluation

/// Copy items generated from text (CopyItemGenerator's documented rule): counts, limits, determinism.
struct CopyItemGeneratorTests {
    @Test func sentenceSplitting() {
        #expect(CopyItemGenerator.sentences("One two.  Three four!\tFive? «Шесть.» Seven… eight 3.5 nine") == ["One two.", "Three four!", "Five?", "«Шесть.»", "Seven…", "eight 3.5 nine"])
        let p = CopyItemGenerator.paragraphs("A b.\nC d.\n\n\n  E f. G h.  \n")
        #expect(p == [["A b.", "C d."], ["E f.", "G h."]])
    }

    @Test("bundled copy texts: the documented counts, limits and unique ids", arguments: BundledData.languages)
    func bundledCounts(_ lang: String) throws {
        let text = try #require(BundledData.file("\(lang)/copy_text.txt"))
        let g = CopyItemGenerator.items(text: text, language: lang, seed: 20_261_204)
        #expect(g.sentences.count == 126)
        #expect(g.paragraphs.count == 189)
        #expect(g.sentences.allSatisfy { (20...120).contains($0.text.unicodeScalars.count) && $0.kind == .sentence && $0.language == lang })
        #expect(g.paragraphs.allSatisfy { $0.text.unicodeScalars.count <= 240 && $0.kind == .paragraph })
        let ids = (g.sentences + g.paragraphs).map(\.id)
        #expect(Set(ids).count == ids.count)
        #expect(Set(g.sentences.map(\.text)).count == 126)
        // Every paragraph item is 2 or 3 sentence items joined by one space.
        let sentences = Set(g.sentences.map(\.text))
        for p in g.paragraphs {
            let parts = CopyItemGenerator.sentences(p.text)
            #expect((2...3).contains(parts.count) && parts.allSatisfy(sentences.contains), "\(p.id): \(p.text)")
        }
    }

    @Test func sameSeedSameItemsOtherSeedOtherOrder() throws {
        let text = try #require(BundledData.file("ru/copy_text.txt"))
        let a = CopyItemGenerator.items(text: text, language: "ru", seed: 7)
        let b = CopyItemGenerator.items(text: text, language: "ru", seed: 7)
        let c = CopyItemGenerator.items(text: text, language: "ru", seed: 8)
        #expect(a.sentences == b.sentences && a.paragraphs == b.paragraphs)
        #expect(a.sentences.map(\.id) != c.sentences.map(\.id))
        #expect(Set(a.sentences.map(\.id)) == Set(c.sentences.map(\.id)))
        #expect(Set(a.paragraphs.map(\.id)) == Set(c.paragraphs.map(\.id)))
        // The order is the documented Fisher–Yates shuffle of the text order.
        var ordered = a.sentences.sorted { $0.id < $1.id }
        var rng = SplitMix64(seed: 7)
        rng.shuffle(&ordered)
        #expect(ordered == a.sentences)
        let p1 = CopyItemGenerator.chatPrompts(text: text, language: "ru", seed: 7, count: 12)
        #expect(p1 == CopyItemGenerator.chatPrompts(text: text, language: "ru", seed: 7, count: 12))
        #expect(p1.count == 12 && Set(p1.map(\.prompt)).count == 12)
        #expect(p1[0].prompt.hasPrefix("Повтори") && p1[1].prompt.hasPrefix("Какое первое слово") && p1[2].prompt.hasPrefix("Продолжи"))
    }

    @Test func suiteDataGeneratesFromTextsOfADataFolder() throws {
        let tmp = NSTemporaryDirectory() + "lep-copygen-\(getpid())"
        try? FileManager.default.removeItem(atPath: tmp)
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        for d in ["xx", "yy"] { try FileManager.default.createDirectory(atPath: tmp + "/" + d, withIntermediateDirectories: true) }
        // xx: only text.txt → items generated from it.
        try "First sentence is here. Second sentence is here. Third one is also here.\n\nA new paragraph starts now. It ends right here, friend.\n"
            .write(toFile: tmp + "/xx/text.txt", atomically: true, encoding: .utf8)
        // yy: text.txt and copy.jsonl → only the explicit items.
        try "Some text for the likelihood task.\n".write(toFile: tmp + "/yy/text.txt", atomically: true, encoding: .utf8)
        try #"{"id": "k1", "language": "yy", "text": "Copy me please."}"#.write(toFile: tmp + "/yy/copy.jsonl", atomically: true, encoding: .utf8)
        let data = try SuiteData.directory(tmp)
        let xx = try #require(data.languages.first { $0.language == "xx" })
        #expect(xx.copyItems(.sentence, seed: 1).count == 5)
        #expect(xx.copyItems(.paragraph, seed: 1).count == 4)  // (1,2) (1,2,3) (2,3) in the first paragraph, (1,2) in the second
        let yy = try #require(data.languages.first { $0.language == "yy" })
        #expect(yy.copyItems(.sentence, seed: 1).map(\.id) == ["k1"])
        #expect(yy.copyItems(.paragraph, seed: 1).isEmpty)
    }
}
