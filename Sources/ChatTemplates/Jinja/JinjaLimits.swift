/// Bounds on what a template may do. Chat templates come with downloaded models, so a template is
/// untrusted input: one that would nest, loop or grow without end is refused with an error naming
/// the limit instead of exhausting the stack, the memory or the time. Real chat templates stay far
/// below every bound.
enum JinjaLimits {
    /// Deepest nesting of expressions (parentheses, operator chains, filters) and of blocks, and of
    /// lists, dicts and namespaces inside one another when they are printed or serialised.
    static let maxNesting = 128
    /// Longest string a template may build (the rendered text included), in UTF-8 bytes.
    static let maxText = 16 << 20
    /// Longest list a template may build.
    static let maxItems = 1 << 20
    /// Most evaluation steps one render may take (an expression evaluated is one step, a loop
    /// iteration twenty).
    static let maxSteps = 2_000_000

    /// Fails when a string of `bytes` UTF-8 bytes would exceed ``maxText``.
    static func checkText(_ bytes: Int, _ what: String) throws {
        if bytes > maxText { throw JinjaFailure("\(what) would be longer than \(maxText >> 20) MiB (a template's limit)") }
    }

    /// Fails when a list of `count` items would exceed ``maxItems``.
    static func checkItems(_ count: Int, _ what: String) throws {
        if count > maxItems { throw JinjaFailure("\(what) would have more than \(maxItems) items (a template's limit)") }
    }

    /// `count` copies of something of `size`: the product, or nil when it overflows.
    static func product(_ size: Int, _ count: Int) -> Int? {
        let (p, o) = size.multipliedReportingOverflow(by: count)
        return o ? nil : p
    }
}
