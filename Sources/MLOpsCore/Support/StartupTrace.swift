import Foundation

/// `MLOPS_TRACE=1`: on standard error, the milliseconds since `main` at each step of a command's
/// start (spec, store, lease, records, first stage). How bench/RESULTS.md breaks job start-up
/// down; one check of a constant when off.
public enum StartupTrace {
    // getenv, not ProcessInfo: building ProcessInfo's environment was 5% of `mlops --version`.
    static let enabled = getenv("MLOPS_TRACE") != nil
    static let origin = DispatchTime.now().uptimeNanoseconds

    public static func mark(_ step: @autoclosure () -> String) {
        guard enabled else { return }
        let start = origin  // the first mark sets it
        let millis = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        FileHandle.standardError.write(Data("mlops trace \(String(format: "%7.2f", millis)) ms  \(step())\n".utf8))
    }
}
