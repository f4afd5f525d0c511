/// Aligned columns for a terminal: widths measured on plain text, colour applied after padding so
/// escape codes never skew the alignment. Cells hold what the user wrote; control characters in
/// them are made visible when the table is drawn (`TextEscaping.terminal`), and `csv()` writes the
/// same table for a spreadsheet.
public struct TextTable: Sendable {
    public enum Alignment: Sendable { case left, right }

    public struct Column: Sendable {
        public var title: String
        public var alignment: Alignment
        public init(_ title: String, _ alignment: Alignment = .left) {
            self.title = title
            self.alignment = alignment
        }
    }

    public struct Cell: Sendable, ExpressibleByStringLiteral {
        public var text: String
        public var color: Console.Color?
        public init(_ text: String, color: Console.Color? = nil) {
            self.text = text
            self.color = color
        }
        public init(stringLiteral value: String) { self.init(value) }
    }

    public var columns: [Column]
    public var rows: [[Cell]] = []

    public init(_ columns: [Column]) { self.columns = columns }

    public mutating func append(_ row: [Cell]) { rows.append(row) }

    public func render(paint: (String, Console.Color) -> String = { text, _ in text }) -> String {
        let rows = self.rows.map { $0.map { Cell(TextEscaping.terminal($0.text), color: $0.color) } }
        var widths = columns.map(\.title.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.text.count) }
        }
        func line(_ cells: [Cell], header: Bool) -> String {
            var parts: [String] = []
            for (i, column) in columns.enumerated() {
                let cell = i < cells.count ? cells[i] : Cell("")
                let pad = String(repeating: " ", count: widths[i] - cell.text.count)
                var text = column.alignment == .left ? cell.text + (i == columns.count - 1 ? "" : pad) : pad + cell.text
                if let color = cell.color { text = text.replacingOccurrences(of: cell.text, with: paint(cell.text, color)) }
                if header { text = paint(text, .bold) }
                parts.append(text)
            }
            var joined = parts.joined(separator: "  ")
            while joined.hasSuffix(" ") { joined.removeLast() }
            return joined
        }
        var out = [line(columns.map { Cell($0.title) }, header: true)]
        out += rows.map { line($0, header: false) }
        return out.joined(separator: "\n") + "\n"
    }

    /// The table as CSV, titles first, each field escaped for a spreadsheet.
    public func csv() -> String {
        var out = TextEscaping.csvLine(columns.map(\.title)) + "\r\n"
        for row in rows {
            out += TextEscaping.csvLine(columns.indices.map { $0 < row.count ? row[$0].text : "" }) + "\r\n"
        }
        return out
    }
}
