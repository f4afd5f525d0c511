import Foundation
import MLOpsCore

/// The cron parser, and the next fire time of what it accepts: never a crash or a hang.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: count), as: UTF8.self)
    if let cron = try? CronExpression(parsing: text) {
        _ = cron.next(after: Date(timeIntervalSince1970: 1_767_225_600), in: TimeZone(identifier: "Europe/Madrid")!)
    }
    return 0
}
