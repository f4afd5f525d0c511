import Foundation
import Testing
@testable import MLOpsText

@Suite("Response bodies: Swift values written as JSON, keys sorted, read back as written")
struct JSONWriterTests {
    func text(_ value: Any) -> String { String(decoding: JSONWriter.bytes(value), as: UTF8.self) }

    @Test func writesEachShapeAHandlerReturns() {
        let object: [String: Any] = [
            "run": ["info": ["run_id": "ab", "start_time": Int64(1_795_000_000_000)], "data": ["metrics": [[String: Any]]()]],
            "tags": [["key": "k", "value": "v"]],
            "ids": ["1", "2"], "mixed": [1, "x", true, NSNull()] as [Any],
            "counts": ["a": "1"], "int": 3, "int32": Int32(-7), "flag": false,
            "whole": 2.0, "fraction": 0.25, "tiny": 1e-7, "big": 1e20, "nan": Double.nan,
            "missing": String?.none as Any, "present": String?.some("p") as Any,
        ]
        #expect(text(object) == #"""
            {"big":1e+20,"counts":{"a":"1"},"flag":false,"fraction":0.25,"ids":["1","2"],"int":3,"int32":-7,"missing":null,"mixed":[1,"x",true,null],"nan":null,"present":"p","run":{"data":{"metrics":[]},"info":{"run_id":"ab","start_time":1795000000000}},"tags":[{"key":"k","value":"v"}],"tiny":1e-07,"whole":2}
            """#)
    }

    @Test func escapesWhatJSONRequiresAndNothingElse() throws {
        let tricky = "quote \" backslash \\ newline \n tab \t bell \u{07} slash / é 😀"
        let written = text(["s": tricky])
        #expect(written == #"{"s":"quote \" backslash \\ newline \n tab \t bell \u0007 slash / é 😀"}"#)
        // Foundation reads back the very string.
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(written.utf8)) as? [String: String])
        #expect(parsed["s"] == tricky)
    }

    @Test func doublesReadBackBitForBit() throws {
        let values: [Double] = [0.1, 1.0 / 3, -2.5e-300, 123456789.125, 9.007199254740993e15, 0.93]
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(text(values).utf8)) as? [NSNumber])
        #expect(parsed.map(\.doubleValue) == values)
    }
}
