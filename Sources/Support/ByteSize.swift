/// Byte sizes as users write them, on the command line and in pipeline files alike: `5GB`, `500MB`,
/// `2GiB`, `300KB`, `1.5G`, `1024` (bytes). Decimal units are powers of 1000, binary units (`KiB`,
/// `MiB`, `GiB`) powers of 1024; units are case-insensitive.
package enum ByteSize {
    static let units: [(suffix: String, scale: Double)] = [
        ("GIB", 1_073_741_824), ("MIB", 1_048_576), ("KIB", 1024),
        ("GB", 1e9), ("MB", 1e6), ("KB", 1e3), ("G", 1e9), ("M", 1e6), ("K", 1e3), ("B", 1)
    ]

    /// The number of bytes `text` stands for (rounded down), or nil when it is not a non-negative size
    /// or does not fit in an `Int` (never a trap). Whether 0 is allowed is the caller's decision.
    package static func parse(_ text: String) -> Int? {
        let upper = text.uppercased()
        for unit in units where upper.hasSuffix(unit.suffix) {
            guard let v = Double(upper.dropLast(unit.suffix.count)), v >= 0, v.isFinite else { return nil }
            return Int(exactly: (v * unit.scale).rounded(.down))
        }
        guard let n = Int(text), n >= 0 else { return nil }
        return n
    }
}
