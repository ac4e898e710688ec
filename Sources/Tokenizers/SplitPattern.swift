/// Hand-written matchers for the split regexes of byte-level BPE tokenizers.
///
/// Each is exact to the regex (leftmost-first alternation with backtracking, as Oniguruma /
/// fancy-regex run it) and works on UTF-8 bytes with the Unicode classes of ``CharClass``:
/// - `llama3`: `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
/// - `qwen2`: the same with `\p{N}` (one digit per piece)
/// - `gpt2`: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+` (ByteLevel `use_regex`)
enum SplitPattern: Equatable, Sendable {
    case llama3, qwen2, gpt2

    static let llama3Source = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2Source = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let gpt2Source = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#

    /// The matcher for a regex source, or nil when lep has none for it.
    init?(source: String) {
        switch source {
        case SplitPattern.llama3Source: self = .llama3
        case SplitPattern.qwen2Source: self = .qwen2
        case SplitPattern.gpt2Source: self = .gpt2
        default: return nil
        }
    }

    var source: String {
        switch self {
        case .llama3: SplitPattern.llama3Source
        case .qwen2: SplitPattern.qwen2Source
        case .gpt2: SplitPattern.gpt2Source
        }
    }

    /// Calls `emit` with the byte range of every match in `p[range]`, in order. The patterns cover
    /// every character, so the matches tile the range.
    func forEachMatch(_ p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ emit: (Range<Int>) -> Void) {
        switch self {
        case .llama3: Self.llama3Matches(p, range, maxDigits: 3, emit)
        case .qwen2: Self.llama3Matches(p, range, maxDigits: 1, emit)
        case .gpt2: Self.gpt2Matches(p, range, emit)
        }
    }

