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

    @inline(__always)
    static func hash(_ p: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in p { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
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
struct PairMap: Sendable {
    private var keys: [UInt64]
    private var vals: [UInt64]
    private var mask: Int
    private(set) var count = 0
    private static let empty = UInt64.max

    init(capacity: Int) {
        var n = 16
        while n < capacity * 2 { n <<= 1 }
        keys = Array(repeating: PairMap.empty, count: n)
        vals = Array(repeating: 0, count: n)
        mask = n - 1
    }

    @inline(__always) static func key(_ a: Int32, _ b: Int32) -> UInt64 { UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b)) }
    @inline(__always) static func slot(_ k: UInt64, _ mask: Int) -> Int { Int(truncatingIfNeeded: (k &* 0x9E37_79B9_7F4A_7C15) >> 20) & mask }

    /// (rank, merged id) of the pair, or nil.
    @inline(__always)
    func get(_ a: Int32, _ b: Int32) -> (rank: Int32, id: Int32)? {
        let k = PairMap.key(a, b)
        var i = PairMap.slot(k, mask)
        while true {
            let kk = keys[i]
            if kk == k { let v = vals[i]; return (Int32(truncatingIfNeeded: v >> 32), Int32(truncatingIfNeeded: v)) }
            if kk == PairMap.empty { return nil }
            i = (i + 1) & mask
        }
    }

    /// Inserts or replaces (a later duplicate merge wins, as HF tokenizers' map collection does);
    /// returns false when the pair was present.
    @discardableResult
    mutating func insert(_ a: Int32, _ b: Int32, rank: Int32, id: Int32) -> Bool {
        if (count + 1) * 2 > keys.count { grow() }
        let k = PairMap.key(a, b)
        var i = PairMap.slot(k, mask)
        while keys[i] != PairMap.empty {
            if keys[i] == k {
                vals[i] = UInt64(UInt32(bitPattern: rank)) << 32 | UInt64(UInt32(bitPattern: id))
                return false
            }
            i = (i + 1) & mask
        }
        keys[i] = k
        vals[i] = UInt64(UInt32(bitPattern: rank)) << 32 | UInt64(UInt32(bitPattern: id))
        count += 1
        return true
    }

    private mutating func grow() {
        let oldK = keys, oldV = vals
        let n = keys.count * 2
        keys = Array(repeating: PairMap.empty, count: n)
        vals = Array(repeating: 0, count: n)
        mask = n - 1
        for j in 0..<oldK.count where oldK[j] != PairMap.empty {
            var i = PairMap.slot(oldK[j], mask)
            while keys[i] != PairMap.empty { i = (i + 1) & mask }
            keys[i] = oldK[j]
            vals[i] = oldV[j]
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
