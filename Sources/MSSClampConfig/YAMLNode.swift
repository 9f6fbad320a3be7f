import CYAML

/// A YAML document as a tree of scalars, sequences and mappings, each with its line.
///
/// Built from libyaml's parser events, which do the hard part (the whole YAML 1.1 syntax:
/// flow and block styles, quoting, anchors); this only stacks them into nodes. Scalars stay
/// text as written: the policy reader decides what a value means, so `1361:1536` is never a
/// sexagesimal number and `on` is never a boolean.
public indirect enum YAMLNode: Sendable, Equatable {
    case scalar(String, line: Int)
    case sequence([YAMLNode], line: Int)
    case mapping([Pair], line: Int)

    public struct Pair: Sendable, Equatable {
        public let key: YAMLNode
        public let value: YAMLNode
    }

    /// The 1-based line the node starts on.
    public var line: Int {
        switch self {
        case .scalar(_, let line), .sequence(_, let line), .mapping(_, let line): return line
        }
    }

    /// The text of a scalar; nil for a collection.
    public var string: String? {
        if case .scalar(let text, _) = self { return text }
        return nil
    }

    /// Why a text is not YAML, in libyaml's words, and where (1-based; nil if unknown).
    public struct SyntaxError: Error, Sendable, Equatable {
        public let problem: String
        public let line: Int?
    }

    /// Collections nested deeper than this are refused: no policy needs them, and a hostile
    /// file of a million `[` must cost neither the stack nor much memory.
    public static let depthLimit = 64

    /// The first document of `text`, or nil if it has none (an empty file). More than one
    /// document is an error: a policy is one.
    public static func compose(_ text: String) throws(SyntaxError) -> YAMLNode? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) != 0 else { throw SyntaxError(problem: "out of memory", line: nil) }
        defer { yaml_parser_delete(&parser) }
        var bytes = Array(text.utf8)
        if bytes.isEmpty { return nil }
        return try bytes.withUnsafeMutableBufferPointer { buffer throws(SyntaxError) -> YAMLNode? in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var builder = Builder()
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) != 0 else { throw Self.error(of: parser) }
                defer { yaml_event_delete(&event) }
                if event.type == YAML_STREAM_END_EVENT { return builder.document }
                try builder.take(event)
            }
        }
    }

    private static func error(of parser: yaml_parser_t) -> SyntaxError {
        let problem = parser.problem.map { String(cString: $0) } ?? "unknown error"
        let known = parser.error == YAML_SCANNER_ERROR || parser.error == YAML_PARSER_ERROR
        return SyntaxError(problem: problem, line: known ? Int(parser.problem_mark.line) + 1 : nil)
    }

    /// Open collections, innermost last, and the anchors seen so far.
    private struct Builder {
        enum Open {
            case sequence([YAMLNode], line: Int, anchor: String?)
            case mapping([Pair], pendingKey: YAMLNode?, line: Int, anchor: String?)
        }
        var stack: [Open] = []
        var anchors: [String: YAMLNode] = [:]
        var document: YAMLNode?
        var documents = 0

        mutating func take(_ event: yaml_event_t) throws(SyntaxError) {
            let line = Int(event.start_mark.line) + 1
            switch event.type {
            case YAML_DOCUMENT_START_EVENT:
                documents += 1
                if documents > 1 { throw SyntaxError(problem: "expected one document, found another", line: line) }
            case YAML_SCALAR_EVENT:
                let scalar = event.data.scalar
                let text = String(decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self)
                try add(.scalar(text, line: line), anchor: YAMLNode.text(scalar.anchor))
            case YAML_ALIAS_EVENT:
                let name = YAMLNode.text(event.data.alias.anchor) ?? ""
                guard let node = anchors[name] else { throw SyntaxError(problem: "unknown alias '\(name)'", line: line) }
                try add(node, anchor: nil)
            case YAML_SEQUENCE_START_EVENT:
                try push(.sequence([], line: line, anchor: YAMLNode.text(event.data.sequence_start.anchor)), line: line)
            case YAML_MAPPING_START_EVENT:
                try push(.mapping([], pendingKey: nil, line: line, anchor: YAMLNode.text(event.data.mapping_start.anchor)), line: line)
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                switch stack.removeLast() {
                case .sequence(let items, let line, let anchor): try add(.sequence(items, line: line), anchor: anchor)
                case .mapping(let pairs, _, let line, let anchor): try add(.mapping(pairs, line: line), anchor: anchor)
                }
            default:
                break  // stream start, document end: nothing to build
            }
        }

        private mutating func push(_ open: Open, line: Int) throws(SyntaxError) {
            guard stack.count < YAMLNode.depthLimit else {
                throw SyntaxError(problem: "nested deeper than \(YAMLNode.depthLimit) levels", line: line)
            }
            stack.append(open)
        }

        /// A finished node goes into the innermost open collection (as a key or a value in a
        /// mapping), or becomes the document.
        private mutating func add(_ node: YAMLNode, anchor: String?) throws(SyntaxError) {
            if let anchor { anchors[anchor] = node }
            guard let innermost = stack.popLast() else {
                document = node
                return
            }
            switch innermost {
            case .sequence(var items, let line, let anchor):
                items.append(node)
                stack.append(.sequence(items, line: line, anchor: anchor))
            case .mapping(var pairs, let pendingKey, let line, let anchor):
                if let pendingKey {
                    pairs.append(Pair(key: pendingKey, value: node))
                    stack.append(.mapping(pairs, pendingKey: nil, line: line, anchor: anchor))
                } else {
                    stack.append(.mapping(pairs, pendingKey: node, line: line, anchor: anchor))
                }
            }
        }
    }

    private static func text(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
    }
}
