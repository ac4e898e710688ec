#if canImport(Glibc)
import Glibc
#endif

/// A failure inside a builtin; the evaluator attaches the template position.
struct JinjaFailure: Error {
    let message: String
    let unsupported: Bool
    init(_ message: String, unsupported: Bool = false) { self.message = message; self.unsupported = unsupported }
}

/// Evaluates parsed Jinja statements against a context, writing the output text.
///
/// Scoping follows Jinja: a `for` body is a new scope (a `set` inside it does not leak out, which is
/// why templates use `namespace()`); `if` bodies share the enclosing scope.
final class JinjaRenderer {
    let name: String
    let now: ChatDate
    private var scopes: [[String: JinjaValue]]
    private var output = ""
    /// Evaluation steps taken (bounded by ``JinjaLimits/maxSteps``).
    private var steps = 0

    static let globalFunctions: Set<String> = ["raise_exception", "strftime_now", "namespace", "range", "dict"]

    init(name: String, context: [String: JinjaValue], now: ChatDate) {
        self.name = name
        self.now = now
        var globals: [String: JinjaValue] = [:]
        for f in Self.globalFunctions { globals[f] = .function(f) }
        scopes = [globals, context, [:]]
    }

    func render(_ body: [JinjaStmt]) throws -> String {
        output = ""
        steps = 0
        _ = try exec(body)
        return output
    }

    private enum Flow { case normal, breakLoop, continueLoop }

    private func lookup(_ n: String) -> JinjaValue {
        for scope in scopes.reversed() { if let v = scope[n] { return v } }
        return .undefined(n)
    }

    /// Counts `n` evaluation steps; fails past ``JinjaLimits/maxSteps``.
    private func step(_ n: Int = 1) throws {
        steps += n
        if steps > JinjaLimits.maxSteps {
            throw JinjaFailure("the template takes more than \(JinjaLimits.maxSteps) evaluation steps (a template's limit)")
        }
    }

    /// Fails when containers nest deeper than ``JinjaLimits/maxNesting`` in `v` (deeper values could
    /// not be printed, and freeing them could exhaust the stack).
    private func checkNesting(_ v: JinjaValue) throws -> JinjaValue {
        var visits = 0
        let depth = v.nesting(cap: JinjaLimits.maxNesting + 1, visits: &visits)
        try step(visits)
        if depth > JinjaLimits.maxNesting {
            throw JinjaFailure("lists, dicts and namespaces nest more than \(JinjaLimits.maxNesting) deep (a template's limit)")
        }
        return v
    }

    /// Appends rendered text, within ``JinjaLimits/maxText``.
    private func emit(_ s: String) throws {
        output += s
        try JinjaLimits.checkText(output.utf8.count, "the rendered text")
    }

    private func runtime(_ loc: SourceLocation, _ message: String) -> ChatTemplateError {
        .templateRuntime(template: name, line: loc.line, column: loc.column, message: message)
    }

