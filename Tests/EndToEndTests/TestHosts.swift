import Foundation
import Testing

/// Hosts on one machine, for the high-availability tests: each a network namespace joined to this
/// one by a veth link, whose daemons run under `unshare --uts --pid --fork --mount-proc` with a
/// host name of their own (so each sees the other only through the database's heartbeats), and a
/// PostgreSQL cluster of their own listening on the links. Killing a host's first process (its
/// daemon, PID 1 of its namespace) ends every process on it, as a machine that dies does; cutting
/// its link leaves them running without their database. Needs root.
final class TestHosts: @unchecked Sendable {
    let tag: String
    let subnet: Int
    let count: Int
    let clusterDirectory: String
    let port: Int
    private var daemons: [MLOpsBinary.Running] = []

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Nil (after saying SKIPPED) where hosts cannot be made: no PostgreSQL pass, or not root.
    static func make(_ count: Int = 2, test: String = #function) throws -> TestHosts? {
        let env = ProcessInfo.processInfo.environment
        guard !(env["MLOPS_TEST_POSTGRES"] ?? "").isEmpty else {
            print("SKIPPED: \(test) runs in the PostgreSQL pass (MLOPS_TEST_POSTGRES)")
            return nil
        }
        guard getuid() == 0 else {
            #expect(env["MLOPS_REQUIRE_ROOT"]?.isEmpty ?? true, "hosts in network namespaces need root under CI")
            print("SKIPPED: \(test) needs root (network namespaces)")
            return nil
        }
        return try TestHosts(count)
    }

    private init(_ count: Int) throws {
        self.count = count
        tag = String(format: "%04x", UInt16.random(in: 0...UInt16.max))
        subnet = Int.random(in: 100...250)
        let started = try Self.sh("\(Self.repository.path)/scripts/postgres start --listen-all")
        func value(_ name: String) -> String {
            started.split(separator: "\n").first { $0.contains(name + "=") }.map { String($0.split(separator: "=", maxSplits: 1)[1]) } ?? ""
        }
        clusterDirectory = value("MLOPS_TEST_POSTGRES_DIR")
        port = Int(value("MLOPS_TEST_POSTGRES").split(separator: ":").last?.prefix { $0.isNumber } ?? "") ?? 0
        for i in 0..<count {
            let ns = namespace(i), outside = link(i) + "o", inside = link(i) + "i"
            try Self.sh("""
                ip netns add \(ns) && ip link add \(outside) type veth peer name \(inside) && ip link set \(inside) netns \(ns) \
                && ip addr add 10.\(subnet).\(i).1/24 dev \(outside) && ip link set \(outside) up \
                && ip netns exec \(ns) ip addr add 10.\(subnet).\(i).2/24 dev \(inside) && ip netns exec \(ns) ip link set \(inside) up \
                && ip netns exec \(ns) ip link set lo up
                """)
        }
    }

    func namespace(_ i: Int) -> String { "mlops-\(tag)-\(i)" }
    func link(_ i: Int) -> String { "vm\(tag)\(i)" }
    func hostName(_ i: Int) -> String { "host-\(i)" }

    /// A database on the hosts' cluster, as host `i` reaches it over its link.
    func createDatabase(_ name: String) throws { try Self.sh("psql -q -X -h 127.0.0.1 -p \(port) -U postgres -c 'CREATE DATABASE \(name)'") }
    func url(_ database: String, from i: Int) -> String { "postgresql://postgres@10.\(subnet).\(i).1:\(port)/\(database)" }
    /// The same database from this machine.
    func localURL(_ database: String) -> String { "postgresql://postgres@127.0.0.1:\(port)/\(database)" }

    /// Starts `mlops arguments` on host `i`, in `cli`'s workspace (a folder both hosts share, as an
    /// NFS mount would be).
    func start(_ cli: MLOpsBinary, on i: Int, _ arguments: [String], environment: [String: String]) throws -> MLOpsBinary.Running {
        let running = try cli.start(arguments, environment: environment, wrapper: [
            "/usr/sbin/ip", "netns", "exec", namespace(i), "/usr/bin/unshare", "--uts", "--pid", "--fork", "--mount-proc",
            "/bin/sh", "-c", "hostname \(hostName(i)) && exec \"$0\" \"$@\"",
        ])
        daemons.append(running)
        return running
    }

    /// The pid, seen from here, of the first process of `running`'s host: the one `unshare` forked.
    func firstProcess(of running: MLOpsBinary.Running) -> Int32? {
        var found: Int32?
        _ = MLOpsBinary.eventually(5) {
            let children = (try? String(contentsOfFile: "/proc/\(running.pid)/task/\(running.pid)/children", encoding: .utf8)) ?? ""
            found = children.split(separator: " ").first.flatMap { Int32($0) }
            return found != nil
        }
        return found
    }

    /// Host `i` dies: its first process is killed, and with it every process of its namespace.
    func kill(host running: MLOpsBinary.Running) {
        if let first = firstProcess(of: running) { Foundation.kill(first, SIGKILL) }
    }

    /// Host `i` loses its network: its link goes down, its processes run on.
    func cut(_ i: Int) throws { try Self.sh("ip link set \(link(i))o down") }

    deinit {
        for daemon in daemons where isAlive(daemon.pid) { kill(host: daemon); _ = daemon.wait() }
        for i in 0..<count { _ = try? Self.sh("ip netns del \(namespace(i)); ip link del \(link(i))o 2>/dev/null; true") }
        _ = try? Self.sh("\(Self.repository.path)/scripts/postgres stop \(clusterDirectory)")
    }

    /// Runs `command` with `sh -c`; its output, read from a file once it has exited (a pipe would
    /// wait for the cluster's server, which keeps the descriptors it inherited).
    @discardableResult
    static func sh(_ command: String) throws -> String {
        let output = NSTemporaryDirectory() + "mlops-hosts-" + UUID().uuidString.prefix(8)
        defer { try? FileManager.default.removeItem(atPath: output) }
        // posix_spawn and a blocking waitpid: the cluster's `su` and `pg_ctl` leave Foundation's
        // Process waiting on a child it never reaps.
        let script = "(\(command)) >'\(output)' 2>&1 </dev/null"
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sh"), strdup("-c"), strdup(script), nil]
        defer { argv.forEach { free($0) } }
        guard posix_spawn(&pid, "/bin/sh", nil, nil, argv, environ) == 0 else { throw TestHostError(description: "cannot start /bin/sh") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exitCode = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        guard exitCode == 0 else { throw TestHostError(description: "`\(command)` exited \(exitCode): \(text)") }
        return text
    }

    struct TestHostError: Error, CustomStringConvertible { var description: String }
}
