/// Jinja parser: turns the token stream into statements and expressions.
///
/// Expression precedence follows Jinja's parser, lowest first: `x if c else y`, `or`, `and`, `not`,
/// comparisons (`== != < <= > >= in`, `not in`), `+ -`, `~`, `* / // %`, `**`, unary `- +`, then
/// filters (`|f`) and tests (`is t`), which bind tighter than any binary operator, so
/// `message['content'] | trim + '<|eot_id|>'` trims the content only.

struct JinjaExpr {
    indirect enum Kind {
        case literal(JinjaValue)
        case name(String)
        case list([JinjaExpr])
        case tuple([JinjaExpr])
        case dict([(JinjaExpr, JinjaExpr)])
        case attribute(JinjaExpr, String)
        case item(JinjaExpr, JinjaExpr)
        case slice(JinjaExpr, JinjaExpr?, JinjaExpr?, JinjaExpr?)
        case call(JinjaExpr, [JinjaExpr], [(String, JinjaExpr)])
        case filter(JinjaExpr, String, [JinjaExpr], [(String, JinjaExpr)])
        case test(JinjaExpr, String, [JinjaExpr], negated: Bool)
        case unary(String, JinjaExpr)
        case binary(String, JinjaExpr, JinjaExpr)
        case not(JinjaExpr)
        case compare(JinjaExpr, [(String, JinjaExpr)])
        case conditional(JinjaExpr, JinjaExpr, JinjaExpr?)
    }
    let kind: Kind
    let loc: SourceLocation
    /// Height of the expression tree (1 for a leaf). The parser refuses trees deeper than
    /// ``JinjaLimits/maxNesting``, so evaluating or freeing one never exhausts the stack.
    let depth: Int

    init(kind: Kind, loc: SourceLocation) {
        self.kind = kind
        self.loc = loc
        var d = 0
        func see(_ e: JinjaExpr?) { if let e { d = max(d, e.depth) } }
        switch kind {
        case .literal, .name: break
        case .list(let items), .tuple(let items): items.forEach(see)
        case .dict(let pairs):
            pairs.forEach {
                see($0.0); see($0.1)
            }
        case .attribute(let t, _): see(t)
        case .item(let t, let i): see(t); see(i)
        case .slice(let t, let a, let b, let c): see(t); see(a); see(b); see(c)
        case .call(let t, let args, let kwargs), .filter(let t, _, let args, let kwargs): see(t); args.forEach(see); kwargs.forEach { see($0.1) }
        case .test(let t, _, let args, _): see(t); args.forEach(see)
        case .unary(_, let e), .not(let e): see(e)
        case .binary(_, let a, let b): see(a); see(b)
        case .compare(let first, let ops): see(first); ops.forEach { see($0.1) }
        case .conditional(let a, let b, let c): see(a); see(b); see(c)
        }
        depth = d + 1
    }
}

indirect enum JinjaStmt {
    case text(String)
    case output(JinjaExpr)
    case ifBlock([(JinjaExpr, [JinjaStmt])], [JinjaStmt]?)
    case forLoop(targets: [String], iterable: JinjaExpr, condition: JinjaExpr?, body: [JinjaStmt], elseBody: [JinjaStmt], loc: SourceLocation)
    case set(name: String, attribute: String?, value: JinjaExpr, loc: SourceLocation)
    case setBlock(name: String, body: [JinjaStmt])
    case breakLoop(SourceLocation)
    case continueLoop(SourceLocation)
}

struct JinjaParser {
    private var tokens: [JinjaToken]
    private var pos = 0
    private let name: String
    private var loopDepth = 0
    /// Open blocks and expression levels being parsed (bounded by ``JinjaLimits/maxNesting``).
    private var nesting = 0

    init(tokens: [JinjaToken], name: String) {
        self.tokens = tokens
        self.name = name
    }

    private var current: JinjaToken { tokens[pos] }
    private mutating func advance() -> JinjaToken { let t = tokens[pos]; if pos < tokens.count - 1 { pos += 1 }; return t }

    /// Builds an expression node, refusing one nested deeper than ``JinjaLimits/maxNesting``.
    private func make(_ kind: JinjaExpr.Kind, loc: SourceLocation) throws -> JinjaExpr {
        let e = JinjaExpr(kind: kind, loc: loc)
        guard e.depth <= JinjaLimits.maxNesting else { throw tooDeep(loc) }
        return e
    }

    /// Enters one level of nesting (a block or a bracketed expression); `leave()` undoes it.
    private mutating func enter(_ loc: SourceLocation) throws {
        nesting += 1
        guard nesting <= JinjaLimits.maxNesting else { throw tooDeep(loc) }
    }

