import Foundation
import Testing
@testable import MLOpsLearn

@Suite struct TableCSVTests {
    @Test func roundTripsTypesQuotesAndMissingValues() throws {
        var t = Table()
        t.append("id", .numeric([1, 2, 3]))
        t.append("score", .numeric([0.25, .nan, -1e-7]))
        t.append("name", .categorical(["plain", "with, comma", "with \"quote\""]))
        let text = String(decoding: TableCSV.write(t), as: UTF8.self)
        #expect(text == "id,score,name\n1,0.25,plain\n2,,\"with, comma\"\n3,-1e-07,\"with \"\"quote\"\"\"\n")
        let back = try TableCSV.read(Data(text.utf8))
        #expect(back.numeric("id") == [1, 2, 3])
        #expect(back.categorical("name") == t.categorical("name"))
        #expect(back.numeric("score")?[1].isNaN == true)
    }

    @Test func theSyntheticCohortWritesByteForByteTheSame() {
        var s = SyntheticCohort.Settings()
        s.customers = 500
        #expect(TableCSV.write(SyntheticCohort(s).week(2)) == TableCSV.write(SyntheticCohort(s).week(2)))
    }

    @Test(arguments: [
        ("a,b\n1,2\n3\n", TableCSV.ParseError(line: 3, column: nil, message: "1 fields, the header has 2")),
        ("a,b\n1,2\n\n4,x\n", TableCSV.ParseError(line: 4, column: "b", message: "'x' is not a number")),
        ("a,a\n1,2\n", TableCSV.ParseError(line: 1, column: "a", message: "the column appears twice")),
        ("a,b\n1,\"open\n", TableCSV.ParseError(line: 2, column: nil, message: "a quoted field is not closed")),
        ("", TableCSV.ParseError(line: 1, column: nil, message: "the file is empty; it needs a header row")),
    ])
    func errorsNameTheLineAndColumn(text: String, expected: TableCSV.ParseError) {
        do {
            _ = try TableCSV.read(Data(text.utf8), types: text.hasPrefix("a,b\n1,2\n\n") ? ["b": .numeric] : [:])
            Issue.record("should be refused")
        } catch {
            #expect(error == expected)
        }
    }

    @Test func aMissingLabelIsNamed() {
        #expect(throws: TableCSV.ParseError(line: 1, column: "bought", message: "the required column is missing (columns: a, b)")) {
            try TableCSV.read(Data("a,b\n1,2\n".utf8), required: ["bought"])
        }
    }
}

@Suite struct CSVNumberTests {
    @Test func theFastPathAgreesWithSwiftsOwnParsing() throws {
        var g = SeededGenerator(seed: 3)
        var texts = ["0", "-0", "0.1", "1e-5", "3.14159e2", "+7", "123456789012345", "12345678901234567890", "1e300", "2.5E-3", "  12 ", ".5", "5."]
        for _ in 0..<20_000 {
            let v = (g.uniform() - 0.5) * pow(10, Double(Int(g.uniform() * 30) - 15))
            texts.append(String(format: ["%.6g", "%.17g", "%.3f", "%e"][Int(g.uniform() * 4)], v))
        }
        let csv = "v\n" + texts.joined(separator: "\n") + "\n"
        let parsed = try #require(try TableCSV.read(Data(csv.utf8)).numeric("v"))
        for (text, value) in zip(texts, parsed) {
            let expected = Double(text.trimmingCharacters(in: .whitespaces))!
            #expect(value == expected || (value == 0 && expected == 0), "\(text): \(value) ≠ \(expected)")
        }
    }

    /// Found by the CSV fuzzer (fuzz/Regressions/FuzzCSV): a carriage return alone after a quoted
    /// field ended a record, so there were more records than lines and the reader wrote past its
    /// buffer. Now it is refused, as text after a closing quote.
    @Test func aLoneCarriageReturnAfterAQuoteIsRefusedNotOverrun() throws {
        let input = Data("id,&[`0\n,\"1:`\"\r,\n9,".utf8)
        #expect(throws: TableCSV.ParseError.self) { try TableCSV.read(input) }
        // CRLF after a quoted field still ends the record.
        let table = try TableCSV.read(Data("a,b\r\n\"x\",1\r\n\"y\",2\r\n".utf8))
        #expect(table.categorical("a") == ["x", "y"] && table.numeric("b") == [1, 2])
    }

    @Test func blankLinesAndWindowsLineEndsAreRecordsOfNothing() throws {
        let table = try TableCSV.read(Data("a,b\r\n1,2\r\n\r\n3,4\r\n\r".utf8))
        #expect(table.numeric("a") == [1, 3] && table.numeric("b") == [2, 4])
    }

    @Test func textIsNotANumber() throws {
        let table = try TableCSV.read(Data("a,b,c\n1.5.2,-,12\nx,e5,13\n".utf8))
        #expect(table.categorical("a") == ["1.5.2", "x"])
        #expect(table.categorical("b") == ["-", "e5"])
        #expect(table.numeric("c") == [12, 13])
    }
}

/// Files over 4 MiB without quotes are parsed in one chunk per core; they must read exactly as
/// the sequential parse would.
@Suite struct ParallelCSVTests {
    func bigTable(rows: Int = 250_000) -> Table {
        var g = SeededGenerator(seed: 11)
        var t = Table()
        t.append("id", .numeric((0..<rows).map(Double.init)))
        t.append("x", .numeric((0..<rows).map { _ in (g.normal() * 1e6).rounded() / 1e3 }))
        t.append("c", .categorical((0..<rows).map { ["a", "b", "c"][$0 % 3] }))
        t.append("y", .numeric((0..<rows).map { Double($0 % 2) }))
        return t
    }

    @Test func aLargeFileRoundTrips() throws {
        let table = bigTable()
        let data = TableCSV.write(table)
        #expect(data.count > 4 << 20)
        #expect(try TableCSV.read(data) == table)
    }

    @Test func anErrorInTheSecondHalfNamesItsLine() throws {
        var text = String(decoding: TableCSV.write(bigTable()), as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines[200_001] = "1,2,a"  // line 200,002 of the file, in the second chunk: three fields
        text = lines.joined(separator: "\n")
        #expect(throws: TableCSV.ParseError(line: 200_002, column: nil, message: "3 fields, the header has 4")) {
            try TableCSV.read(Data(text.utf8))
        }
    }

    @Test func textLateInAColumnMakesItText() throws {
        var lines = String(decoding: TableCSV.write(bigTable()), as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines[110_000] = "109999,n/a,b,1"
        let table = try TableCSV.read(Data(lines.joined(separator: "\n").utf8))
        #expect(table.categorical("x")?[109_999] == "n/a")
        #expect(table.numeric("id")?.count == 250_000)
    }
}
