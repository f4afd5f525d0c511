import Foundation

/// The daemon's structured log: one logfmt line per event on stderr (`ts=… level=… event=… k=v`),
/// easy for a person to read and for a log shipper to parse.
public struct DaemonLog: Sendable {
    public enum Level: String, Sendable { case info, warn, error }

    let write: @Sendable (String) -> Void
    /// What its timestamps read: the simulation's clock in a simulation.
    let clock: any TimeSource

    public init(clock: any TimeSource = WallClock.process, write: @escaping @Sendable (String) -> Void = { Console.shared.write($0, to: .stderr) }) {
        self.clock = clock
        self.write = write
    }

    public func callAsFunction(_ event: String, _ fields: KeyValuePairs<String, String> = [:]) {
        callAsFunction(.info, event, fields)
    }

    public func callAsFunction(_ level: Level, _ event: String, _ fields: KeyValuePairs<String, String> = [:]) {
        var line = "ts=\(Self.timestamp(clock.nowMillis())) level=\(level.rawValue) event=\(event)"
        for (key, value) in fields { line += " \(key)=\(Self.quoted(value))" }
        write(line + "\n")
    }

    static func quoted(_ value: String) -> String {
        let plain = !value.isEmpty && value.allSatisfy { !$0.isWhitespace && $0 != "\"" && $0 != "=" }
        return plain ? value : TextEscaping.quoted(value)
    }

    static func timestamp(_ millis: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
    }
}
