/// Keys and values of the positions seen so far, per layer, for incremental decoding.
///
/// Layer l holds keys [capacity, nKV·d] and values [capacity, nKV·d] (after RoPE for keys).
/// `count` positions are filled; a forward pass over T new tokens writes rows count..<count+T of
/// every layer and then advances `count`.
public final class KVCache {
    /// Maximum number of positions.
    public let capacity: Int
    /// Positions filled.
    public internal(set) var count = 0
    /// Row width nKV·d.
    public let width: Int
    let keys: [UnsafeMutablePointer<Float>]
    let values: [UnsafeMutablePointer<Float>]

    /// An empty cache for `config` with room for `capacity` positions.
    public init(config: ModelConfig, capacity: Int) {
        self.capacity = max(1, capacity)
        width = config.numKeyValueHeads * config.headDim
        let size = self.capacity * width
        keys = (0..<config.numHiddenLayers).map { _ in .allocate(capacity: size) }
        values = (0..<config.numHiddenLayers).map { _ in .allocate(capacity: size) }
    }

    deinit {
        keys.forEach { $0.deallocate() }
        values.forEach { $0.deallocate() }
    }

    /// Forgets every position (the buffers are reused).
    public func reset() { count = 0 }

    /// Keeps only the first `n` positions (a shared prefix), so the next pass continues from there.
    public func truncate(to n: Int) { count = max(0, min(count, n)) }

    /// Bytes allocated.
    public var allocatedBytes: Int { 2 * keys.count * capacity * width * 4 }
}
