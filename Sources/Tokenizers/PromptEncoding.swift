extension Tokenizer {
    /// Encodes a prompt the way transformers' chat path ends up: a text that already starts with the
    /// BOS token's text (`<|begin_of_text|>…`, `<s>…`) keeps that BOS and gets no second one, although
    /// plain `encode(text)` (like transformers' `tokenizer(text)`) would prepend another. Any other text
    /// gets the tokenizer's special tokens as usual. `skippedBOS` says that the added BOS was left out,
    /// for a warning.
    public func encodePrompt(_ text: String, addSpecialTokens: Bool = true) -> (ids: [Int], skippedBOS: Bool) {
        let ids = encode(text, addSpecialTokens: addSpecialTokens)
        guard addSpecialTokens, let bos = specialTokens.bos, !bos.token.isEmpty, text.hasPrefix(bos.token),
            ids.count >= 2, ids[0] == bos.id, ids[1] == bos.id
        else { return (ids, false) }
        return (Array(ids.dropFirst()), true)
    }
}
