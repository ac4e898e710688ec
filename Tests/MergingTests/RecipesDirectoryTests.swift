import Foundation
import Merging
import Recipes
import SafeTensors
import Surgery
import SurgeryTestSupport
import TestSupport
import Testing

/// Every user-facing recipe in recipes/ runs on the fixture models (paths relative to the repo root).
@Suite struct RecipesDirectoryTests {
    /// Merge recipes only: files directly in recipes/ (pipeline recipes live in recipes/lep/, see PipelineTests).
    static let files: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: SharedData.packageRoot + "/recipes")) ?? [])
        .filter { $0.hasSuffix(".yml") || $0.hasSuffix(".yaml") || $0.hasSuffix(".json") }.sorted()

    @Test func thereAreRecipes() { #expect(Self.files.count >= 5) }

    @Test(arguments: files)
    func recipeRuns(_ file: String) throws {
        let recipe = try Recipe.load(path: SharedData.packageRoot + "/recipes/" + file, baseDirectory: SharedData.packageRoot)
        let out = try Fix.run(recipe)
        let c = try Checkpoint(path: out)
        #expect(c.tensorCount > 0)
        #expect(FileManager.default.fileExists(atPath: out + "/" + MergeExecutor.provenanceName))
    }
}
