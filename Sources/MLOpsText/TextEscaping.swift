/// The one place that decides how a name, tag or message a user controls is written where it is
/// shown: a double-quoted string (logfmt, Graphviz), XML/SVG/HTML text, and a terminal line.
/// (JSON strings are escaped by `JSONWriter`.)
public enum TextEscaping {
    /// A double-quoted string: `\` and `"` escaped, control characters as `\n`, `\t` or `\u{…}`, so
    /// one value stays on one line and cannot end the quote early.
    public static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F: out += "\\u{\(String(scalar.value, radix: 16))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// Text inside an XML, SVG or HTML element or attribute.
    public static func xml(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    /// A value shown on a terminal: control characters (an escape sequence could move the cursor,
    /// change colours or retitle the window) made visible as `\u{…}`; line breaks and tabs too.
    public static func terminal(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) {
                out += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