    private mutating func leave() { nesting -= 1 }

    private func tooDeep(_ loc: SourceLocation) -> ChatTemplateError {
        fail(loc, "expressions or blocks nested more than \(JinjaLimits.maxNesting) deep (a template's limit)")
    }

    private func fail(_ loc: SourceLocation, _ message: String) -> ChatTemplateError {
        .templateSyntax(template: name, line: loc.line, column: loc.column, message: message)
    }

    private func unsupported(_ loc: SourceLocation, _ construct: String) -> ChatTemplateError {
        .templateUnsupported(template: name, line: loc.line, column: loc.column, construct: construct)
    }

    private func describe(_ k: JinjaTokenKind) -> String {
        switch k {
        case .text: "text"
        case .variableBegin: "'{{'"
        case .variableEnd: "'}}'"
        case .blockBegin: "'{%'"
        case .blockEnd: "'%}'"
        case .name(let n): "'\(n)'"
        case .string(let s): "string '\(s)'"
        case .integer(let i): "number \(i)"
        case .float(let d): "number \(d)"
        case .op(let o): "'\(o)'"
        case .eof: "end of template"
        }
    }

    private func isOp(_ o: String) -> Bool { if case .op(let x) = current.kind { x == o } else { false } }
    private func isName(_ n: String) -> Bool { if case .name(let x) = current.kind { x == n } else { false } }

    private mutating func expectOp(_ o: String) throws {
        guard isOp(o) else { throw fail(current.loc, "expected '\(o)', found \(describe(current.kind))") }
        _ = advance()
    }

    private mutating func expectName() throws -> String {
        guard case .name(let n) = current.kind else { throw fail(current.loc, "expected a name, found \(describe(current.kind))") }
        _ = advance()
        return n
    }

    private mutating func expectBlockEnd() throws {
        guard current.kind == .blockEnd else { throw fail(current.loc, "expected '%}', found \(describe(current.kind))") }
        _ = advance()
    }

    /// Parses the whole template.
    mutating func parseTemplate() throws -> [JinjaStmt] {
        let (body, end) = try parseBody(until: [])
        if let end { throw fail(end.loc, "unexpected '{% \(end.name) %}' with no open block") }
        return body
    }

    /// Parses statements until a block tag whose keyword is in `until` (returned, with the tag's
    /// `{%` consumed and the keyword consumed) or the end of the template (returns nil).
    private mutating func parseBody(until: Set<String>) throws -> ([JinjaStmt], (name: String, loc: SourceLocation)?) {
        var out: [JinjaStmt] = []
        while true {
            let tok = current
            switch tok.kind {
            case .eof:
                if !until.isEmpty { throw fail(tok.loc, "unexpected end of template: missing " + until.sorted().map { "'{% \($0) %}'" }.joined(separator: " or ")) }
                return (out, nil)
            case .text(let s):
                _ = advance()
                out.append(.text(s))
            case .variableBegin:
                _ = advance()
                let e = try parseExpression()
                guard current.kind == .variableEnd else { throw fail(current.loc, "expected '}}', found \(describe(current.kind))") }
                _ = advance()
                out.append(.output(e))
            case .blockBegin:
                _ = advance()
                guard case .name(let keyword) = current.kind else { throw fail(current.loc, "expected a statement keyword after '{%', found \(describe(current.kind))") }
                if until.contains(keyword) {
                    let loc = current.loc
                    _ = advance()
                    return (out, (keyword, loc))
                }
                out.append(try parseStatement())
            default:
                throw fail(tok.loc, "unexpected \(describe(tok.kind))")
            }
        }
    }

    private mutating func parseStatement() throws -> JinjaStmt {
        let loc = current.loc
        try enter(loc)
        defer { leave() }
        let keyword = try expectName()
        switch keyword {
        case "if": return try parseIf()
        case "for": return try parseFor(loc)
        case "set": return try parseSet(loc)
        case "break", "continue":
            guard loopDepth > 0 else { throw fail(loc, "'{% \(keyword) %}' outside a loop") }
            try expectBlockEnd()
            return keyword == "break" ? .breakLoop(loc) : .continueLoop(loc)
        case "generation":
            // transformers' assistant-mask extension: renders its body unchanged.
            try expectBlockEnd()
            let (body, _) = try parseBody(until: ["endgeneration"])
            try expectBlockEnd()
            return .ifBlock([(try make(.literal(.bool(true)), loc: loc), body)], nil)
        case "elif", "else", "endif", "endfor", "endset", "endgeneration", "endmacro", "endfilter", "endcall", "endblock", "endraw":
            throw fail(loc, "unexpected '{% \(keyword) %}' with no matching open block")
        default:
            throw unsupported(loc, "'{% \(keyword) %}' statement")
        }
    }

