/// Ids as ranges for messages: `[1, 2, 3, 7]` → "1-3, 7" (sorted, duplicates kept once).
public func idRangesText(_ ids: [Int]) -> String {
    let s = Array(Set(ids)).sorted()
    var parts: [String] = []
    var i = 0
    while i < s.count {
        var j = i
        while j + 1 < s.count && s[j + 1] == s[j] + 1 { j += 1 }
        parts.append(i == j ? "\(s[i])" : "\(s[i])-\(s[j])")
        i = j + 1
    }
    return parts.joined(separator: ", ")
}
