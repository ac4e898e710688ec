#if canImport(Glibc)
import Glibc
#endif
import Support

/// The only place lep writes to stdout and stderr.
enum Terminal {
    static func out(_ s: String) { write(1, s + "\n") }

    static func err(_ s: String) { write(2, s + "\n") }

    /// Writes all of `s` to file descriptor `fd`.
    static func write(_ fd: Int32, _ s: String) {
        var bytes = Array(s.utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 { if errno == EINTR { continue }; return }
            done += n
        }
        bytes.removeAll()
    }

    static var stderrIsTerminal: Bool { isatty(2) == 1 }

    /// Monotonic seconds.
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// CPU seconds the calling thread has used: a timing that other processes' load (and OpenBLAS's
    /// pool spinning after the library loads) inflates less than wall time.
    static func threadCPUTime() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}

/// Progress on stderr for work longer than a second: bytes done, rate, ETA. Rewrites one line on a
/// terminal, prints a plain line every few seconds otherwise; silent when `LEP_QUIET` is set.
final class Progress {
    private let label: String
    private let start = Terminal.now()
    private var lastPrint = 0.0
    private var printed = false
    private let quiet = getenv("LEP_QUIET") != nil

    init(_ label: String) { self.label = label }

    func update(_ done: Int, _ total: Int) {
        guard !quiet else { return }
        let t = Terminal.now()
        let elapsed = t - start
        let tty = Terminal.stderrIsTerminal
        guard elapsed >= 1.0, t - lastPrint >= (tty ? 0.2 : 5.0) || done == total else { return }
        lastPrint = t
        let rate = Double(done) / max(elapsed, 1e-9)
        let eta = rate > 0 ? Double(total - done) / rate : 0
        let pct = total > 0 ? 100.0 * Double(done) / Double(total) : 100
        let line = "\(label): \(Format.bytes(done)) / \(Format.bytes(total)) (\(Format.fixed(pct, 1))%), \(Format.bytes(Int(rate)))/s, ETA \(Format.fixed(eta, 0)) s"
        if tty { Terminal.write(2, "\r\u{1B}[K" + line) } else { Terminal.err(line) }
        printed = true
    }

    func finish() {
        if printed, Terminal.stderrIsTerminal { Terminal.write(2, "\n") }
    }

    var elapsed: Double { Terminal.now() - start }
}

/// Number formatting for terminal output (Support.NumberFormat).
typealias Format = NumberFormat