    private mutating func parseIf() throws -> JinjaStmt {
        var branches: [(JinjaExpr, [JinjaStmt])] = []
        var cond = try parseExpression()
        try expectBlockEnd()
        while true {
            let (body, end) = try parseBody(until: ["elif", "else", "endif"])
            branches.append((cond, body))
            guard let end else { throw fail(current.loc, "missing '{% endif %}'") }
            switch end.name {
            case "elif":
                cond = try parseExpression()
                try expectBlockEnd()
            case "else":
                try expectBlockEnd()
                let (elseBody, e2) = try parseBody(until: ["endif"])
                guard e2 != nil else { throw fail(current.loc, "missing '{% endif %}'") }
                try expectBlockEnd()
                return .ifBlock(branches, elseBody)
            default:
                try expectBlockEnd()
                return .ifBlock(branches, nil)
            }
        }
    }

    private mutating func parseFor(_ loc: SourceLocation) throws -> JinjaStmt {
        var targets = [try expectName()]
        while isOp(",") { _ = advance(); targets.append(try expectName()) }
        guard isName("in") else { throw fail(current.loc, "expected 'in' in for loop, found \(describe(current.kind))") }
        _ = advance()
        let iterable = try parseConditionalFree()
        var condition: JinjaExpr? = nil
        if isName("if") { _ = advance(); condition = try parseConditionalFree() }
        if isName("recursive") { throw unsupported(current.loc, "recursive for loop") }
        try expectBlockEnd()
        loopDepth += 1
        let (body, end) = try parseBody(until: ["else", "endfor"])
        loopDepth -= 1
        guard let end else { throw fail(loc, "missing '{% endfor %}'") }
        var elseBody: [JinjaStmt] = []
        try expectBlockEnd()
        if end.name == "else" {
            let (b, e2) = try parseBody(until: ["endfor"])
            guard e2 != nil else { throw fail(loc, "missing '{% endfor %}'") }
            try expectBlockEnd()
            elseBody = b
        }
        return .forLoop(targets: targets, iterable: iterable, condition: condition, body: body, elseBody: elseBody, loc: loc)
    }

    private mutating func parseSet(_ loc: SourceLocation) throws -> JinjaStmt {
        let target = try expectName()
        var attribute: String? = nil
        if isOp(".") { _ = advance(); attribute = try expectName() }
        if isOp(",") { throw unsupported(current.loc, "tuple unpacking in '{% set %}'") }
        if current.kind == .blockEnd, attribute == nil {
            _ = advance()
            let (body, end) = try parseBody(until: ["endset"])
            guard end != nil else { throw fail(loc, "missing '{% endset %}'") }
            try expectBlockEnd()
            return .setBlock(name: target, body: body)
        }
        try expectOp("=")
        let value = try parseTupleOrExpression()
        try expectBlockEnd()
        return .set(name: target, attribute: attribute, value: value, loc: loc)
    }

    // MARK: expressions

    mutating func parseExpression() throws -> JinjaExpr {
        try enter(current.loc)
        defer { leave() }
        return try parseConditional()
    }

    /// `a, b` without brackets (as in `{% set x = a, b %}`) makes a tuple.
    private mutating func parseTupleOrExpression() throws -> JinjaExpr {
        let first = try parseExpression()
        guard isOp(",") else { return first }
        var items = [first]
        while isOp(",") {
            _ = advance()
            if current.kind == .blockEnd { break }
            items.append(try parseExpression())
        }
        return try make(.tuple(items), loc: first.loc)
    }

    private mutating func parseConditional() throws -> JinjaExpr {
        var expr = try parseOr()
        while isName("if") {
            let loc = current.loc
            _ = advance()
            let cond = try parseOr()
            var elseExpr: JinjaExpr? = nil
            if isName("else") { _ = advance(); elseExpr = try parseConditional() }
            expr = try make(.conditional(expr, cond, elseExpr), loc: loc)
        }
        return expr
    }

    /// An expression without a trailing `if` (for-loop iterables and filters).
    private mutating func parseConditionalFree() throws -> JinjaExpr { try parseOr() }

    private mutating func parseOr() throws -> JinjaExpr {
        var left = try parseAnd()
        while isName("or") {
            let loc = current.loc
            _ = advance()
            left = try make(.binary("or", left, try parseAnd()), loc: loc)
        }
        return left
    }

