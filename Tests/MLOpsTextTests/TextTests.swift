import Foundation
import MLOpsText
import Testing

/// The one JSON writer and the escapers: what they write is what a reader gets back, and a value a
/// user controls cannot break out of its place.
@Suite("JSON and escaping")
struct TextTests {
    @Test func prettyJSONReadsBackAsTheSameValue() throws {
        let value: [String: Any] = ["b": [1, 2.5, "x,y"], "a": ["k": "v: {}", "e": [String: Int](), "l": [Int]()], "q": "say \"hi\"\n", "n": NSNull()]
        let pretty = JSONWriter.text(value, pretty: true)
        #expect(pretty.hasPrefix("{\n  \"a\": {\n    \"e\": {},\n    \"k\": \"v: {}\",\n    \"l\": []\n  },"), "\(pretty)")
        let compact = JSONWriter.text(value)
        let reread = try #require(try JSONBody.parse(pretty) as? [String: Any])
        #expect(JSONWriter.text(reread) == compact)
        #expect(!compact.contains("\n") && compact.contains(#"\"hi\"\n"#))
    }

    @Test func notANumberIsNull() throws {
        #expect(JSONWriter.text(["x": Double.nan, "y": 1.0, "z": 0.25]) == #"{"x":null,"y":1,"z":0.25}"#)
    }

    @Test func quotedKeepsOneValueOnOneLine() {
        #expect(TextEscaping.quoted("a \"b\"\\c\nd\u{1B}[2J") == #""a \"b\"\\c\nd\u{1b}[2J""#)
    }

    @Test func xmlAndTerminalEscapes() {
        #expect(TextEscaping.xml(#"<script>alert("x") & 'y'</script>"#) == "&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;")
        #expect(TextEscaping.terminal("run\u{1B}]0;owned\u{07}") == #"run\u{1b}]0;owned\u{7}"#)
        #expect(TextEscaping.terminal("plain name") == "plain name")
    }
}

@Suite("Escaping for spreadsheets, XML and terminals")
struct EscapingRulesTests {
    @Test(arguments: [
        ("=1+2", "'=1+2"), ("+1+2", "'+1+2"), ("-1+2", "'-1+2"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"),
        ("-0.5", "-0.5"), ("+3", "+3"), ("1e-3", "1e-3"), ("plain", "plain"), ("", ""),
        ("a,b", "\"a,b\""), ("say \"hi\"", "\"say \"\"hi\"\"\""), ("=HYPERLINK(\"u\",\"x\")", "\"'=HYPERLINK(\"\"u\"\",\"\"x\"\")\""),
        ("line\nbreak", "\"line\nbreak\""),
    ])
    func csvField(_ text: String, _ expected: String) {
        #expect(TextEscaping.csvField(text) == expected)
    }

    @Test func xmlDropsWhatXMLCannotHold() {
        #expect(TextEscaping.xml("a\u{1}b\u{1B}c") == "a\u{FFFD}b\u{FFFD}c")
        #expect(TextEscaping.xml("<b>&\"'\n") == "&lt;b&gt;&amp;&quot;&#39;\n")
        #expect(TextEscaping.xml("e\u{301}\u{1}") == "e\u{301}\u{FFFD}")
    }

    @Test func terminalKeepsLineBreaksOnlyWhenAsked() {
        #expect(TextEscaping.terminal("a\nb\u{1B}[2J") == "a\\u{a}b\\u{1b}[2J")
        #expect(TextEscaping.terminal("a\nb\u{1B}[2J", keepingLineBreaks: true) == "a\nb\\u{1b}[2J")
        #expect(TextEscaping.terminal("\u{9B}31m") == "\\u{9b}31m")
    }
}
