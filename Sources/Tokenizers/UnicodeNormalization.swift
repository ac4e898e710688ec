@_spi(_Unicode) import Swift

/// Unicode normalisation forms for the `NFC`, `NFD`, `NFKC` and `NFKD` normalisers of tokenizer.json.
///
/// Canonical forms come from the Swift standard library (the same data it uses to compare strings);
/// compatibility forms add `CompatibilityDecompositionTable`: NFKD(s) = NFD(⨁ NFKD(c)) and
/// NFKC(s) = NFC(NFKD(s)), which is how the Unicode standard defines them.
enum UnicodeNormalization {
    enum Form: String, Sendable { case nfc = "NFC", nfd = "NFD", nfkc = "NFKC", nfkd = "NFKD" }

    static func apply(_ form: Form, to text: String) -> String {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return text }  // ASCII is invariant under all four
        switch form {
        case .nfc: return nfc(text)
        case .nfd: return nfd(text)
        case .nfkd: return nfd(compatibilityExpanded(text))
        case .nfkc: return nfc(compatibilityExpanded(text))
        }
    }

    static func nfc(_ s: String) -> String { String(decoding: s._nfcCodeUnits, as: UTF8.self) }

    static func nfd(_ s: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in s._nfd { out.append(scalar) }
        return String(out)
    }

    /// Replaces each scalar that has a compatibility decomposition by it (canonical order is
    /// restored by the following NFD/NFC pass).
    static func compatibilityExpanded(_ s: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in s.unicodeScalars {
            if let expansion = table[scalar.value] { out.append(contentsOf: expansion) } else { out.append(scalar) }
        }
        return String(out)
    }

    /// Code point → its NFKD expansion, parsed once from the generated table.
    static let table: [UInt32: [Unicode.Scalar]] = {
        var t: [UInt32: [Unicode.Scalar]] = [:]
        let text = CompatibilityDecompositionTable.encoded.filter { $0 != "\n" }
        for entry in text.split(separator: ";") {
            let parts = entry.split(separator: ":")
            guard parts.count == 2, let key = UInt32(parts[0], radix: 16) else { continue }
            t[key] = parts[1].split(separator: " ").compactMap { UInt32($0, radix: 16).flatMap(Unicode.Scalar.init) }
        }
        return t
    }()
}
