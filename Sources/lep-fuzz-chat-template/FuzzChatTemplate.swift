// Fuzz target for chat templates: parsing a Jinja template and rendering it with fuzzed messages.
//
// Input: the template source, optionally followed by a NUL byte and the messages: NUL-separated
// contents whose roles cycle system, user, assistant (invalid UTF-8 is replaced). Without a NUL, a
// fixed three-turn conversation is used. Each template is rendered with and without the generation
// prompt, and continuing the final message. Rendering is bounded (output, loop iterations, nesting):
// a template that runs away must be refused with an error, never crash, exhaust memory or hang. See
// FuzzSupport for how the target is built and run.
import ChatTemplates
import FuzzSupport
import LEPJSON

let roles = ["system", "user", "assistant"]
let defaultMessages: [ChatMessage] = [.system("Be brief."), .user("Привет! What is 2+2?"), .assistant("4 — четыре.")]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzChatTemplate(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let (head, tail) = splitAtNUL(UnsafeRawBufferPointer(start: data, count: size))
    guard let template = try? ChatTemplate(source: lossyText(head), name: "<fuzz>") else { return 0 }
    var messages = defaultMessages
    if let tail {
        messages = lossyText(tail).split(separator: "\0", omittingEmptySubsequences: false).enumerated().map { i, content in
            ChatMessage(role: roles[i % roles.count], content: String(content))
        }
    }
    let date = ChatDate(year: 2024, month: 7, day: 26)
    _ = try? template.render(messages, options: ChatRenderOptions(addGenerationPrompt: true, bosToken: "<s>", eosToken: "</s>", now: date))
    _ = try? template.render(
        messages,
        options: ChatRenderOptions(
            addGenerationPrompt: false, now: date,
            extraVariables: ["tools": .array([.object(JSONObject([("name", .string("f"))]))])]))
    _ = try? template.render(messages, options: ChatRenderOptions(continueFinalMessage: true, now: date))
    return 0
}

#if LEP_FUZZING
@_cdecl("lep_fuzz_chat_template_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    FuzzDriver.runLibFuzzer(argc, argv) { data, size in fuzzChatTemplate(data, size) }
}
#else
@main
struct Replay {
    static func main() { FuzzDriver.replayCommandLine { data, size in fuzzChatTemplate(data, size) } }
}
#endif
