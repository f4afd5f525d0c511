import Foundation

/// JSON written member by member, for the shapes worth writing by hand. Nil members are left out,
/// as MLflow's protobuf JSON leaves out unset fields.
public struct JSONBytes {
    public var bytes: [UInt8] = []

    @inlinable public init() {}
    @usableFromInline var needsComma = false

    @inlinable public mutating func object(_ body: (inout JSONBytes) -> Void) {
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
        body(&self)
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    @inlinable public mutating func array<Element>(_ elements: [Element], _ body: (inout JSONBytes, Element) -> Void) {
        bytes.append(UInt8(ascii: "["))
        for (i, element) in elements.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            body(&self, element)
        }
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    @inlinable public mutating func member(_ key: String, _ value: (inout JSONBytes) -> Void) {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        JSONWriter.append(string: key, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        value(&self)
        needsComma = true
    }

    @inlinable public mutating func member(_ key: String, _ value: String?) {
        guard let value else { return }
        member(key) { json in JSONWriter.append(string: value, to: &json.bytes) }
    }

    @inlinable public mutating func member(_ key: String, _ value: Int64?) {
        guard let value else { return }
        member(key) { json in json.bytes += Array(String(value).utf8) }
    }
}

/// JSON already written, placed as it is inside a response.
public struct RawJSON: Sendable {
    public var bytes: [UInt8]

    @inlinable public init(bytes: [UInt8]) { self.bytes = bytes }
}
