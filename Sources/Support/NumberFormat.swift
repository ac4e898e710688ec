/// Number formatting without Foundation, for messages and reports: fixed decimals, byte sizes, counts.
package enum NumberFormat {
    /// `v` with `digits` decimals (halves away from zero); `"\(v)"` when not finite or beyond 2^53.
    package static func fixed(_ v: Double, _ digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        // Beyond 2^53 the digits are not exact anyway, and Int(...) would trap past Int.max.
        guard v.isFinite, abs(v) * scale < 9e15 else { return "\(v)" }
        let r = (abs(v) * scale).rounded()
        let intPart = Int(r / scale)
        var s = (v < 0 && r != 0 ? "-" : "") + String(intPart)
        if digits > 0 {
            let frac = Int(r) - intPart * Int(scale)
            let f = String(frac)
            s += "." + String(repeating: "0", count: digits - f.count) + f
        }
        return s
    }

    /// A byte count as `1.23 GB`, `4.5 MB`, `6.7 kB` or `89 B`.
    package static func bytes(_ n: Int) -> String {
        let v = Double(n)
        if v >= 1e9 { return fixed(v / 1e9, 2) + " GB" }
        if v >= 1e6 { return fixed(v / 1e6, 1) + " MB" }
        if v >= 1e3 { return fixed(v / 1e3, 1) + " kB" }
        return "\(n) B"
    }

    /// A count as `1.23B`, `4.56M`, `7.8k` or `90`.
    package static func count(_ n: Int) -> String {
        let v = Double(n)
        if v >= 1e9 { return fixed(v / 1e9, 2) + "B" }
        if v >= 1e6 { return fixed(v / 1e6, 2) + "M" }
        if v >= 1e3 { return fixed(v / 1e3, 1) + "k" }
        return "\(n)"
    }
}
