#if canImport(Glibc)
import Glibc
#endif
import LEPJSON

/// Jinja's operators, filters, tests and the Python methods chat templates call on strings and dicts.
/// Text operations count Unicode scalars, like Python's `str`.
package enum Builtins {
    // MARK: Python string helpers

    static func isPySpace(_ s: Unicode.Scalar) -> Bool {
        s.properties.isWhitespace || (0x1C...0x1F).contains(s.value)
    }

    static func strip(_ s: String, _ chars: String?, left: Bool = true, right: Bool = true) -> String {
        var u = Array(s.unicodeScalars)
        let set = chars.map { Set($0.unicodeScalars) }
        func drop(_ c: Unicode.Scalar) -> Bool { set?.contains(c) ?? isPySpace(c) }
        if right { while let l = u.last, drop(l) { u.removeLast() } }
        if left {
            var i = 0
            while i < u.count, drop(u[i]) { i += 1 }
            u.removeFirst(i)
        }
        return string(u)
    }

    static func string<S: Sequence>(_ scalars: S) -> String where S.Element == Unicode.Scalar {
        var v = String.UnicodeScalarView()
        v.append(contentsOf: scalars)
        return String(v)
    }

    static func upper(_ s: String) -> String { s.uppercased() }
    static func lower(_ s: String) -> String { s.lowercased() }

    static func isCased(_ c: Unicode.Scalar) -> Bool { c.properties.isCased }

    /// Python `str.title()`.
    static func pyTitle(_ s: String) -> String {
        var out = ""
        var prevCased = false
        for c in s.unicodeScalars {
            let ch = String(c)
            out += prevCased ? ch.lowercased() : ch.uppercased()
            prevCased = isCased(c)
        }
        return out
    }

    /// Jinja's `title` filter: each word (split at whitespace, `-`, brackets) capitalised.
    static func jinjaTitle(_ s: String) -> String {
        var out = ""
        var atStart = true
        for c in s.unicodeScalars {
            let isDelim = isPySpace(c) || "-([{<".unicodeScalars.contains(c)
            out += isDelim ? String(c) : (atStart ? String(c).uppercased() : String(c).lowercased())
            atStart = isDelim
        }
        return out
    }

    static func capitalize(_ s: String) -> String {
        var u = Array(s.unicodeScalars)
        guard let first = u.first else { return s }
        u.removeFirst()
        return String(first).uppercased() + string(u).lowercased()
    }

    /// The first index at or after `from` where `needle` occurs in `hay`. Knuth-Morris-Pratt, so the
    /// time is linear whatever the text (templates and their inputs are untrusted).
    static func find(_ hay: [Unicode.Scalar], _ needle: [Unicode.Scalar], from: Int = 0) -> Int? {
        if needle.isEmpty { return from <= hay.count ? from : nil }
        guard from >= 0, hay.count - from >= needle.count else { return nil }
        var border = [Int](repeating: 0, count: needle.count)
        var k = 0
        for i in 1..<needle.count {
            while k > 0 && needle[i] != needle[k] { k = border[k - 1] }
            if needle[i] == needle[k] { k += 1 }
            border[i] = k
        }
        k = 0
        for i in from..<hay.count {
            while k > 0 && hay[i] != needle[k] { k = border[k - 1] }
            if hay[i] == needle[k] { k += 1 }
            if k == needle.count { return i + 1 - needle.count }
        }
        return nil
    }

    /// `sep.join(parts)` within ``JinjaLimits/maxText``.
    static func joined(_ parts: [String], _ sep: String) throws -> String {
        var total = 0
        for p in parts { total += p.utf8.count + sep.utf8.count; try JinjaLimits.checkText(total, "join()'s result") }
        return parts.joined(separator: sep)
    }

    /// `s * n` within ``JinjaLimits/maxText``.
    static func repeated(_ s: String, _ n: Int) throws -> String {
        let n = max(0, n)
        try JinjaLimits.checkText(JinjaLimits.product(s.utf8.count, n) ?? Int.max, "the result of '*'")
        return String(repeating: s, count: n)
    }

    static func contains(_ hay: String, _ needle: String) -> Bool {
        find(Array(hay.unicodeScalars), Array(needle.unicodeScalars)) != nil
    }

    static func split(_ s: String, _ sep: String?, _ maxsplit: Int = -1) throws -> [String] {
        let u = Array(s.unicodeScalars)
        var parts: [String] = []
        guard let sep else {
            var i = 0
            while i < u.count {
                while i < u.count, isPySpace(u[i]) { i += 1 }
                if i >= u.count { break }
                if maxsplit >= 0 && parts.count == maxsplit {
                    parts.append(strip(string(u[i...]), nil, left: false))
                    return parts
                }
                var j = i
                while j < u.count, !isPySpace(u[j]) { j += 1 }
                parts.append(string(u[i..<j]))
                i = j
            }
            return parts
        }
        let n = Array(sep.unicodeScalars)
        guard !n.isEmpty else { throw JinjaFailure("split(): empty separator") }
        var start = 0
        while maxsplit < 0 || parts.count < maxsplit, let k = find(u, n, from: start) {
            parts.append(string(u[start..<k]))
            start = k + n.count
        }
        parts.append(string(u[start...]))
        return parts
    }

    package static func replace(_ s: String, _ old: String, _ new: String, _ count: Int = -1) -> String {
        replace(s, old, new, count, limit: Int.max) ?? s
    }

    /// Python `str.replace` inside a template: fails beyond ``JinjaLimits/maxText``.
    static func boundedReplace(_ s: String, _ old: String, _ new: String, _ count: Int) throws -> String {
        guard let r = replace(s, old, new, count, limit: JinjaLimits.maxText) else {
            throw JinjaFailure("replace()'s result would be longer than \(JinjaLimits.maxText >> 20) MiB (a template's limit)")
        }
        return r
    }

    /// `replace` giving nil when the result would exceed `limit` Unicode scalars.
    static func replace(_ s: String, _ old: String, _ new: String, _ count: Int, limit: Int) -> String? {
        let u = Array(s.unicodeScalars), o = Array(old.unicodeScalars)
        var out: [Unicode.Scalar] = []
        var i = 0, done = 0
        if o.isEmpty {
            // Python inserts `new` between every character (and at both ends).
            for c in u {
                if count < 0 || done < count { out.append(contentsOf: new.unicodeScalars); done += 1 }
                out.append(c)
                if out.count > limit { return nil }
            }
            if count < 0 || done < count { out.append(contentsOf: new.unicodeScalars) }
            return string(out)
        }
        while i < u.count {
            if (count < 0 || done < count), let k = find(u, o, from: i), k >= i {
                out.append(contentsOf: u[i..<k])
                out.append(contentsOf: new.unicodeScalars)
                i = k + o.count
                done += 1
                if out.count > limit { return nil }
            } else {
                out.append(contentsOf: u[i...])
                break
            }
        }
        return string(out)
    }

    // MARK: access

    static let stringMethods: Set<String> = [
        "strip", "lstrip", "rstrip", "upper", "lower", "title", "capitalize", "split", "startswith", "endswith", "replace", "join", "find", "count", "splitlines", "isdigit", "isalpha", "isspace"
    ]
    static let dictMethods: Set<String> = ["items", "keys", "values", "get"]

    static func getAttribute(_ v: JinjaValue, _ attr: String) throws -> JinjaValue {
        switch v {
        case .undefined(let n): throw JinjaFailure("'\(n)' is undefined (cannot read its attribute '\(attr)')")
        case .dict(let d):
            if dictMethods.contains(attr) { return .method(JinjaBox(v), attr) }
            return d[attr] ?? .undefined("'dict object' has no attribute '\(attr)'")
        case .string:
            if stringMethods.contains(attr) { return .method(JinjaBox(v), attr) }
            return .undefined("'str object' has no attribute '\(attr)'")
        case .namespace(let ns):
            return ns.values[attr] ?? .undefined("namespace has no attribute '\(attr)'")
        default:
            return .undefined("'\(v.typeName) object' has no attribute '\(attr)'")
        }
    }

    static func getItem(_ v: JinjaValue, _ key: JinjaValue) throws -> JinjaValue {
        switch (v, key) {
        case (.undefined(let n), _): throw JinjaFailure("'\(n)' is undefined (cannot index it with \(key.reprForError))")
        case (.dict(let d), .string(let k)):
            if let value = d[k] { return value }
            if dictMethods.contains(k) { return .method(JinjaBox(v), k) }
            return .undefined("'dict object' has no attribute '\(k)'")
        case (.list(let l), _):
            guard let i = key.integer else { return .undefined("list index \(key.reprForError)") }
            let j = i < 0 ? l.count + i : i
            return (0..<l.count).contains(j) ? l[j] : .undefined("list index \(i) out of range")
        case (.string(let s), _):
            let u = Array(s.unicodeScalars)
            guard let i = key.integer else { return .undefined("string index \(key.reprForError)") }
            let j = i < 0 ? u.count + i : i
            return (0..<u.count).contains(j) ? .string(String(u[j])) : .undefined("string index \(i) out of range")
        case (.namespace(let ns), .string(let k)):
            return ns.values[k] ?? .undefined("namespace has no attribute '\(k)'")
        default:
            return .undefined("\(v.typeName) has no item \(key.reprForError)")
        }
    }

    /// Python slicing `value[a:b:c]` for lists and strings.
    static func slice(_ v: JinjaValue, _ a: JinjaValue?, _ b: JinjaValue?, _ c: JinjaValue?) throws -> JinjaValue {
        func intOrNil(_ x: JinjaValue?) throws -> Int? {
            guard let x else { return nil }
            if case .none = x { return nil }
            guard let i = x.integer else { throw JinjaFailure("slice indices must be integers or None, not \(x.typeName)") }
            return i
        }
        let step = try intOrNil(c) ?? 1
        guard step != 0 else { throw JinjaFailure("slice step cannot be zero") }
        func indices(_ count: Int) throws -> [Int] {
            func clamp(_ i: Int?, _ dflt: Int) -> Int {
                guard var i else { return dflt }
                if i < 0 { i += count }
                return step > 0 ? min(max(i, 0), count) : min(max(i, -1), count - 1)
            }
            let start = clamp(try intOrNil(a), step > 0 ? 0 : count - 1)
            let stop = clamp(try intOrNil(b), step > 0 ? count : -1)
            var out: [Int] = []
            var i = start
            while step > 0 ? i < stop : i > stop {
                out.append(i)
                let (next, overflow) = i.addingReportingOverflow(step)
                if overflow { break }
                i = next
            }
            return out
        }
        switch v {
        case .list(let l): return .list(try indices(l.count).map { l[$0] })
        case .string(let s):
            let u = Array(s.unicodeScalars)
            return .string(string(try indices(u.count).map { u[$0] }))
        case .undefined(let n): throw JinjaFailure("'\(n)' is undefined (cannot slice it)")
        default: throw JinjaFailure("'\(v.typeName)' object is not subscriptable")
        }
    }

    static func iterate(_ v: JinjaValue) throws -> [JinjaValue] {
        switch v {
        case .list(let l): return l
        case .dict(let d): return d.keys.map { .string($0) }
        case .string(let s): return s.unicodeScalars.map { .string(String($0)) }
        case .undefined: return []
        default: throw JinjaFailure("'\(v.typeName)' object is not iterable")
        }
    }

    static func length(_ v: JinjaValue) throws -> Int {
        switch v {
        case .list(let l): return l.count
        case .dict(let d): return d.count
        case .string(let s): return s.unicodeScalars.count
        case .undefined: return 0
        default: throw JinjaFailure("object of type '\(v.typeName)' has no len()")
        }
    }

    private static func arg(_ args: [JinjaValue], _ kwargs: [(String, JinjaValue)], _ i: Int, _ name: String) -> JinjaValue? {
        if let kw = kwargs.first(where: { $0.0 == name }) { return kw.1 }
        return i < args.count ? args[i] : nil
    }

    private static func stringArg(_ v: JinjaValue?, _ what: String) throws -> String? {
        guard let v else { return nil }
        switch v {
        case .none: return nil
        case .string(let s): return s
        default: throw JinjaFailure("\(what) must be a string, not \(v.typeName)")
        }
    }

    // MARK: methods

    static func callMethod(_ receiver: JinjaValue, _ m: String, _ args: [JinjaValue], _ kwargs: [(String, JinjaValue)]) throws -> JinjaValue {
        switch receiver {
        case .string(let s):
            switch m {
            case "strip": return .string(strip(s, try stringArg(arg(args, kwargs, 0, "chars"), "strip() argument")))
            case "lstrip": return .string(strip(s, try stringArg(arg(args, kwargs, 0, "chars"), "lstrip() argument"), right: false))
            case "rstrip": return .string(strip(s, try stringArg(arg(args, kwargs, 0, "chars"), "rstrip() argument"), left: false))
            case "upper": return .string(upper(s))
            case "lower": return .string(lower(s))
            case "title": return .string(pyTitle(s))
            case "capitalize": return .string(capitalize(s))
            case "split":
                let sep = try stringArg(arg(args, kwargs, 0, "sep"), "split() separator")
                let maxsplit = arg(args, kwargs, 1, "maxsplit")?.integer ?? -1
                return .list(try split(s, sep, maxsplit).map { .string($0) })
            case "splitlines":
                var lines = try split(s.normalizingNewlines(), "\n")
                if lines.last == "" { lines.removeLast() }
                return .list(lines.map { .string($0) })
            case "startswith", "endswith":
                guard let a = args.first else { throw JinjaFailure("\(m)() takes one argument") }
                let options: [String]
                switch a {
                case .string(let p): options = [p]
                case .list(let l): options = l.compactMap { if case .string(let p) = $0 { p } else { nil } }
                default: throw JinjaFailure("\(m)() argument must be str or a tuple of str")
                }
                let u = Array(s.unicodeScalars)
                return .bool(
                    options.contains { p in
                        let pu = Array(p.unicodeScalars)
                        return m == "startswith" ? u.starts(with: pu) : u.reversed().starts(with: pu.reversed())
                    })
            case "replace":
                guard args.count >= 2, case .string(let o) = args[0], case .string(let n) = args[1] else { throw JinjaFailure("replace() takes two strings") }
                return .string(try boundedReplace(s, o, n, args.count > 2 ? (args[2].integer ?? -1) : -1))
            case "join":
                guard let a = args.first else { throw JinjaFailure("join() takes one argument") }
                var parts: [String] = []
                for item in try iterate(a) {
                    guard case .string(let p) = item else { throw JinjaFailure("join(): sequence item is \(item.typeName), not str") }
                    parts.append(p)
                }
                return .string(try joined(parts, s))
            case "find":
                guard case .string(let n)? = args.first else { throw JinjaFailure("find() takes a string") }
                return .int(find(Array(s.unicodeScalars), Array(n.unicodeScalars)) ?? -1)
            case "count":
                guard case .string(let n)? = args.first, !n.isEmpty else { throw JinjaFailure("count() takes a non-empty string") }
                return .int(try split(s, n).count - 1)
            case "isdigit": return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.numericType == .decimal || $0.properties.numericType == .digit })
            case "isalpha": return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.isAlphabetic })
            case "isspace": return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy(isPySpace))
            default: break
            }
        case .dict(let d):
            switch m {
            case "items": return .list(d.pairs.map { .list([.string($0.key), $0.value]) })
            case "keys": return .list(d.keys.map { .string($0) })
            case "values": return .list(d.pairs.map { $0.value })
            case "get":
                guard case .string(let k)? = args.first else { throw JinjaFailure("get() takes a string key") }
                return d[k] ?? (args.count > 1 ? args[1] : .none)
            default: break
            }
        default: break
        }
        throw JinjaFailure("method \(receiver.typeName).\(m)()", unsupported: true)
    }

    // MARK: operators

    static func binary(_ op: String, _ a: JinjaValue, _ b: JinjaValue) throws -> JinjaValue {
        if op == "~" {
            let (x, y) = (try a.pythonStr, try b.pythonStr)
            try JinjaLimits.checkText(x.utf8.count + y.utf8.count, "the result of '~'")
            return .string(x + y)
        }
        if case .undefined(let n) = a { throw JinjaFailure("'\(n)' is undefined (left operand of '\(op)')") }
        if case .undefined(let n) = b { throw JinjaFailure("'\(n)' is undefined (right operand of '\(op)')") }
        func typeError() -> JinjaFailure { JinjaFailure("unsupported operand type(s) for \(op): '\(a.typeName)' and '\(b.typeName)'") }
        switch op {
        case "+":
            switch (a, b) {
            case (.string(let x), .string(let y)):
                try JinjaLimits.checkText(x.utf8.count + y.utf8.count, "the result of '+'")
                return .string(x + y)
            case (.list(let x), .list(let y)):
                try JinjaLimits.checkItems(x.count + y.count, "the result of '+'")
                return .list(x + y)
            default: break
            }
        case "*":
            switch (a, b) {
            case (.string(let s), _) where b.integer != nil: return .string(try repeated(s, b.integer ?? 0))
            case (_, .string(let s)) where a.integer != nil: return .string(try repeated(s, a.integer ?? 0))
            case (.list(let l), _) where b.integer != nil:
                let n = max(0, b.integer ?? 0)
                try JinjaLimits.checkItems(JinjaLimits.product(l.count, n) ?? Int.max, "the result of '*'")
                return .list(Array(repeating: l, count: n).flatMap { $0 })
            default: break
            }
        case "%":
            if case .string = a { throw JinjaFailure("printf-style '%' formatting of strings", unsupported: true) }
        default: break
        }
        if let x = a.integer, let y = b.integer {
            switch op {
            case "+": let (r, o) = x.addingReportingOverflow(y); if !o { return .int(r) }
            case "-": let (r, o) = x.subtractingReportingOverflow(y); if !o { return .int(r) }
            case "*": let (r, o) = x.multipliedReportingOverflow(by: y); if !o { return .int(r) }
            case "/":
                guard y != 0 else { throw JinjaFailure("division by zero") }
                return .double(Double(x) / Double(y))
            case "//":
                guard y != 0 else { throw JinjaFailure("integer division or modulo by zero") }
                guard !(x == Int.min && y == -1) else { break }
                let q = x / y
                return .int((x % y != 0 && ((x < 0) != (y < 0))) ? q - 1 : q)
            case "%":
                guard y != 0 else { throw JinjaFailure("integer division or modulo by zero") }
                guard y != -1 else { return .int(0) }
                let r = x % y
                return .int((r != 0 && ((r < 0) != (y < 0))) ? r + y : r)
            case "**":
                if y >= 0 {
                    var result = 1, overflow = false
                    for _ in 0..<min(y, 64) {
                        let (r, o) = result.multipliedReportingOverflow(by: x)
                        result = r; overflow = overflow || o
                    }
                    if !overflow && (y <= 64 || x == 0 || x == 1) { return .int(result) }
                }
                return .double(pow(Double(x), Double(y)))
            default: break
            }
            throw JinjaFailure("integer overflow in '\(op)'")
        }
        guard let x = a.numeric, let y = b.numeric else { throw typeError() }
        switch op {
        case "+": return .double(x + y)
        case "-": return .double(x - y)
        case "*": return .double(x * y)
        case "/":
            guard y != 0 else { throw JinjaFailure("float division by zero") }
            return .double(x / y)
        case "//":
            guard y != 0 else { throw JinjaFailure("float divmod()") }
            return .double((x / y).rounded(.down))
        case "%":
            guard y != 0 else { throw JinjaFailure("float modulo") }
            let r = fmod(x, y)
            return .double((r != 0 && ((r < 0) != (y < 0))) ? r + y : r)
        case "**": return .double(pow(x, y))
        default: throw typeError()
        }
    }

    static func compare(_ op: String, _ a: JinjaValue, _ b: JinjaValue) throws -> Bool {
        switch op {
        case "==": return JinjaValue.pyEqual(a, b)
        case "!=": return !JinjaValue.pyEqual(a, b)
        case "in": return try isIn(a, b)
        case "notin": return !(try isIn(a, b))
        default: break
        }
        let ordering: Int
        if let x = a.numeric, let y = b.numeric {
            ordering = x < y ? -1 : (x > y ? 1 : 0)
        } else if case .string(let x) = a, case .string(let y) = b {
            let xu = x.unicodeScalars.map(\.value), yu = y.unicodeScalars.map(\.value)
            ordering = xu.lexicographicallyPrecedes(yu) ? -1 : (xu == yu ? 0 : 1)
        } else {
            throw JinjaFailure("'\(op)' not supported between instances of '\(a.typeName)' and '\(b.typeName)'")
        }
        switch op {
        case "<": return ordering < 0
        case "<=": return ordering <= 0
        case ">": return ordering > 0
        default: return ordering >= 0
        }
    }

    static func isIn(_ needle: JinjaValue, _ hay: JinjaValue) throws -> Bool {
        switch hay {
        case .string(let h):
            guard case .string(let n) = needle else { throw JinjaFailure("'in <string>' requires string as left operand, not \(needle.typeName)") }
            return contains(h, n)
        case .list(let l): return l.contains { JinjaValue.pyEqual($0, needle) }
        case .dict(let d):
            if case .string(let k) = needle { return d[k] != nil }
            return false
        case .undefined: return false
        default: throw JinjaFailure("argument of type '\(hay.typeName)' is not iterable")
        }
    }

    // MARK: tests

    static func test(_ name: String, _ v: JinjaValue, _ args: [JinjaValue]) throws -> Bool {
        func other() throws -> JinjaValue {
            guard let a = args.first else { throw JinjaFailure("test '\(name)' needs an argument") }
            return a
        }
        switch name {
        case "defined": return !v.isUndefined
        case "undefined": return v.isUndefined
        case "none": if case .none = v { return true } else { return false }
        case "string": if case .string = v { return true } else { return false }
        case "number":
            switch v {
            case .int, .double, .bool: return true;
            default: return false
            }
        case "integer": if case .int = v { return true } else { return false }
        case "float": if case .double = v { return true } else { return false }
        case "boolean": if case .bool = v { return true } else { return false }
        case "true": if case .bool(true) = v { return true } else { return false }
        case "false": if case .bool(false) = v { return true } else { return false }
        case "mapping": if case .dict = v { return true } else { return false }
        case "iterable":
            switch v {
            case .list, .dict, .string, .undefined: return true;
            default: return false
            }
        case "sequence":
            switch v {
            case .list, .dict, .string: return true;
            default: return false
            }
        case "callable":
            switch v {
            case .function, .method: return true;
            default: return false
            }
        case "equalto", "eq", "==", "sameas": return JinjaValue.pyEqual(v, try other())
        case "ne", "!=": return !JinjaValue.pyEqual(v, try other())
        case "lt", "<": return try compare("<", v, try other())
        case "le", "<=": return try compare("<=", v, try other())
        case "gt", ">", "greaterthan": return try compare(">", v, try other())
        case "ge", ">=": return try compare(">=", v, try other())
        case "in": return try isIn(v, try other())
        case "even", "odd":
            guard let i = v.integer else { throw JinjaFailure("test '\(name)' needs an integer, got \(v.typeName)") }
            return (i % 2 == 0) == (name == "even")
        case "divisibleby":
            guard let i = v.integer, let d = try other().integer, d != 0 else { throw JinjaFailure("test 'divisibleby' needs non-zero integers") }
            return d == -1 || i % d == 0
        case "lower": if case .string(let s) = v { return s == s.lowercased() } else { return false }
        case "upper": if case .string(let s) = v { return s == s.uppercased() } else { return false }
        default: throw JinjaFailure("test '\(name)'", unsupported: true)
        }
    }

    // MARK: filters

    static func filter(_ name: String, _ v: JinjaValue, _ args: [JinjaValue], _ kwargs: [(String, JinjaValue)]) throws -> JinjaValue {
        func requireString(_ what: String) throws -> String {
            switch v {
            case .string(let s): return s
            case .undefined(let n): throw JinjaFailure("'\(n)' is undefined (filter '\(what)')")
            default: return try v.pythonStr
            }
        }
        switch name {
        case "trim": return .string(strip(try requireString(name), try stringArg(arg(args, kwargs, 0, "chars"), "trim() argument")))
        case "length", "count": return .int(try length(v))
        case "string": return .string(try v.pythonStr)
        case "upper": return .string(upper(try requireString(name)))
        case "lower": return .string(lower(try requireString(name)))
        case "title": return .string(jinjaTitle(try requireString(name)))
        case "capitalize": return .string(capitalize(try requireString(name)))
        case "safe": return v
        case "default", "d":
            let dflt = arg(args, kwargs, 0, "default_value") ?? .string("")
            let boolean = arg(args, kwargs, 1, "boolean")?.truthy ?? false
            return (v.isUndefined || (boolean && !v.truthy)) ? dflt : v
        case "tojson":
            let ensureASCII = arg(args, kwargs, 0, "ensure_ascii")?.truthy ?? false
            let indentValue = arg(args, kwargs, 1, "indent")
            var indent: String? = nil
            switch indentValue {
            case .int(let i)?:
                guard i <= 1024 else { throw JinjaFailure("tojson(indent=\(i)): at most 1024 (a template's limit)") }
                indent = String(repeating: " ", count: max(0, i))
            case .string(let s)?:
                guard s.utf8.count <= 1024 else { throw JinjaFailure("tojson(indent=): at most 1024 characters (a template's limit)") }
                indent = s
            case .none?, nil: indent = nil
            default: throw JinjaFailure("tojson(indent=) must be an integer or string")
            }
            var itemSep = indent == nil ? ", " : ",", keySep = ": "
            if case .list(let seps)? = arg(args, kwargs, 2, "separators"), seps.count == 2,
                case .string(let i) = seps[0], case .string(let k) = seps[1]
            {
                itemSep = i; keySep = k
            }
            let sortKeys = arg(args, kwargs, 3, "sort_keys")?.truthy ?? false
            var out = ""
            try writeJSON(v, &out, indent: indent, level: 0, itemSep: itemSep, keySep: keySep, sortKeys: sortKeys, ensureASCII: ensureASCII)
            return .string(out)
        case "first":
            let items = try iterate(v)
            return items.first ?? .undefined("first of an empty sequence")
        case "last":
            let items = try iterate(v)
            return items.last ?? .undefined("last of an empty sequence")
        case "list": return .list(try iterate(v))
        case "reverse":
            if case .string(let s) = v { return .string(string(s.unicodeScalars.reversed())) }
            return .list(try iterate(v).reversed())
        case "join":
            let sep = try stringArg(arg(args, kwargs, 0, "d"), "join() separator") ?? ""
            var items = try iterate(v)
            if let attribute = try stringArg(arg(args, kwargs, 1, "attribute"), "join(attribute=)") {
                items = try items.map { try getAttribute($0, attribute) }
            }
            return .string(try joined(items.map { try $0.pythonStr }, sep))
        case "items":
            guard case .dict(let d) = v else {
                if v.isUndefined { return .list([]) }
                throw JinjaFailure("filter 'items' needs a mapping, got \(v.typeName)")
            }
            return .list(d.pairs.map { .list([.string($0.key), $0.value]) })
        case "map":
            let items = try iterate(v)
            if let attribute = try stringArg(kwargs.first(where: { $0.0 == "attribute" })?.1, "map(attribute=)") {
                let dflt = kwargs.first(where: { $0.0 == "default" })?.1
                return .list(
                    try items.map { item in
                        let r = try getAttribute(item, attribute)
                        if r.isUndefined, let dflt { return dflt }
                        return r
                    })
            }
            guard case .string(let f)? = args.first else { throw JinjaFailure("map() needs a filter name or attribute=") }
            return .list(try items.map { try filter(f, $0, Array(args.dropFirst()), []) })
        case "select", "reject":
            let items = try iterate(v)
            let keep = name == "select"
            guard case .string(let t)? = args.first else { return .list(items.filter { $0.truthy == keep }) }
            return .list(try items.filter { try test(t, $0, Array(args.dropFirst())) == keep })
        case "selectattr", "rejectattr":
            let items = try iterate(v)
            let keep = name == "selectattr"
            guard case .string(let attribute)? = args.first else { throw JinjaFailure("\(name)() needs an attribute name") }
            return .list(
                try items.filter { item in
                    let a = try getAttribute(item, attribute)
                    if args.count >= 2, case .string(let t) = args[1] { return try test(t, a, Array(args.dropFirst(2))) == keep }
                    return a.truthy == keep
                })
        case "int":
            switch v {
            case .int: return v
            case .bool(let b): return .int(b ? 1 : 0)
            // jinja2's do_int: int(value); on ValueError int(float(value)), where inf/nan/overflow give the default.
            case .double(let d):
                if d.isNaN { return arg(args, kwargs, 0, "default") ?? .int(0) }
                return .int(try truncatedInteger(d, "int filter"))
            case .string(let s):
                if let i = Int(strip(s, nil)) { return .int(i) }
                guard let d = Double(strip(s, nil)), d.isFinite else { return arg(args, kwargs, 0, "default") ?? .int(0) }
                return .int(try truncatedInteger(d, "int filter"))
            default: return arg(args, kwargs, 0, "default") ?? .int(0)
            }
        case "float":
            if let d = v.numeric { return .double(d) }
            if case .string(let s) = v, let d = Double(strip(s, nil)) { return .double(d) }
            return arg(args, kwargs, 0, "default") ?? .double(0)
        case "abs":
            switch v {
            case .int(let i):
                guard i != Int.min else { throw JinjaFailure("integer overflow in abs()") }
                return .int(abs(i))
            case .double(let d): return .double(abs(d))
            default: throw JinjaFailure("bad operand type for abs(): '\(v.typeName)'")
            }
        case "sort":
            let reverse = arg(args, kwargs, 0, "reverse")?.truthy ?? false
            let caseSensitive = arg(args, kwargs, 1, "case_sensitive")?.truthy ?? false
            let attribute = try stringArg(arg(args, kwargs, 2, "attribute"), "sort(attribute=)")
            var keyed: [(JinjaValue, JinjaValue)] = []
            for item in try iterate(v) {
                var key = attribute == nil ? item : try getAttribute(item, attribute ?? "")
                if !caseSensitive, case .string(let s) = key { key = .string(s.lowercased()) }
                keyed.append((key, item))
            }
            var failure: JinjaFailure? = nil
            // Stable sort by key (Python's sort is stable).
            let indexed = keyed.enumerated().map { ($0.offset, $0.element) }
            let sorted = indexed.sorted { l, r in
                do {
                    if try compare("<", l.1.0, r.1.0) { return !reverse }
                    if try compare("<", r.1.0, l.1.0) { return reverse }
                } catch let f as JinjaFailure { failure = f } catch {}
                return l.0 < r.0
            }
            if let failure { throw failure }
            return .list(sorted.map { $0.1.1 })
        case "replace":
            guard args.count >= 2, case .string(let o) = args[0], case .string(let n) = args[1] else { throw JinjaFailure("replace() takes two strings") }
            return .string(try boundedReplace(try requireString(name), o, n, args.count > 2 ? (args[2].integer ?? -1) : -1))
        case "format":
            return .string(try printf(try requireString(name), args))
        case "min", "max":
            let items = try iterate(v)
            guard var best = items.first else { return .undefined("\(name) of an empty sequence") }
            for item in items.dropFirst() where try compare(name == "min" ? "<" : ">", item, best) { best = item }
            return best
        case "sum":
            var total: JinjaValue = .int(0)
            for item in try iterate(v) { total = try binary("+", total, item) }
            return total
        case "unique":
            var out: [JinjaValue] = []
            for item in try iterate(v) where !out.contains(where: { JinjaValue.pyEqual($0, item) }) { out.append(item) }
            return .list(out)
        default:
            throw JinjaFailure("filter '\(name)'", unsupported: true)
        }
    }

    /// `int(d)` as Python computes it (toward zero), refused when Python's unbounded integer would not
    /// fit in 64 bits, or `d` is infinite or NaN (Python raises OverflowError / ValueError there).
    static func truncatedInteger(_ d: Double, _ what: String) throws -> Int {
        guard !d.isNaN else { throw JinjaFailure("\(what): cannot convert float NaN to integer") }
        guard d.isFinite else { throw JinjaFailure("\(what): cannot convert float infinity to integer") }
        guard let i = Int(exactly: d.rounded(.towardZero)) else {
            throw JinjaFailure("\(what): \(JinjaValue.pythonFloat(d)) is outside the 64-bit integers lep renders", unsupported: true)
        }
        return i
    }

    /// Python `%` formatting with `%s`, `%r`, `%d`, `%i`, `%%` (the `format` filter).
    static func printf(_ f: String, _ args: [JinjaValue]) throws -> String {
        var out = ""
        var it = f.makeIterator()
        var k = 0
        func next() throws -> JinjaValue {
            guard k < args.count else { throw JinjaFailure("not enough arguments for format string") }
            k += 1
            return args[k - 1]
        }
        while let c = it.next() {
            guard c == "%" else { out.append(c); continue }
            switch it.next() {
            case "s": out += try next().pythonStr; try JinjaLimits.checkText(out.utf8.count, "format()'s result")
            case "r": out += try next().pythonRepr; try JinjaLimits.checkText(out.utf8.count, "format()'s result")
            case "d", "i":
                let a = try next()
                guard let n = a.numeric else { throw JinjaFailure("%d format: a number is required, not \(a.typeName)") }
                out += String(try truncatedInteger(n, "%d format"))
            case "%": out += "%"
            default: throw JinjaFailure("format directive other than %s %r %d %%", unsupported: true)
            }
        }
        return out
    }

    // MARK: JSON (Python json.dumps)

    static func writeJSON(_ v: JinjaValue, _ out: inout String, indent: String?, level: Int, itemSep: String, keySep: String, sortKeys: Bool, ensureASCII: Bool) throws {
        func newline(_ l: Int) {
            guard let indent else { return }
            out += "\n" + String(repeating: indent, count: l)
        }
        guard level < JinjaLimits.maxNesting else {
            throw JinjaFailure("a value nested more than \(JinjaLimits.maxNesting) deep cannot be serialised (a template's limit)")
        }
        try JinjaLimits.checkText(out.utf8.count, "tojson's result")
        switch v {
        case .none: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d):
            if d.isNaN { out += "NaN" } else if d.isInfinite { out += d < 0 ? "-Infinity" : "Infinity" } else { out += JinjaValue.pythonFloat(d) }
        case .string(let s): out += jsonString(s, ensureASCII: ensureASCII)
        case .list(let l):
            if l.isEmpty { out += "[]"; return }
            out += "["
            for (i, item) in l.enumerated() {
                if i > 0 { out += itemSep }
                newline(level + 1)
                try writeJSON(item, &out, indent: indent, level: level + 1, itemSep: itemSep, keySep: keySep, sortKeys: sortKeys, ensureASCII: ensureASCII)
            }
            newline(level)
            out += "]"
        case .dict(let d):
            if d.isEmpty { out += "{}"; return }
            out += "{"
            var pairs = d.pairs
            if sortKeys { pairs.sort { $0.key.unicodeScalars.map(\.value).lexicographicallyPrecedes($1.key.unicodeScalars.map(\.value)) } }
            for (i, p) in pairs.enumerated() {
                if i > 0 { out += itemSep }
                newline(level + 1)
                out += jsonString(p.key, ensureASCII: ensureASCII) + keySep
                try writeJSON(p.value, &out, indent: indent, level: level + 1, itemSep: itemSep, keySep: keySep, sortKeys: sortKeys, ensureASCII: ensureASCII)
            }
            newline(level)
            out += "}"
        case .undefined(let n): throw JinjaFailure("'\(n)' is undefined (cannot serialise it to JSON)")
        default: throw JinjaFailure("Object of type \(v.typeName) is not JSON serializable")
        }
    }

    static func jsonString(_ s: String, ensureASCII: Bool) -> String {
        var out = "\""
        func hex4(_ v: UInt32) -> String {
            let h = String(v, radix: 16)
            return "\\u" + String(repeating: "0", count: max(0, 4 - h.count)) + h
        }
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 {
                    out += hex4(scalar.value)
                } else if ensureASCII && scalar.value > 0x7E {
                    if scalar.value > 0xFFFF {
                        let v = scalar.value - 0x10000
                        out += hex4(0xD800 + (v >> 10)) + hex4(0xDC00 + (v & 0x3FF))
                    } else {
                        out += hex4(scalar.value)
                    }
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
