import Foundation
import MLOpsLearn
import PropertyBased
import Testing

/// The CSV reader's number parser has a fast path of its own (Clinger's, for short decimals);
/// whatever text a number is written as, it must read the same double as C's `strtod`.
@Suite("CSV numbers read as strtod reads them")
struct CSVNumberProperties {
    /// Numbers as files write them: Swift's shortest form, decimals with many digits, exponents
    /// near the ends of the range, signs, a leading or trailing point.
    static let numberText = zip(Gen.int(in: 0...4), Gen.int64(in: -999_999_999_999_999_999...999_999_999_999_999_999),
                                Gen.int(in: 0...20), Gen.int(in: -340...310), Gen.double(in: -1e7...1e7))
        .map { kind, mantissa, point, exponent, double -> String in
            let digits = String(mantissa.magnitude)
            let sign = mantissa < 0 ? "-" : ""
            let cut = digits.index(digits.startIndex, offsetBy: min(point, digits.count))
            switch kind {
            case 0: return String(double)
            case 1: return sign + digits[..<cut] + "." + digits[cut...]
            case 2: return "\(mantissa)e\(exponent)"
            case 3: return sign + "0." + String(repeating: "0", count: point) + digits
            default: return sign + digits[..<cut] + "." + digits[cut...] + "E+\(abs(exponent) % 25)"
            }
        }

    @Test func everyNumberReadsAsStrtodReadsIt() async {
        await propertyCheck(count: 3000, input: Self.numberText) { text in
            let read = try? TableCSV.read(Data("x\n\(text)\n".utf8), types: ["x": .numeric]).numeric("x")?.first
            let expected = strtod(text, nil)
            #expect(read?.bitPattern == expected.bitPattern, "'\(text)': read \(String(describing: read)), strtod \(expected)")
        }
    }
}
