import Merging
import Surgery
import Tokenizers
import Vocabulary

/// The output tokenizer's ids (Documentation/Propagation.md §5 steps 3-4, §6): the donor's vocabulary, then the instruct
/// tokenizer's added tokens that the donor lacks (by string), appended in ascending instruct id.
public struct OutputVocabulary: Sendable {
    /// One instruct added token appended after the donor's rows.
    public struct Extra: Sendable, Equatable {
        /// Its id in the output vocabulary.
        public let outputId: Int
        /// Its id in the instruct tokenizer (whose row it takes).
        public let instructId: Int
        /// The added token (content and flags).
        public let token: AddedToken
    }

    /// Donor rows (`V_donor`): output ids below it are the donor's.
    public let donorRows: Int
    /// Appended instruct tokens.
    public let extras: [Extra]
    /// Output id → instruct row copied verbatim (step 3): output added tokens whose string is a single
    /// instruct token.
    public let instructRows: [Int: Int]
    private let extraIds: [String: Int]
    private let donor: any Tokenizer

    /// `V_out`.
    public var count: Int { donorRows + extras.count }

    /// Plans the output vocabulary.
    public init(donor: any Tokenizer, donorRows: Int, instruct: any Tokenizer, instructRows: Int) {
        self.donor = donor
        self.donorRows = donorRows
        var extras: [Extra] = []
        var extraIds: [String: Int] = [:]
        for t in instruct.addedTokens.sorted(by: { $0.id < $1.id }) where donor.id(for: t.content) == nil && extraIds[t.content] == nil {
            let e = Extra(outputId: donorRows + extras.count, instructId: t.id, token: t)
            extras.append(e)
            extraIds[t.content] = e.outputId
        }
        self.extras = extras
        self.extraIds = extraIds
        var rows: [Int: Int] = [:]
        for t in donor.addedTokens where t.id < donorRows {
            if let j = instruct.id(for: t.content), j < instructRows { rows[t.id] = j }
        }
        for e in extras where e.instructId < instructRows { rows[e.outputId] = e.instructId }
        self.instructRows = rows
    }

    /// The output id of a token string: the donor's id, or an appended extra's.
    public func id(for token: String) -> Int? {
        if let i = donor.id(for: token), i < donorRows { return i }
        return extraIds[token]
    }
}
