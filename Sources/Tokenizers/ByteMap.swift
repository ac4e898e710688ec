/// An open-addressing hash map from byte strings to `Int32`, with all keys in one arena.
///
/// The hot lookups of every tokenizer (vocabulary by bytes, prefixes for Unigram/added tokens) go
/// through it without allocating a key.
struct ByteMap: Sendable {
    private var arena: [UInt8] = []
    private var starts: [Int32] = []
    private var lengths: [Int32] = []
    private(set) var values: [Int32] = []
    private var slots: [Int32]
    private var mask: Int

    /// An empty map sized for about `capacity` keys.
    init(capacity: Int = 16) {
        var n = 16
        while n < capacity * 2 { n <<= 1 }
        slots = Array(repeating: -1, count: n)
        mask = n - 1
    }

    var count: Int { values.count }

    /// A 64-bit hash of a byte string, eight bytes at a time (the one byte-key hash of the tokenizers:
    /// this map and ``BPEWordCache``).
    @inline(__always)
    static func hash(_ p: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(p.count)
        var i = 0
        while i + 8 <= p.count {
            h = (h ^ p.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 31
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < p.count { tail |= UInt64(p[i]) << shift; shift += 8; i += 1 }
        h = (h ^ tail) &* 0x94D0_49BB_1331_11EB
        return h ^ (h >> 29)
    }

    /// The value of `key`, or nil.
    @inline(__always)
    func get(_ key: UnsafeRawBufferPointer) -> Int32? {
        var i = Int(truncatingIfNeeded: ByteMap.hash(key)) & mask
        return arena.withUnsafeBytes { a -> Int32? in
            while true {
                let e = slots[i]
                if e < 0 { return nil }
                let e_ = Int(e)
                if Int(lengths[e_]) == key.count {
                    let s = Int(starts[e_])
                    if key.count == 0 || memcmpEqual(a.baseAddress! + s, key.baseAddress!, key.count) { return values[e_] }
                }
                i = (i + 1) & mask
            }
        }
    }

    func get(_ key: [UInt8]) -> Int32? { key.withUnsafeBytes { get($0) } }
    func get(_ key: String) -> Int32? { var k = key; return k.withUTF8 { get(UnsafeRawBufferPointer($0)) } }

    /// Sets `key` to `value`; returns the previous value.
    @discardableResult
    mutating func set(_ key: UnsafeRawBufferPointer, _ value: Int32) -> Int32? {
        if (values.count + 1) * 2 > slots.count { grow() }
        var i = Int(truncatingIfNeeded: ByteMap.hash(key)) & mask
        while true {
            let e = slots[i]
            if e < 0 { break }
            let e_ = Int(e)
            if Int(lengths[e_]) == key.count {
                let s = Int(starts[e_])
                let equal = arena.withUnsafeBytes { a in key.count == 0 || memcmpEqual(a.baseAddress! + s, key.baseAddress!, key.count) }
                if equal { let old = values[e_]; values[e_] = value; return old }
            }
            i = (i + 1) & mask
        }
        slots[i] = Int32(values.count)
        starts.append(Int32(arena.count))
        lengths.append(Int32(key.count))
        arena.append(contentsOf: key)
        values.append(value)
        return nil
    }

    @discardableResult
    mutating func set(_ key: [UInt8], _ value: Int32) -> Int32? { key.withUnsafeBytes { set($0, value) } }

    /// Sets `key` only when absent (keeps the first value).
    mutating func setIfAbsent(_ key: [UInt8], _ value: Int32) {
        if get(key) == nil { set(key, value) }
    }

    /// All keys with their values, in insertion order.
    func forEach(_ body: (ArraySlice<UInt8>, Int32) -> Void) {
        for e in 0..<values.count {
            let s = Int(starts[e])
            body(arena[s..<(s + Int(lengths[e]))], values[e])
        }
    }

    private mutating func grow() {
        let n = slots.count * 2
        var newSlots = Array(repeating: Int32(-1), count: n)
        let m = n - 1
        arena.withUnsafeBytes { a in
            for e in 0..<values.count {
                let key = UnsafeRawBufferPointer(rebasing: a[Int(starts[e])..<(Int(starts[e]) + Int(lengths[e]))])
                var i = Int(truncatingIfNeeded: ByteMap.hash(key)) & m
                while newSlots[i] >= 0 { i = (i + 1) & m }
                newSlots[i] = Int32(e)
            }
        }
        slots = newSlots
        mask = m
    }
}

@inline(__always)
func memcmpEqual(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ n: Int) -> Bool {
    var i = 0
    while i + 8 <= n {
        if a.loadUnaligned(fromByteOffset: i, as: UInt64.self) != b.loadUnaligned(fromByteOffset: i, as: UInt64.self) { return false }
        i += 8
    }
    while i < n {
        if a.load(fromByteOffset: i, as: UInt8.self) != b.load(fromByteOffset: i, as: UInt8.self) { return false }
        i += 1
    }
    return true
}

/// Open-addressing map from a pair of ids to a packed (rank, merged id): the BPE merge table.
///
/// Each slot holds its key and its value side by side, so a lookup touches one cache line.
struct PairMap: Sendable {
    /// Slot `i` is `entries[2 i]` (the key, ``empty`` when free) and `entries[2 i + 1]` (the value).
    private var entries: [UInt64]
    private var mask: Int
    private(set) var count = 0
    private static let empty = UInt64.max
    /// After ``compact()``, when every id and rank is below 0xFFFF (a 32k vocabulary): the same table
    /// in one word per slot, `a << 48 | b << 32 | rank << 16 | id` (``empty`` when free). Half the
    /// memory, so more of it stays in the CPU cache while words are merged. Empty otherwise.
    private var small: [UInt64] = []

    init(capacity: Int) {
        var n = 16
        while n < capacity * 2 { n <<= 1 }
        entries = PairMap.emptyEntries(slots: n)
        mask = n - 1
    }

    private static func emptyEntries(slots n: Int) -> [UInt64] {
        var e = [UInt64](repeating: 0, count: 2 * n)
        for i in 0..<n { e[2 * i] = PairMap.empty }
        return e
    }

    @inline(__always) static func key(_ a: Int32, _ b: Int32) -> UInt64 { UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b)) }
    @inline(__always) static func slot(_ k: UInt64, _ mask: Int) -> Int { Int(truncatingIfNeeded: (k &* 0x9E37_79B9_7F4A_7C15) >> 20) & mask }