    @inline(__always)
    private static func cls(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> (UInt8, UInt32, Int) {
        let b = p[i]
        if b < 0x80 { return (asciiClass[Int(b)], UInt32(b), 1) }
        let (v, n) = decodeScalar(p, i)
        return (CharClass.of(v), v, n)
    }

    private static let asciiClass: [UInt8] = (0..<128).map { CharClass.of(UInt32($0)) }

    /// Length of a contraction (`'s`, `'ll`, ...) at `i` (which holds `'`), 0 when none.
    @inline(__always)
    private static func contraction(_ p: UnsafeBufferPointer<UInt8>, _ i: Int, _ end: Int, caseInsensitive: Bool) -> Int {
        guard i + 1 < end else { return 0 }
        func lower(_ j: Int) -> (UInt8, Int) {  // ASCII-lowered byte at j and its length; ſ (U+017F) folds to s
            let b = p[j]
            if caseInsensitive {
                if b >= 0x41 && b <= 0x5A { return (b | 0x20, 1) }
                if b == 0xC5 && j + 1 < end && p[j + 1] == 0xBF { return (UInt8(ascii: "s"), 2) }
            }
            return (b, 1)
        }
        let (c1, l1) = lower(i + 1)
        switch c1 {
        case UInt8(ascii: "s"), UInt8(ascii: "t"), UInt8(ascii: "m"), UInt8(ascii: "d"): return 1 + l1
        case UInt8(ascii: "r"), UInt8(ascii: "v"), UInt8(ascii: "l"):
            guard i + 1 + l1 < end else { return 0 }
            let (c2, l2) = lower(i + 1 + l1)
            let want: UInt8 = c1 == UInt8(ascii: "l") ? UInt8(ascii: "l") : UInt8(ascii: "e")
            return c2 == want ? 1 + l1 + l2 : 0
        default: return 0
        }
    }

    private static func llama3Matches(_ p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, maxDigits: Int, _ emit: (Range<Int>) -> Void) {
        let end = range.upperBound
        var i = range.lowerBound
        let L = CharClass.letter, N = CharClass.number, S = CharClass.space
        while i < end {
            let start = i
            let (c, v, n) = cls(p, i)
            // (?i:'s|'t|'re|'ve|'m|'ll|'d)
            if v == 0x27 {
                let k = contraction(p, i, end, caseInsensitive: true)
                if k > 0 { i += k; emit(start..<i); continue }
            }
            // [^\r\n\p{L}\p{N}]?\p{L}+
            if c & L != 0 {
                i += n
                while i < end { let (c2, _, n2) = cls(p, i); if c2 & L == 0 { break }; i += n2 }
                emit(start..<i); continue
            }
            if c & N == 0 && v != 0x0D && v != 0x0A && i + n < end {
                let (c2, _, _) = cls(p, i + n)
                if c2 & L != 0 {
                    i += n
                    while i < end { let (c3, _, n3) = cls(p, i); if c3 & L == 0 { break }; i += n3 }
                    emit(start..<i); continue
                }
            }
            // \p{N}{1,maxDigits}
            if c & N != 0 {
                i += n
                var k = 1
                while k < maxDigits && i < end { let (c2, _, n2) = cls(p, i); if c2 & N == 0 { break }; i += n2; k += 1 }
                emit(start..<i); continue
            }
            //  ?[^\s\p{L}\p{N}]+[\r\n]*
            var j = i
            if v == 0x20 { j += 1 }
            if j < end {
                let (c2, _, n2) = cls(p, j)
                if c2 & (S | L | N) == 0 {
                    j += n2
                    while j < end { let (c3, _, n3) = cls(p, j); if c3 & (S | L | N) != 0 { break }; j += n3 }
                    while j < end && (p[j] == 0x0D || p[j] == 0x0A) { j += 1 }
                    i = j; emit(start..<i); continue
                }
            }
            // Whitespace alternatives: \s*[\r\n]+ | \s+(?!\S) | \s+
            if c & S != 0 {
                var runEnd = i
                var lastNewlineEnd = -1
                var lastScalarStart = i
                while runEnd < end {
                    let (c2, v2, n2) = cls(p, runEnd)
                    if c2 & S == 0 { break }
                    if v2 == 0x0D || v2 == 0x0A { lastNewlineEnd = runEnd + n2 }
                    lastScalarStart = runEnd
                    runEnd += n2
                }
                if lastNewlineEnd > 0 { i = lastNewlineEnd } else if runEnd == end { i = runEnd } else if lastScalarStart > start { i = lastScalarStart } else { i = runEnd }
                emit(start..<i); continue
            }
            // Unreachable for valid input (every scalar is L, N, \s or other); keep progress.
            i += n
            emit(start..<i)
        }
    }

    private static func gpt2Matches(_ p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ emit: (Range<Int>) -> Void) {
        let end = range.upperBound
        var i = range.lowerBound
        let L = CharClass.letter, N = CharClass.number, S = CharClass.space
        while i < end {
            let start = i
            let (c, v, n) = cls(p, i)
            if v == 0x27 {
                let k = contraction(p, i, end, caseInsensitive: false)
                if k > 0 { i += k; emit(start..<i); continue }
            }
            // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`
            var j = i
            if v == 0x20 { j += 1 }
            if j < end {
                let (c2, _, n2) = cls(p, j)
                let want: UInt8? = c2 & L != 0 ? L : c2 & N != 0 ? N : c2 & S == 0 ? 0 : nil
                if let want {
                    j += n2
                    while j < end {
                        let (c3, _, n3) = cls(p, j)
                        let ok = want == 0 ? c3 & (S | L | N) == 0 : c3 & want != 0
                        if !ok { break }
                        j += n3
                    }
                    i = j; emit(start..<i); continue
                }
            }
            if c & S != 0 {
                var runEnd = i
                var lastScalarStart = i
                while runEnd < end {
                    let (c2, _, n2) = cls(p, runEnd)
                    if c2 & S == 0 { break }
                    lastScalarStart = runEnd
                    runEnd += n2
                }
                if runEnd == end { i = runEnd } else if lastScalarStart > start { i = lastScalarStart } else { i = runEnd }
                emit(start..<i); continue
            }
            i += n
            emit(start..<i)
        }
    }
}
