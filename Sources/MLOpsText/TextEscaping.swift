/// The one place that decides how a name, tag or message a user controls is written where it is
/// shown: a double-quoted string (logfmt, Graphviz), XML/SVG/HTML text, a terminal line and a
/// spreadsheet cell. (JSON strings are escaped by `JSONWriter`.)
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

    /// Text inside an XML, SVG or HTML element or attribute. Control characters XML 1.0 does not
    /// allow (a browser refuses the whole SVG for one) become U+FFFD.
    public static func xml(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\n", "\t", "\r": out.unicodeScalars.append(scalar)
            case _ where scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF: out += "\u{FFFD}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A value shown on a terminal: control characters (an escape sequence could move the cursor,
    /// change colours or retitle the window) made visible as `\u{…}`; line breaks and tabs too.
    /// `keepingLineBreaks` leaves `\n` and `\t` as they are, for messages that span lines.
    public static func terminal(_ text: String, keepingLineBreaks: Bool = false) -> String {
        func shown(_ scalar: Unicode.Scalar) -> Bool {
            if keepingLineBreaks, scalar == "\n" || scalar == "\t" { return true }
            return !(scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value))
        }
        guard text.unicodeScalars.contains(where: { !shown($0) }) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            if !shown(scalar) {
                out += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// One CSV field (RFC 4180): quoted when it holds a comma, quote or line break. A text that
    /// starts with `=`, `+`, `-`, `@`, a tab or a carriage return would run as a formula when the
    /// file is opened in a spreadsheet, so it gets a leading `'` (OWASP's advice); a plain
    /// number such as `-0.5` is left alone.
    public static func csvField(_ text: String) -> String {
        var field = text
        if let first = text.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first), Double(text) == nil {
            field = "'" + text
        }
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// One CSV line of `fields`, without the line break.
    public static func csvLine(_ fields: [String]) -> String {
        fields.map(csvField).joined(separator: ",")
    }
}
