import MLOpsStore

/// The MLflow search filter parser: any text gives a filter or a parse error, never a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: count), as: UTF8.self)
    _ = try? RunFilter(parsing: text)
    return 0
}