    /// (rank, merged id) of the pair, or nil.
    @inline(__always)
    func get(_ a: Int32, _ b: Int32) -> (rank: Int32, id: Int32)? {
        let v = packed(a, b)
        if v == PairMap.none { return nil }
        return (Int32(truncatingIfNeeded: v >> 32), Int32(truncatingIfNeeded: v))
    }

    /// No merge: the value of ``packed(_:_:)`` for a pair that is not in the table (above every real one).
    static let none = UInt64.max

    /// (rank, merged id) of the pair packed as `rank << 32 | id`, or ``none``: comparing packed values
    /// compares ranks, since one rank belongs to one pair.
    @inline(__always)
    func packed(_ a: Int32, _ b: Int32) -> UInt64 {
        if !small.isEmpty { return packedSmall(a, b) }
        let k = PairMap.key(a, b)
        var i = PairMap.slot(k, mask)
        return entries.withUnsafeBufferPointer { e in
            while true {
                let kk = e[2 * i]
                if kk == k { return e[2 * i + 1] }
                if kk == PairMap.empty { return PairMap.none }
                i = (i + 1) & mask
            }
        }
    }

    @inline(__always)
    private func packedSmall(_ a: Int32, _ b: Int32) -> UInt64 {
        let ua = UInt32(bitPattern: a), ub = UInt32(bitPattern: b)
        if ua >= 0xFFFF || ub >= 0xFFFF { return PairMap.none }
        let k = UInt64(ua) << 16 | UInt64(ub)
        var i = PairMap.slot(k, mask)
        return small.withUnsafeBufferPointer { e in
            while true {
                let v = e[i]
                if v >> 32 == k { return (v >> 16 & 0xFFFF) << 32 | (v & 0xFFFF) }
                if v == PairMap.empty { return PairMap.none }
                i = (i + 1) & mask
            }
        }
    }

    /// Builds the one-word-per-slot form when every id and rank fits in 16 bits (call after the last
    /// insert; an insert afterwards goes back to the wide form).
    mutating func compact() {
        var fits = true
        for j in stride(from: 0, to: entries.count, by: 2) where entries[j] != PairMap.empty {
            let k = entries[j], v = entries[j + 1]
            if k >> 32 >= 0xFFFF || k & 0xFFFF_FFFF >= 0xFFFF || v >> 32 >= 0xFFFF || v & 0xFFFF_FFFF >= 0xFFFF { fits = false; break }
        }
        guard fits, count > 0 else { small = []; return }
        var t = [UInt64](repeating: PairMap.empty, count: mask + 1)
        for j in stride(from: 0, to: entries.count, by: 2) where entries[j] != PairMap.empty {
            let k = (entries[j] >> 32) << 16 | entries[j] & 0xFFFF
            var i = PairMap.slot(k, mask)
            while t[i] != PairMap.empty { i = (i + 1) & mask }
            t[i] = k << 32 | (entries[j + 1] >> 32) << 16 | entries[j + 1] & 0xFFFF
        }
        small = t
    }

    /// Inserts or replaces (a later duplicate merge wins, as HF tokenizers' map collection does);
    /// returns false when the pair was present.
    @discardableResult
    mutating func insert(_ a: Int32, _ b: Int32, rank: Int32, id: Int32) -> Bool {
        small = []
        if (count + 1) * 2 > mask + 1 { grow() }
        let k = PairMap.key(a, b)
        let v = UInt64(UInt32(bitPattern: rank)) << 32 | UInt64(UInt32(bitPattern: id))
        var i = PairMap.slot(k, mask)
        while entries[2 * i] != PairMap.empty {
            if entries[2 * i] == k {
                entries[2 * i + 1] = v
                return false
            }
            i = (i + 1) & mask
        }
        entries[2 * i] = k
        entries[2 * i + 1] = v
        count += 1
        return true
    }

    private mutating func grow() {
        let old = entries
        let n = (mask + 1) * 2
        entries = PairMap.emptyEntries(slots: n)
        mask = n - 1
        for j in stride(from: 0, to: old.count, by: 2) where old[j] != PairMap.empty {
            var i = PairMap.slot(old[j], mask)
            while entries[2 * i] != PairMap.empty { i = (i + 1) & mask }
            entries[2 * i] = old[j]
            entries[2 * i + 1] = old[j + 1]
        }
    }
}

/// Token string → id, compared by UTF-8 bytes. (Swift `String` equality is canonical equivalence,
/// which would merge `é` and `e\u{301}`: two different tokens.)
struct StringIds: Sendable {
    private(set) var map: ByteMap

    init(capacity: Int = 16) { map = ByteMap(capacity: capacity) }

    subscript(_ s: String) -> Int? {
        get { map.get(s).map { Int($0) } }
        set { if let v = newValue { var k = s; k.withUTF8 { _ = map.set(UnsafeRawBufferPointer($0), Int32(v)) } } }
    }
}
