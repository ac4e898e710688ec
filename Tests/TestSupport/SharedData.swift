import Foundation

/// Locates the real-data folder (real tokenizers and texts, too big to commit) for tests that use real
/// assets: `$LEP_REALDATA`, or `../shared/realdata` beside the package root when that is unset.
/// Shared by every test target (the only place that knows where fixtures and real data live).
public enum SharedData {
    /// The package root, found from this file's path.
    public static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url.path }
        }
        return FileManager.default.currentDirectoryPath
    }()

    /// The real-data folder: `$LEP_REALDATA`, else `../shared/realdata` beside the package root.
    public static let realdata: String = {
        if let dir = ProcessInfo.processInfo.environment["LEP_REALDATA"], !dir.isEmpty { return dir }
        return URL(fileURLWithPath: packageRoot).deletingLastPathComponent().appendingPathComponent("shared/realdata").path
    }()

    /// True when the real assets are available; tests that need them are skipped (visibly) otherwise.
    public static let available: Bool = {
        let ok = FileManager.default.fileExists(atPath: realdata + "/README.md")
        if !ok { print("note: the real-data folder \(realdata) is absent (set LEP_REALDATA): tests that need real assets are skipped") }
        return ok
    }()

    /// The committed fixtures folder.
    public static var fixtures: String { packageRoot + "/fixtures" }
}