    private func exec(_ stmts: [JinjaStmt]) throws -> Flow {
        for stmt in stmts {
            switch stmt {
            case .text(let s):
                try emit(s)
            case .output(let e):
                let value = try eval(e)
                do { try emit(try value.pythonStr) } catch let f as JinjaFailure { throw runtime(e.loc, f.message) }
            case .ifBlock(let branches, let elseBody):
                var taken = false
                for (cond, body) in branches where try eval(cond).truthy {
                    taken = true
                    let flow = try exec(body)
                    if flow != .normal { return flow }
                    break
                }
                if !taken, let elseBody {
                    let flow = try exec(elseBody)
                    if flow != .normal { return flow }
                }
            case .forLoop(let targets, let iterableExpr, let condition, let body, let elseBody, let loc):
                let iterable = try eval(iterableExpr)
                var items: [JinjaValue]
                do { items = try Builtins.iterate(iterable) } catch let f as JinjaFailure { throw runtime(iterableExpr.loc, f.message) }
                if let condition {
                    var kept: [JinjaValue] = []
                    for item in items {
                        scopes.append([:])
                        defer { scopes.removeLast() }
                        try bind(targets, item, loc)
                        if try eval(condition).truthy { kept.append(item) }
                    }
                    items = kept
                }
                if items.isEmpty {
                    let flow = try exec(elseBody)
                    if flow != .normal { return flow }
                    continue
                }
                let n = items.count
                for (i, item) in items.enumerated() {
                    do { try step(20) } catch let f as JinjaFailure { throw runtime(loc, f.message) }
                    scopes.append([:])
                    defer { scopes.removeLast() }
                    try bind(targets, item, loc)
                    var loop = JinjaDict()
                    loop["index"] = .int(i + 1)
                    loop["index0"] = .int(i)
                    loop["revindex"] = .int(n - i)
                    loop["revindex0"] = .int(n - i - 1)
                    loop["first"] = .bool(i == 0)
                    loop["last"] = .bool(i == n - 1)
                    loop["length"] = .int(n)
                    loop["depth"] = .int(1)
                    loop["depth0"] = .int(0)
                    loop["previtem"] = i > 0 ? items[i - 1] : .undefined("loop.previtem")
                    loop["nextitem"] = i + 1 < n ? items[i + 1] : .undefined("loop.nextitem")
                    scopes[scopes.count - 1]["loop"] = .dict(loop)
                    let flow = try exec(body)
                    if flow == .breakLoop { break }
                }
            case .set(let target, let attribute, let valueExpr, let loc):
                let value = try eval(valueExpr)
                if let attribute {
                    guard case .namespace(let ns) = lookup(target) else {
                        throw runtime(loc, "cannot set attribute '\(attribute)' on '\(target)': only namespace() objects can be assigned attributes")
                    }
                    ns.values[attribute] = value
                    do { _ = try checkNesting(.namespace(ns)) } catch let f as JinjaFailure {
                        ns.values[attribute] = JinjaValue.none  // break a cycle before refusing
                        throw runtime(loc, f.message)
                    }
                } else {
                    scopes[scopes.count - 1][target] = value
                }
            case .setBlock(let target, let body):
                let saved = output
                output = ""
                _ = try exec(body)
                let captured = output
                output = saved
                scopes[scopes.count - 1][target] = .string(captured)
            case .breakLoop:
                return .breakLoop
            case .continueLoop:
                return .continueLoop
            }
        }
        return .normal
    }

    private func bind(_ targets: [String], _ item: JinjaValue, _ loc: SourceLocation) throws {
        if targets.count == 1 {
            scopes[scopes.count - 1][targets[0]] = item
            return
        }
        guard case .list(let parts) = item, parts.count == targets.count else {
            throw runtime(loc, "cannot unpack \(item.typeName) into \(targets.count) loop variables (\(targets.joined(separator: ", ")))")
        }
        for (t, v) in zip(targets, parts) { scopes[scopes.count - 1][t] = v }
    }

    // MARK: expressions

    func eval(_ e: JinjaExpr) throws -> JinjaValue {
        do {
            try step()
            let v = try evalUnlocated(e)
            switch v {
            case .string(let s): try JinjaLimits.checkText(s.utf8.count, "a string")
            case .list(let l): try JinjaLimits.checkItems(l.count, "a list")
            default: break
            }
            return v
        } catch let f as JinjaFailure {
            if f.unsupported { throw ChatTemplateError.templateUnsupported(template: name, line: e.loc.line, column: e.loc.column, construct: f.message) }
            throw runtime(e.loc, f.message)
        }
    }

