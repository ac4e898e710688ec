import Glibc
import Surgery

/// Runs the command of an `external` pipeline step as a child process that shares lep's environment,
/// current directory and terminal (its output goes straight to lep's stdout/stderr).
enum ExternalCommand {
    /// How the child ended.
    enum Status: Equatable {
        case exited(Int32)
        case signalled(Int32)

        /// "exited with status 3", "was killed by signal 9".
        var phrase: String {
            switch self {
            case .exited(let c): "exited with status \(c)"
            case .signalled(let s): "was killed by signal \(s)"
            }
        }
    }

    /// Starts `command` and waits for it; throws when it cannot be started.
    static func run(_ command: Pipeline.Command) throws(SurgeryError) -> Status {
        let argv: [String]
        let search: Bool
        switch command {
        case .shell(let line): argv = ["/bin/sh", "-c", line]; search = false
        case .arguments(let a): argv = a; search = true
        }
        var cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for p in cargs { free(p) } }
        var pid = pid_t()
        let rc = search ? posix_spawnp(&pid, argv[0], nil, nil, &cargs, environ) : posix_spawn(&pid, argv[0], nil, nil, &cargs, environ)
        guard rc == 0 else {
            throw .externalCommand(command: argv[0], reason: "cannot start '\(argv[0])': \(String(cString: strerror(rc)))" + (search ? " (is it installed and on PATH?)" : ""))
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw .externalCommand(command: argv[0], reason: "waiting for '\(argv[0])' failed: \(String(cString: strerror(errno)))") }
        }
        // The wait status layout of Linux (WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import).
        return status & 0x7f == 0 ? .exited((status >> 8) & 0xff) : .signalled(status & 0x7f)
    }
}
