import Foundation
import Testing
@testable import MLOpsText

@Suite("Request bodies: JSON read into Swift values, errors with their offset")
struct JSONBodyTests {
    func parse(_ text: String) throws -> Any {
        try Array(text.utf8).withUnsafeBytes { bytes throws(JSONBody.SyntaxError) in try JSONBody.parse(bytes) }
    }

    @Test func readsWhatJSONSerializationReads() throws {
        let text = #"{"a": -1.5e2, "b": [true, false, null, 0, 12345678901234], "c": "x\"y\\z\u00e9\ud83d\ude00\n", "d": {}, "e": []}"#
        let object = try #require(try parse(text) as? [String: Any])
        #expect(object["a"] as? Double == -150)
        let list = try #require(object["b"] as? [Any])
        #expect(list[0] as? Bool == true && list[1] as? Bool == false && list[2] is NSNull)
        #expect(list[3] as? Double == 0 && list[4] as? Double == 12345678901234)
        #expect(object["c"] as? String == "x\"y\\zé😀\n")
        #expect((object["d"] as? [String: Any])?.isEmpty == true && (object["e"] as? [Any])?.isEmpty == true)
        // Numbers come back bit for bit as Foundation reads them.
        for number in ["0.1", "39.3", "1e-300", "123456.789e3", "-0.000001234"] {
            #expect(try parse(number) as? Double == Double(number))
        }
    }

    @Test func refusesMalformedBodiesAndSaysWhere() {
        let cases: [(String, String, Int)] = [
            (#"{"a": "#, "unexpected end of the body", 6),
            (#"{"a" 1}"#, "expected ':' after a key", 5),
            (#"{"a": 01}"#, "a number may not start with 0", 8),
            (#"{"a": tru}"#, "expected true", 6),
            (#"{"a": 1} x"#, "unexpected text after the JSON value", 9),
            (#"{"a": "\q"}"#, "an invalid escape", 8),
            (String(repeating: "[", count: 100), "nested deeper than 64 levels", 64),
        ]
        for (text, message, offset) in cases {
            do {
                _ = try parse(text)
                Issue.record("accepted \(text)")
            } catch let error as JSONBody.SyntaxError {
                #expect(error.message == message && error.offset == offset, "\(text): \(error)")
            } catch {
                Issue.record("\(error)")
            }
        }
    }
}
