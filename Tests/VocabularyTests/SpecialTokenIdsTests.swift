import LEPJSON
import Testing
import Vocabulary

/// The one walk over config token ids, used by `vocab init` and `propagate`.
struct SpecialTokenIdsTests {
    @Test func everyTokenIdKeyIsMappedAndAListStaysAList() throws {
        let text = #"{"bos_token_id": 1, "eos_token_id": [2, 3], "decoder_start_token_id": 4, "sep_token_id": 9, "vocab_size": 10, "pad_token_id": null}"#
        var o = try #require(try JSONParser.parse(Array(text.utf8)).object)
        var places: [String] = []
        SpecialTokenIds.remap(&o, file: "config.json") { (id, _, place) -> Int? in
            places.append(place)
            return id == 9 ? nil : id + 100
        }
        #expect(JSONWriter.compact(.object(o)) == #"{"bos_token_id":101,"eos_token_id":[102,103],"decoder_start_token_id":104,"sep_token_id":null,"vocab_size":10,"pad_token_id":null}"#)
        #expect(
            places == [
                "config.json bos_token_id", "config.json eos_token_id[0]", "config.json eos_token_id[1]",
                "config.json decoder_start_token_id", "config.json sep_token_id"
            ])
    }
}
