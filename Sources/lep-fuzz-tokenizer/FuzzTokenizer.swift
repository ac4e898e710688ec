// Fuzz target for loading tokenizers (HF tokenizer.json through both of its readers, SentencePiece
// model protobufs) and for encoding and decoding text with whatever loads.
//
// Input: tokenizer bytes, optionally followed by a NUL byte and the text to encode (invalid UTF-8 is
// replaced); without a NUL a fixed mixed-script text is used. See FuzzSupport for how the target is
// built and run.
import FuzzSupport
import Tokenizers

let defaultText = "Hello, world! Привет, мир. 123 4567 — ё\u{301} 😀  \t\n<s></s><|endoftext|> ▁x Ġy <0x0A>"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTokenizer(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let (head, tail) = splitAtNUL(UnsafeRawBufferPointer(start: data, count: size))
    let bytes = Array(head)
    let text = tail.map(lossyText) ?? defaultText
    if let tokenizer = try? HFTokenizer(bytes: bytes, path: "<fuzz>") {
        exercise(tokenizer, text)
    }
    if let model = try? SentencePieceModel(bytes: bytes, path: "<fuzz>") {
        // What lep writes back must read back as the same model.
        guard let again = try? SentencePieceModel(bytes: model.serialized(), path: "<fuzz>"), again == model else {
            fatalError("SentencePiece model did not survive serialisation")
        }
    }
    return 0
}

func exercise(_ t: any Tokenizer, _ text: String) {
    let ids = t.encode(text, addSpecialTokens: true)
    _ = t.encode(text, addSpecialTokens: false)
    let continuation = t.encodeContinuation(text)
    _ = t.decode(ids, skipSpecialTokens: false)
    _ = t.decode(continuation, skipSpecialTokens: true)
    for id in Set(ids + continuation + [-1, 0, t.vocabularySize - 1, t.vocabularySize]) {
        _ = t.tokenBytes(id)
        if let s = t.token(for: id) { _ = t.id(for: s) }
    }
}

#if LEP_FUZZING
@_cdecl("lep_fuzz_tokenizer_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    FuzzDriver.runLibFuzzer(argc, argv) { data, size in fuzzTokenizer(data, size) }
}
#else
@main
struct Replay {
    static func main() { FuzzDriver.replayCommandLine { data, size in fuzzTokenizer(data, size) } }
}
#endif
