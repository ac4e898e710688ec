/// Character classes of the split regexes (`\p{L}`, `\p{N}`, `\s`) and a small UTF-8 decoder.
enum CharClass {
    static let letter: UInt8 = 1
    static let number: UInt8 = 2
    static let space: UInt8 = 4

    /// Class bits of every BMP scalar, computed once from the standard library's Unicode tables.
    static let bmp: [UInt8] = {
        var t = [UInt8](repeating: 0, count: 0x10000)
        for v in 0..<0x10000 {
            guard let s = Unicode.Scalar(UInt32(v)) else { continue }
            t[v] = compute(s)
        }
        return t
    }()

    static func compute(_ s: Unicode.Scalar) -> UInt8 {
        let p = s.properties
        var c: UInt8 = 0
        switch p.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: c |= letter
        case .decimalNumber, .letterNumber, .otherNumber: c |= number
        default: break
        }
        if p.isWhitespace { c |= space }
        return c
    }

    @inline(__always)
    static func of(_ v: UInt32) -> UInt8 {
        if v < 0x10000 { return bmp.withUnsafeBufferPointer { $0[Int(v)] } }
        guard let s = Unicode.Scalar(v) else { return 0 }
        return compute(s)
    }
}

/// Decodes the scalar at `i` of valid UTF-8 (as in a Swift String); returns (value, byte length).
@inline(__always)
func decodeScalar(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> (UInt32, Int) {
    let b0 = UInt32(p[i])
    if b0 < 0x80 { return (b0, 1) }
    if b0 < 0xE0 { return ((b0 & 0x1F) << 6 | UInt32(p[i + 1] & 0x3F), 2) }
    if b0 < 0xF0 { return ((b0 & 0x0F) << 12 | UInt32(p[i + 1] & 0x3F) << 6 | UInt32(p[i + 2] & 0x3F), 3) }
    return ((b0 & 0x07) << 18 | UInt32(p[i + 1] & 0x3F) << 12 | UInt32(p[i + 2] & 0x3F) << 6 | UInt32(p[i + 3] & 0x3F), 4)
}

/// Byte length of the UTF-8 sequence that starts with `b`.
@inline(__always)
func utf8Length(_ b: UInt8) -> Int { b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4 }

/// GPT-2's reversible byte ↔ printable-character map used by byte-level BPE (`bytes_to_unicode`):
/// printable Latin-1 bytes stand for themselves, the others for U+0100 + k in byte order. The one
/// implementation (tokenizers, vocabulary building and token mapping use it).
package enum ByteLevelAlphabet {
    /// The character (as a scalar) standing for each byte.
    package static let byteToScalar: [Unicode.Scalar] = {
        var bs: [Int] = Array(33...126) + Array(161...172) + Array(174...255)
        var cs = bs
        var n = 0
        for b in 0..<256 where !bs.contains(b) {
            bs.append(b)
            cs.append(256 + n)
            n += 1
        }
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        for (b, c) in zip(bs, cs) { table[b] = Unicode.Scalar(UInt32(c))! }
        return table
    }()

    /// The byte each alphabet scalar stands for (index = scalar value < 324), -1 elsewhere.
    static let scalarToByte: [Int16] = {
        var t = [Int16](repeating: -1, count: 324)
        for (b, s) in byteToScalar.enumerated() { t[Int(s.value)] = Int16(b) }
        return t
    }()

    /// The byte-level string of raw bytes (`" hi"` → `"Ġhi"`).
    package static func encode<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(byteToScalar[Int(b)]) }
        return String(s)
    }

    /// The raw bytes of a byte-level string, or nil when it has a character outside the alphabet.
    package static func decode(_ s: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        for u in s.unicodeScalars {
            guard u.value < 324, scalarToByte[Int(u.value)] >= 0 else { return nil }
            out.append(UInt8(scalarToByte[Int(u.value)]))
        }
        return out
    }
}
