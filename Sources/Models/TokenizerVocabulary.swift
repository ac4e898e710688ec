import LEPJSON
import Support

/// Counts the vocabulary of the tokenizer files in a model directory without loading a tokenizer,
/// so `inspect` can compare it with the embedding rows.
package enum TokenizerVocabulary {
    /// Vocabulary size and the file it came from, or nil when no tokenizer file is readable.
    package static func size(in directory: String) -> (size: Int, source: String)? {
        if let bytes = WholeFile.bytes(directory + "/tokenizer.json"), let n = fromTokenizerJSON(bytes) {
            return (n, "tokenizer.json")
        }
        if let bytes = WholeFile.bytes(directory + "/tokenizer.model") {
            if let n = fromTiktoken(bytes) { return (n, "tokenizer.model (tiktoken ranks)") }
            if let n = fromSentencePiece(bytes) { return (n, "tokenizer.model (SentencePiece)") }
        }
        return nil
    }

    /// 1 + the largest id in `model.vocab` and `added_tokens`.
    static func fromTokenizerJSON(_ bytes: [UInt8]) -> Int? {
        guard let root = try? JSONParser.parse(bytes, duplicateKeys: .lastWins) else { return nil }
        var maxId = -1
        if let vocab = root["model"]?["vocab"] {
            if let o = vocab.object {  // BPE / WordPiece: token → id
                for (_, v) in o.members { if let id = v.number?.int64 { maxId = max(maxId, Int(id)) } }
            } else if let a = vocab.array {  // Unigram: [[piece, score], ...]
                maxId = max(maxId, a.count - 1)
            }
        }
        for t in root["added_tokens"]?.array ?? [] {
            if let id = t["id"]?.number?.int64 { maxId = max(maxId, Int(id)) }
        }
        return maxId >= 0 ? maxId + 1 : nil
    }

    /// Line count of a tiktoken ranks file (`base64 rank` per line), nil if it is not one.
    static func fromTiktoken(_ bytes: [UInt8]) -> Int? {
        guard !bytes.isEmpty, bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
        var count = 0
        for line in bytes.split(separator: 0x0A) where !line.isEmpty {
            guard line.split(separator: 0x20).count == 2 else { return nil }
            count += 1
        }
        return count
    }

    /// Number of `pieces` (field 1) in a SentencePiece ModelProto.
    static func fromSentencePiece(_ bytes: [UInt8]) -> Int? {
        var i = 0, pieces = 0
        func varint() -> UInt64? {
            var v: UInt64 = 0, shift: UInt64 = 0
            while i < bytes.count && shift < 64 {
                let b = bytes[i]; i += 1
                v |= UInt64(b & 0x7F) << shift
                if b < 0x80 { return v }
                shift += 7
            }
            return nil
        }
        while i < bytes.count {
            guard let key = varint() else { return nil }
            switch key & 7 {
            case 0: guard varint() != nil else { return nil }
            case 1: i += 8
            case 2:
                guard let len = varint(), len <= UInt64(bytes.count - i) else { return nil }
                i += Int(len)
            case 5: i += 4
            default: return nil
            }
            if key >> 3 == 1 && key & 7 == 2 { pieces += 1 }
        }
        return i == bytes.count && pieces > 0 ? pieces : nil
    }
}
