import MLOpsCore

/// The jobs.yaml loader: any bytes give a spec or a diagnostic, never a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: count), as: UTF8.self)
    _ = try? SpecParser.parse(text: text, file: "jobs.yaml")
    return 0
}
