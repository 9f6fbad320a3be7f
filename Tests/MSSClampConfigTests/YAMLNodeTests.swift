import Testing

@testable import MSSClampConfig

/// libyaml's events stacked into nodes: lines, scalars as written, anchors, and the limits
/// that keep a hostile file cheap.
@Suite struct YAMLNodeTests {
    @Test func linesAndScalarsAsWritten() throws {
        let root = try #require(try YAMLNode.compose("# c\nrules:\n  - mss: 1361:1536\n    on: on\n    list: [a, \"b\"]\n"))
        guard case .mapping(let top, let line) = root else {
            Issue.record("not a mapping")
            return
        }
        #expect(line == 2 && top.count == 1 && top[0].key.string == "rules")
        guard case .sequence(let rules, _) = top[0].value, case .mapping(let rule, let ruleLine) = rules[0] else {
            Issue.record("not a list of mappings")
            return
        }
        #expect(ruleLine == 3)
        #expect(rule.map { $0.key.string } == ["mss", "on", "list"])
        #expect(rule[0].value == .scalar("1361:1536", line: 3))
        #expect(rule[1].value == .scalar("on", line: 4))
        #expect(rule[2].value == .sequence([.scalar("a", line: 5), .scalar("b", line: 5)], line: 5))
    }

    @Test func anchorsAndAliases() throws {
        let root = try #require(try YAMLNode.compose("a: &x [1, 2]\nb: *x\n"))
        guard case .mapping(let pairs, _) = root else {
            Issue.record("not a mapping")
            return
        }
        #expect(pairs[1].value == pairs[0].value)
        #expect(throws: YAMLNode.SyntaxError(problem: "unknown alias 'y'", line: 1)) { try YAMLNode.compose("a: *y\n") }
    }

    @Test func emptyAndMultipleDocuments() throws {
        #expect(try YAMLNode.compose("") == nil)
        #expect(try YAMLNode.compose("# only a comment\n") == nil)
        #expect(throws: YAMLNode.SyntaxError(problem: "expected one document, found another", line: 2)) {
            try YAMLNode.compose("a: 1\n---\nb: 2\n")
        }
    }

    @Test func syntaxErrorsCarryLibyamlsWordsAndLine() {
        #expect(throws: YAMLNode.SyntaxError(problem: "did not find expected ',' or ']'", line: 3)) {
            try YAMLNode.compose("rules:\n  - mss: [1\n")
        }
        #expect(throws: YAMLNode.SyntaxError.self) { try YAMLNode.compose("a: b: c\n") }
    }

    @Test func depthIsBounded() throws {
        let deep = String(repeating: "[", count: 100_000)
        #expect(throws: YAMLNode.SyntaxError(problem: "nested deeper than \(YAMLNode.depthLimit) levels", line: 1)) {
            try YAMLNode.compose(deep)
        }
        let fine = String(repeating: "[", count: YAMLNode.depthLimit) + String(repeating: "]", count: YAMLNode.depthLimit)
        #expect(try YAMLNode.compose(fine) != nil)
    }
}
