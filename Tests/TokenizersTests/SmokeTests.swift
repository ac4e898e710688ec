import Testing
@testable import Tokenizers

@Test func missingDirectoryIsAnError() {
    #expect(throws: TokenizerError.self) { _ = try loadTokenizer(directory: "/nonexistent-lep-dir") }
}
