/// Number formatting without Foundation, for messages and reports: fixed decimals, byte sizes, counts.
package enum NumberFormat {
    /// `v` with `digits` decimals (halves away from zero); `"\(v)"` when not finite or beyond 2^53.
    package static func fixed(_ v: Double, _ digits: Int) -> String {
        exactFixed(v, digits) ?? "\(v)"
    }

    /// `v` with `digits` decimals (halves away from zero), or nil when `v` is not finite or `v · 10^digits`
    /// is beyond 9e15 (where its integer digits are no longer exact). The digits are those of one
    /// integer, `round(|v| · 10^digits)`, with the point inserted: no second division to go wrong.
    package static func exactFixed(_ v: Double, _ digits: Int) -> String? {
        guard v.isFinite else { return nil }
        var scale = 1.0
        for _ in 0..<max(0, digits) { scale *= 10 }
        let scaled = (abs(v) * scale).rounded(.toNearestOrAwayFromZero)
        guard scaled < 9e15 else { return nil }
        let n = Int64(scaled)
        var text = String(n)
        if digits > 0 {
            if text.count <= digits { text = String(repeating: "0", count: digits - text.count + 1) + text }
            text.insert(".", at: text.index(text.endIndex, offsetBy: -digits))
        }
        return (v < 0 && n != 0 ? "-" : "") + text
    }

    /// A byte count as `1.23 GB`, `4.5 MB`, `6.7 kB` or `89 B`.
    package static func bytes(_ n: Int) -> String {
        scaled(n, [(1e9, 2, " GB"), (1e6, 1, " MB"), (1e3, 1, " kB")]) ?? "\(n) B"
    }

    /// A count as `1.23B`, `4.56M`, `7.8k` or `90`.
    package static func count(_ n: Int) -> String {
        scaled(n, [(1e9, 2, "B"), (1e6, 2, "M"), (1e3, 1, "k")]) ?? "\(n)"
    }

    /// `n` in the first of `units` (threshold, decimals, suffix; largest first) it reaches, or nil below
    /// them all.
    private static func scaled(_ n: Int, _ units: [(unit: Double, digits: Int, suffix: String)]) -> String? {
        let v = Double(n)
        for u in units where v >= u.unit { return fixed(v / u.unit, u.digits) + u.suffix }
        return nil
    }
}
