import Support
import Testing

@Suite struct NumberFormatTests {
    @Test("fixed decimals: halves away from zero, no negative zero, leading zeros kept")
    func fixed() {
        #expect(NumberFormat.fixed(0.125, 2) == "0.13")
        #expect(NumberFormat.fixed(-0.125, 2) == "-0.13")
        #expect(NumberFormat.fixed(2.5, 0) == "3")
        #expect(NumberFormat.fixed(-0.004, 2) == "0.00")
        #expect(NumberFormat.fixed(0.05, 3) == "0.050")
        #expect(NumberFormat.fixed(0.0004, 3) == "0.000")
        #expect(NumberFormat.fixed(123.456, 1) == "123.5")
        #expect(NumberFormat.fixed(899_999_999_999_999.9, 1) == "899999999999999.9")
    }

    @Test("not finite or beyond 2^53: Swift's own text, and nil from exactFixed")
    func outOfRange() {
        #expect(NumberFormat.fixed(.infinity, 2) == "inf")
        #expect(NumberFormat.fixed(.nan, 2) == "nan")
        #expect(NumberFormat.exactFixed(1e16, 0) == nil)
        #expect(NumberFormat.fixed(1e16, 0) == "1e+16")
        #expect(NumberFormat.exactFixed(.infinity, 1) == nil)
    }

    @Test("byte sizes and counts")
    func bytesAndCounts() {
        #expect(NumberFormat.bytes(89) == "89 B")
        #expect(NumberFormat.bytes(6_749) == "6.7 kB")
        #expect(NumberFormat.bytes(1_234_567_890) == "1.23 GB")
        #expect(NumberFormat.count(7_849) == "7.8k")
        #expect(NumberFormat.count(4_561_000) == "4.56M")
    }
}
