// The storage layer's typed values (runs, versions, aliases, the audit log) are part of the core's
// vocabulary: a caller of MLOpsCore sees them without naming the storage layer.
@_exported import MLOpsStore
@_exported import MLOpsText
