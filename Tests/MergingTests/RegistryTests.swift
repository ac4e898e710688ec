import Foundation
import Merging
import Recipes
import Surgery
import SurgeryTestSupport
import TestSupport
import Testing

/// The method registry is complete and consistent.
@Suite struct RegistryTests {
    /// The methods lep promises (mergekit's names).
    static let required = [
        "linear", "task_arithmetic", "ties", "dare_linear", "dare_ties", "breadcrumbs",
        "breadcrumbs_ties", "della", "della_linear", "slerp", "model_stock", "passthrough"
    ]

    @Test func everyRequiredMethodIsRegisteredOnce() {
        #expect(MethodRegistry.names.sorted() == Self.required.sorted())
        #expect(Set(MethodRegistry.names).count == MethodRegistry.names.count)
    }

    @Test func declarationsAreConsistent() {
        for m in MethodRegistry.all {
            let names = m.parameters.map(\.name)
            #expect(Set(names).count == names.count, "\(m.name): duplicate parameter")
            #expect(!m.summary.isEmpty && !m.reference.isEmpty, "\(m.name): summary and reference are required")
            #expect(m.inputCount.lowerBound >= 1)
            for p in m.parameters where p.defaultValue != nil {
                switch (p.kind, p.defaultValue!) {
                case (.number, .number), (.bool, .bool): break
                default: Issue.record("\(m.name).\(p.name): default of the wrong kind")
                }
            }
        }
        // mergekit's defaults for the task-arithmetic family.
        func d(_ m: String, _ p: String) -> ParameterScalar? { MethodRegistry.find(m)?.parameters.first { $0.name == p }?.defaultValue }
        #expect(d("ties", "normalize") == .bool(true) && d("task_arithmetic", "normalize") == .bool(false))
        #expect(d("dare_linear", "rescale") == .bool(true) && d("della", "normalize") == .bool(true))
        #expect(d("breadcrumbs", "gamma") == .number(0.01) && d("della_linear", "epsilon") == .number(0.15))
    }

    /// Every method is exercised by a committed recipe (fixtures/merge/recipes or recipes/).
    @Test func everyMethodHasARecipe() throws {
        var used = Set<String>()
        for dir in [Fix.merge + "/recipes", SharedData.packageRoot + "/recipes"] {
            for f in try FileManager.default.contentsOfDirectory(atPath: dir) where f.hasSuffix(".yml") || f.hasSuffix(".yaml") || f.hasSuffix(".json") {
                let text = try String(contentsOfFile: dir + "/" + f, encoding: .utf8)
                for m in MethodRegistry.names where text.contains("merge_method: \(m)\n") || text.contains("\"merge_method\": \"\(m)\"") { used.insert(m) }
            }
        }
        #expect(used == Set(MethodRegistry.names), "methods without a recipe: \(Set(MethodRegistry.names).subtracting(used).sorted())")
    }
}