    private mutating func parseAnd() throws -> JinjaExpr {
        var left = try parseNot()
        while isName("and") {
            let loc = current.loc
            _ = advance()
            left = try make(.binary("and", left, try parseNot()), loc: loc)
        }
        return left
    }

    private mutating func parseNot() throws -> JinjaExpr {
        if isName("not") {
            let loc = current.loc
            try enter(loc)
            defer { leave() }
            _ = advance()
            return try make(.not(try parseNot()), loc: loc)
        }
        return try parseCompare()
    }

    private mutating func parseCompare() throws -> JinjaExpr {
        let left = try parseMath1()
        var ops: [(String, JinjaExpr)] = []
        while true {
            if case .op(let o) = current.kind, ["==", "!=", "<", "<=", ">", ">="].contains(o) {
                _ = advance()
                ops.append((o, try parseMath1()))
            } else if isName("in") {
                _ = advance()
                ops.append(("in", try parseMath1()))
            } else if isName("not"), pos + 1 < tokens.count, tokens[pos + 1].kind == .name("in") {
                _ = advance(); _ = advance()
                ops.append(("notin", try parseMath1()))
            } else {
                break
            }
        }
        return ops.isEmpty ? left : try make(.compare(left, ops), loc: left.loc)
    }

    private mutating func parseMath1() throws -> JinjaExpr {
        var left = try parseConcat()
        while case .op(let o) = current.kind, o == "+" || o == "-" {
            let loc = current.loc
            _ = advance()
            left = try make(.binary(o, left, try parseConcat()), loc: loc)
        }
        return left
    }

    private mutating func parseConcat() throws -> JinjaExpr {
        var left = try parseMath2()
        while isOp("~") {
            let loc = current.loc
            _ = advance()
            left = try make(.binary("~", left, try parseMath2()), loc: loc)
        }
        return left
    }

    private mutating func parseMath2() throws -> JinjaExpr {
        var left = try parsePow()
        while case .op(let o) = current.kind, ["*", "/", "//", "%"].contains(o) {
            let loc = current.loc
            _ = advance()
            left = try make(.binary(o, left, try parsePow()), loc: loc)
        }
        return left
    }

    private mutating func parsePow() throws -> JinjaExpr {
        var left = try parseUnary(withFilter: true)
        while isOp("**") {
            let loc = current.loc
            _ = advance()
            left = try make(.binary("**", left, try parseUnary(withFilter: true)), loc: loc)
        }
        return left
    }

    private mutating func parseUnary(withFilter: Bool) throws -> JinjaExpr {
        var node: JinjaExpr
        if case .op(let o) = current.kind, o == "-" || o == "+" {
            let loc = current.loc
            try enter(loc)
            defer { leave() }
            _ = advance()
            node = try make(.unary(o, try parseUnary(withFilter: false)), loc: loc)
        } else {
            node = try parsePostfix(try parsePrimary())
        }
        if withFilter { node = try parseFilterExpr(node) }
        return node
    }

    private mutating func parsePrimary() throws -> JinjaExpr {
        let tok = current
        switch tok.kind {
        case .name(let n):
            _ = advance()
            switch n {
            case "true", "True": return try make(.literal(.bool(true)), loc: tok.loc)
            case "false", "False": return try make(.literal(.bool(false)), loc: tok.loc)
            case "none", "None": return try make(.literal(.none), loc: tok.loc)
            default: return try make(.name(n), loc: tok.loc)
            }
        case .string(var s):
            _ = advance()
            while case .string(let more) = current.kind { s += more; _ = advance() }
            return try make(.literal(.string(s)), loc: tok.loc)
        case .integer(let i):
            _ = advance()
            return try make(.literal(.int(i)), loc: tok.loc)
        case .float(let d):
            _ = advance()
            return try make(.literal(.double(d)), loc: tok.loc)
        case .op("("):
            _ = advance()
            if isOp(")") { _ = advance(); return try make(.tuple([]), loc: tok.loc) }
            let first = try parseExpression()
            if isOp(")") { _ = advance(); return first }
            var items = [first]
            while isOp(",") {
                _ = advance()
                if isOp(")") { break }
                items.append(try parseExpression())
            }
            try expectOp(")")
            return try make(.tuple(items), loc: tok.loc)
        case .op("["):
            _ = advance()
            var items: [JinjaExpr] = []
            while !isOp("]") {
                items.append(try parseExpression())
                if !isOp(",") { break }
                _ = advance()
            }
            try expectOp("]")
            return try make(.list(items), loc: tok.loc)
        case .op("{"):
            _ = advance()
            var pairs: [(JinjaExpr, JinjaExpr)] = []
            while !isOp("}") {
                let k = try parseExpression()
                try expectOp(":")
                pairs.append((k, try parseExpression()))
                if !isOp(",") { break }
                _ = advance()
            }
            try expectOp("}")
            return try make(.dict(pairs), loc: tok.loc)
        default:
            throw fail(tok.loc, "expected an expression, found \(describe(tok.kind))")
        }
    }

