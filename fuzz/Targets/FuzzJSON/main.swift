import MLOpsCore

/// The JSON body reader behind every HTTP request: any bytes give a value or a syntax error.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    _ = try? JSONBody.parse(UnsafeRawBufferPointer(start: data, count: count))
    return 0
}