    private func evalUnlocated(_ e: JinjaExpr) throws -> JinjaValue {
        switch e.kind {
        case .literal(let v): return v
        case .name(let n): return lookup(n)
        case .list(let items), .tuple(let items):
            var out: [JinjaValue] = []
            for i in items { out.append(try eval(i)) }
            return try checkNesting(.list(out))
        case .dict(let pairs):
            var d = JinjaDict()
            for (k, v) in pairs {
                guard case .string(let key) = try eval(k) else { throw JinjaFailure("dictionary keys must be strings", unsupported: true) }
                d[key] = try eval(v)
            }
            return try checkNesting(.dict(d))
        case .attribute(let target, let attr):
            return try Builtins.getAttribute(try eval(target), attr)
        case .item(let target, let index):
            return try Builtins.getItem(try eval(target), try eval(index))
        case .slice(let target, let a, let b, let c):
            let value = try eval(target)
            return try Builtins.slice(value, try a.map { try eval($0) }, try b.map { try eval($0) }, try c.map { try eval($0) })
        case .call(let target, let argExprs, let kwExprs):
            let callee = try eval(target)
            var args: [JinjaValue] = []
            for a in argExprs { args.append(try eval(a)) }
            var kwargs: [(String, JinjaValue)] = []
            for (k, v) in kwExprs { kwargs.append((k, try eval(v))) }
            switch callee {
            case .function(let f): return try callGlobal(f, args, kwargs, e.loc)
            case .method(let box, let m): return try Builtins.callMethod(box.value, m, args, kwargs)
            case .undefined(let n): throw JinjaFailure("'\(n)' is undefined (cannot call it)")
            default: throw JinjaFailure("'\(callee.typeName)' object is not callable")
            }
        case .filter(let target, let filterName, let argExprs, let kwExprs):
            let value = try eval(target)
            var args: [JinjaValue] = []
            for a in argExprs { args.append(try eval(a)) }
            var kwargs: [(String, JinjaValue)] = []
            for (k, v) in kwExprs { kwargs.append((k, try eval(v))) }
            return try Builtins.filter(filterName, value, args, kwargs)
        case .test(let target, let testName, let argExprs, let negated):
            let value = try eval(target)
            var args: [JinjaValue] = []
            for a in argExprs { args.append(try eval(a)) }
            let r = try Builtins.test(testName, value, args)
            return .bool(negated ? !r : r)
        case .unary(let op, let operand):
            let v = try eval(operand)
            switch v {
            case .int(let i):
                guard !(op == "-" && i == Int.min) else { throw JinjaFailure("integer overflow in unary '-'") }
                return .int(op == "-" ? -i : i)
            case .double(let d): return .double(op == "-" ? -d : d)
            case .bool(let b): return .int(op == "-" ? (b ? -1 : 0) : (b ? 1 : 0))
            default: throw JinjaFailure("bad operand type for unary \(op): '\(v.typeName)'")
            }
        case .not(let operand):
            return .bool(!(try eval(operand).truthy))
        case .binary(let op, let l, let r):
            if op == "and" {
                let a = try eval(l)
                return a.truthy ? try eval(r) : a
            }
            if op == "or" {
                let a = try eval(l)
                return a.truthy ? a : try eval(r)
            }
            return try Builtins.binary(op, try eval(l), try eval(r))
        case .compare(let first, let ops):
            var left = try eval(first)
            for (op, rightExpr) in ops {
                let right = try eval(rightExpr)
                if !(try Builtins.compare(op, left, right)) { return .bool(false) }
                left = right
            }
            return .bool(true)
        case .conditional(let then, let cond, let otherwise):
            if try eval(cond).truthy { return try eval(then) }
            if let otherwise { return try eval(otherwise) }
            return .undefined("conditional expression without else")
        }
    }

