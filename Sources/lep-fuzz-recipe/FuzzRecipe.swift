// Fuzz target for recipe and pipeline files: lep's JSON with comments, the YAML subset, and the
// decoding of merge recipes and pipelines on top of them. See FuzzSupport for how the target is built
// and run.
import FuzzSupport
import Pipelines
import Recipes

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRecipe(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let text = lossyText(UnsafeRawBufferPointer(start: data, count: size))
    _ = try? RecipeText.parse(text, path: "<fuzz>")
    _ = try? YAMLSubset.parse(text, path: "<fuzz>")
    _ = try? Recipe.parse(text, path: "<fuzz>", baseDirectory: "/nonexistent-lep-fuzz")
    _ = try? Pipeline.parse(text, path: "<fuzz>")
    return 0
}

#if LEP_FUZZING
@_cdecl("lep_fuzz_recipe_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    FuzzDriver.runLibFuzzer(argc, argv) { data, size in fuzzRecipe(data, size) }
}
#else
@main
struct Replay {
    static func main() { FuzzDriver.replayCommandLine { data, size in fuzzRecipe(data, size) } }
}
#endif
