import Foundation

/// Locates `../shared/realdata` (beside the package root) for tests that use real assets.
/// Shared by every test target (the only place that knows where fixtures and ../shared live).
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

    /// `../shared/realdata`, when present.
    public static let realdata: String = URL(fileURLWithPath: packageRoot).deletingLastPathComponent()
        .appendingPathComponent("shared/realdata").path

    /// True when the real assets are available; tests that need them are skipped (visibly) otherwise.
    public static let available: Bool = {
        let ok = FileManager.default.fileExists(atPath: realdata + "/README.md")
        if !ok { print("note: ../shared/realdata is absent: tests that need real assets are skipped") }
        return ok
    }()

    /// The committed fixtures folder.
    public static var fixtures: String { packageRoot + "/fixtures" }
}
