import Foundation
import MLOpsLearn

/// The CSV reader: any bytes give a table or a parse error, never a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    _ = try? TableCSV.read(Data(bytes: data, count: count))
    return 0
}
