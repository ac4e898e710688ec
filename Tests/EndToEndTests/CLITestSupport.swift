import Foundation
import TestSupport

/// Runs the built `lep` binary (next to the test bundle) and captures its output.
enum LEP {
    static let binary: String = {
        var url = Bundle.main.bundleURL
        for _ in 0..<3 {
            let candidate = url.appendingPathComponent("lep").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            url.deleteLastPathComponent()
        }
        // Fall back to the debug build folder of the package.
        return SharedData.packageRoot + "/.build/debug/lep"
    }()

    struct Result { let status: Int32; let stdout: String; let stderr: String }

    /// How long one `lep` run may take before the test kills it and fails (a hang must fail the
    /// test, not stall the whole suite).
    static let timeLimit: Double = 600

    /// Runs `lep` with `args` (and `stdin` as its standard input, if given) and captures its output.
    /// Both pipes are drained concurrently, so a child that fills one cannot block on it; a child still
    /// running after `timeLimit` seconds is killed and reported as status -1 with a message on stderr.
    @discardableResult
    static func run(_ args: [String], environment: [String: String] = [:], cwd: String? = nil, stdin: String? = nil) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        var env = ProcessInfo.processInfo.environment
        env["LEP_QUIET"] = "1"
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let out = Pipe(), err = Pipe(), inp = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = stdin == nil ? FileHandle.nullDevice : inp
        try p.run()
        let errData = Box()
        let readers = DispatchGroup()
        DispatchQueue.global().async(group: readers) { errData.value = err.fileHandleForReading.readDataToEndOfFile() }
        if let stdin {
            DispatchQueue.global().async(group: readers) {
                inp.fileHandleForWriting.write(Data(stdin.utf8))
                try? inp.fileHandleForWriting.close()
            }
        }
        let timedOut = watchdog(p, seconds: timeLimit)
        let o = out.fileHandleForReading.readDataToEndOfFile()
        readers.wait()
        p.waitUntilExit()
        timedOut.cancel()
        if timedOut.fired {
            return Result(
                status: -1, stdout: String(decoding: o, as: UTF8.self),
                stderr: "lep \(args.joined(separator: " ")) was killed after \(Int(timeLimit)) s\n" + String(decoding: errData.value, as: UTF8.self))
        }
        return Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: errData.value, as: UTF8.self))
    }

    /// Starts `lep` without waiting; with `ignoringSIGCHLD`, through coreutils' `env --ignore-signal=CHLD`,
    /// so `lep` inherits SIGCHLD set to SIG_IGN (as under some CI runners and container init processes).
    static func start(_ args: [String], ignoringSIGCHLD: Bool = false) throws -> Process {
        let p = Process()
        if ignoringSIGCHLD {
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["--ignore-signal=CHLD", binary] + args
        } else {
            p.executableURL = URL(fileURLWithPath: binary)
            p.arguments = args
        }
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    /// Waits for `p` to exit; kills it with SIGKILL after `seconds`. Returns false when it had to be killed.
    static func wait(_ p: Process, seconds: Double = 60) -> Bool {
        let timedOut = watchdog(p, seconds: seconds)
        p.waitUntilExit()
        timedOut.cancel()
        return !timedOut.fired
    }

    /// Kills `p` with SIGKILL unless cancelled within `seconds`.
    static func watchdog(_ p: Process, seconds: Double) -> Watchdog {
        let w = Watchdog()
        let pid = p.processIdentifier
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) {
            if w.arm() { kill(pid, SIGKILL) }
        }
        return w
    }

    final class Box: @unchecked Sendable { var value = Data() }

    /// A one-shot timer state: either cancelled (the process ended in time) or fired (it was killed).
    final class Watchdog: @unchecked Sendable {
        private let lock = NSLock()
        private var cancelled = false
        private(set) var fired = false
        /// Called when the time is up: true when the process must be killed.
        func arm() -> Bool { lock.lock(); defer { lock.unlock() }; if cancelled { return false }; fired = true; return true }
        func cancel() { lock.lock(); cancelled = true; lock.unlock() }
    }
}

func makeTempDir() -> String {
    let path = NSTemporaryDirectory() + "lep-e2e-\(getpid())-\(UUID().uuidString.prefix(8))"
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func entries(_ dir: String) -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: dir).sorted()) ?? [] }