    private func callGlobal(_ f: String, _ args: [JinjaValue], _ kwargs: [(String, JinjaValue)], _ loc: SourceLocation) throws -> JinjaValue {
        switch f {
        case "raise_exception":
            let message = (try? args.first?.pythonStr) ?? ""
            throw ChatTemplateError.templateRaised(template: name, line: loc.line, column: loc.column, message: message)
        case "strftime_now":
            guard case .string(let format)? = args.first else { throw JinjaFailure("strftime_now expects a format string") }
            return .string(try now.format(format))
        case "namespace":
            let ns = JinjaNamespace()
            for a in args {
                guard case .dict(let d) = a else { throw JinjaFailure("namespace() takes a dict or keyword arguments") }
                for p in d.pairs { ns.values[p.key] = p.value }
            }
            for (k, v) in kwargs { ns.values[k] = v }
            return try checkNesting(.namespace(ns))
        case "dict":
            var d = JinjaDict()
            for (k, v) in kwargs { d[k] = v }
            return try checkNesting(.dict(d))
        case "range":
            let ints = args.compactMap(\.integer)
            guard ints.count == args.count, (1...3).contains(ints.count) else { throw JinjaFailure("range() expects 1 to 3 integers") }
            let (start, stop, step) = ints.count == 1 ? (0, ints[0], 1) : (ints[0], ints[1], ints.count == 3 ? ints[2] : 1)
            guard step != 0 else { throw JinjaFailure("range() step must not be zero") }
            let (span, overflow) = stop.subtractingReportingOverflow(start)
            let (count, overflow2) = span.dividedReportingOverflow(by: step)
            guard !overflow, !overflow2, count <= JinjaLimits.maxItems else { throw JinjaFailure("range() too long") }
            return .list(Swift.stride(from: start, to: stop, by: step).map { .int($0) })
        default:
            throw JinjaFailure("function '\(f)'", unsupported: true)
        }
    }
}

/// A calendar date and time for `strftime_now`, injectable so that renders are deterministic.
public struct ChatDate: Equatable, Sendable {
    /// Calendar fields: year, month 1–12, day 1–31, hour 0–23, minute and second 0–59.
    public var year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int

    /// A fixed date and time (month 1-12, day 1-31).
    public init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) {
        self.year = year; self.month = month; self.day = day; self.hour = hour; self.minute = minute; self.second = second
    }

    /// The current local time (what `transformers` uses).
    public static func current() -> ChatDate {
        var t = time(nil)
        var parts = tm()
        localtime_r(&t, &parts)
        return ChatDate(
            year: Int(parts.tm_year) + 1900, month: Int(parts.tm_mon) + 1, day: Int(parts.tm_mday),
            hour: Int(parts.tm_hour), minute: Int(parts.tm_min), second: Int(parts.tm_sec))
    }

    static let monthNames = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
    static let dayNames = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]

    /// Day of the week, 0 = Sunday (Sakamoto's method).
    var weekday: Int {
        let t = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4]
        let y = month < 3 ? year - 1 : year
        return ((y + y / 4 - y / 100 + y / 400 + t[(month - 1) % 12] + day) % 7 + 7) % 7
    }

    var dayOfYear: Int {
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return lengths.prefix(month - 1).reduce(0, +) + day
    }

    /// C/Python `strftime` for the C locale; the directives chat templates use.
    func format(_ f: String) throws -> String {
        func pad(_ v: Int, _ w: Int = 2) -> String { let s = String(v); return String(repeating: "0", count: max(0, w - s.count)) + s }
        guard (1...12).contains(month) else { throw JinjaFailure("strftime_now: month \(month) out of range") }
        var out = ""
        var it = f.makeIterator()
        while let c = it.next() {
            guard c == "%" else { out.append(c); continue }
            guard let d = it.next() else { out.append("%"); break }
            switch d {
            case "d": out += pad(day)
            case "e": out += (day < 10 ? " " : "") + String(day)
            case "m": out += pad(month)
            case "Y": out += String(year)
            case "y": out += pad(year % 100)
            case "b", "h": out += String(Self.monthNames[month - 1].prefix(3))
            case "B": out += Self.monthNames[month - 1]
            case "a": out += String(Self.dayNames[weekday].prefix(3))
            case "A": out += Self.dayNames[weekday]
            case "w": out += String(weekday)
            case "H": out += pad(hour)
            case "I": out += pad(hour % 12 == 0 ? 12 : hour % 12)
            case "p": out += hour < 12 ? "AM" : "PM"
            case "M": out += pad(minute)
            case "S": out += pad(second)
            case "j": out += pad(dayOfYear, 3)
            case "F": out += String(year) + "-" + pad(month) + "-" + pad(day)
            case "%": out += "%"
            default: throw JinjaFailure("strftime directive %\(d)", unsupported: true)
            }
        }
        return out
    }
}