    private mutating func parsePostfix(_ start: JinjaExpr) throws -> JinjaExpr {
        var node = start
        while true {
            if isOp(".") {
                let loc = current.loc
                _ = advance()
                switch current.kind {
                case .name(let n): _ = advance(); node = try make(.attribute(node, n), loc: loc)
                case .integer(let i): _ = advance(); node = try make(.item(node, try make(.literal(.int(i)), loc: loc)), loc: loc)
                default: throw fail(current.loc, "expected an attribute name after '.', found \(describe(current.kind))")
                }
            } else if isOp("[") {
                let loc = current.loc
                _ = advance()
                node = try parseSubscript(node, loc)
            } else if isOp("(") {
                let loc = current.loc
                let (args, kwargs) = try parseCallArgs()
                node = try make(.call(node, args, kwargs), loc: loc)
            } else {
                return node
            }
        }
    }

    private mutating func parseSubscript(_ target: JinjaExpr, _ loc: SourceLocation) throws -> JinjaExpr {
        var parts: [JinjaExpr?] = []
        var current: JinjaExpr? = nil
        var sawColon = false
        while !isOp("]") {
            if isOp(":") {
                _ = advance()
                parts.append(current)
                current = nil
                sawColon = true
            } else {
                guard current == nil else { throw fail(self.current.loc, "expected ':' or ']' in subscript") }
                current = try parseExpression()
            }
        }
        try expectOp("]")
        if !sawColon {
            guard let index = current else { throw fail(loc, "empty subscript '[]'") }
            return try make(.item(target, index), loc: loc)
        }
        parts.append(current)
        guard parts.count <= 3 else { throw fail(loc, "too many ':' in slice") }
        while parts.count < 3 { parts.append(nil) }
        return try make(.slice(target, parts[0], parts[1], parts[2]), loc: loc)
    }

    private mutating func parseCallArgs() throws -> ([JinjaExpr], [(String, JinjaExpr)]) {
        try expectOp("(")
        var args: [JinjaExpr] = []
        var kwargs: [(String, JinjaExpr)] = []
        while !isOp(")") {
            if case .name(let n) = current.kind, pos + 1 < tokens.count, tokens[pos + 1].kind == .op("=") {
                _ = advance(); _ = advance()
                kwargs.append((n, try parseExpression()))
            } else {
                if isOp("*") || isOp("**") { throw unsupported(current.loc, "*args / **kwargs in a call") }
                guard kwargs.isEmpty else { throw fail(current.loc, "positional argument after keyword argument") }
                args.append(try parseExpression())
            }
            if !isOp(",") { break }
            _ = advance()
        }
        try expectOp(")")
        return (args, kwargs)
    }

    private mutating func parseFilterExpr(_ start: JinjaExpr) throws -> JinjaExpr {
        var node = start
        while true {
            if isOp("|") {
                _ = advance()
                let loc = current.loc
                var name = try expectName()
                while isOp(".") { _ = advance(); name += "." + (try expectName()) }
                var args: [JinjaExpr] = [], kwargs: [(String, JinjaExpr)] = []
                if isOp("(") { (args, kwargs) = try parseCallArgs() }
                node = try make(.filter(node, name, args, kwargs), loc: loc)
            } else if isName("is") {
                _ = advance()
                var negated = false
                if isName("not") { _ = advance(); negated = true }
                let loc = current.loc
                let name: String
                switch current.kind {
                case .name(let n): name = n; _ = advance()
                case .op("=="): name = "=="; _ = advance()
                default: throw fail(loc, "expected a test name after 'is', found \(describe(current.kind))")
                }
                var args: [JinjaExpr] = []
                if isOp("(") {
                    let (a, kw) = try parseCallArgs()
                    guard kw.isEmpty else { throw unsupported(loc, "keyword arguments to test '\(name)'") }
                    args = a
                } else {
                    // `is divisibleby 3`, `is equalto 'user'`: one argument without brackets.
                    switch current.kind {
                    case .string, .integer, .float: args = [try parsePrimary()]
                    case .name(let n) where !["and", "or", "else", "if", "in", "not", "is"].contains(n): args = [try parsePostfix(try parsePrimary())]
                    default: break
                    }
                }
                node = try make(.test(node, name, args, negated: negated), loc: loc)
            } else {
                return node
            }
        }
    }
}
