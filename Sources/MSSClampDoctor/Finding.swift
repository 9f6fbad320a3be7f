/// One thing `mssclamp doctor` found: how much it matters, what it is, and the exact fix.
public struct Finding: Codable, Sendable, Equatable {
    public enum Severity: String, Codable, Sendable, Comparable, CaseIterable {
        /// Worth knowing; nothing to fix.
        case info
        /// Likely to cause a black hole or a silent gap in clamping.
        case warning
        /// Breaks path-MTU discovery or clamping for certain.
        case error

        public static func < (lhs: Severity, rhs: Severity) -> Bool {
            lhs.rank < rhs.rank
        }

        var rank: Int {
            switch self {
            case .info: 0
            case .warning: 1
            case .error: 2
            }
        }
    }

    /// Stable, for scripts and tests: `icmp-frag-needed-dropped`, `clamp-ipv4-only`, ...
    public var id: String
    public var severity: Severity
    /// What is wrong, with the evidence (the rule, the value).
    public var summary: String
    /// The exact change that removes the finding: a command, a flag, a YAML line, a sysctl.
    public var fix: String?

    public init(_ id: String, _ severity: Severity, _ summary: String, fix: String? = nil) {
        self.id = id
        self.severity = severity
        self.summary = summary
        self.fix = fix
    }
}

/// What `doctor` read and found.
public struct DoctorReport: Codable, Sendable, Equatable {
    public var findings: [Finding]
    /// What could not be read, and why (no root, a tool missing): said, never guessed.
    public var unread: [String]

    public init(findings: [Finding], unread: [String]) {
        self.findings = findings
        self.unread = unread
    }

    /// The findings that need fixing (warnings and errors).
    public var toFix: Int { findings.filter { $0.severity >= .warning }.count }

    /// Exit status: 1 when something needs fixing; else 4 when something could not be read
    /// (no clean verdict without looking; `status`'s "unknown"); 0 when nothing needs
    /// fixing (info only).
    public var exitStatus: Int32 { toFix > 0 ? 1 : unread.isEmpty ? 0 : 4 }

    /// The report's last line.
    public var verdict: String {
        if toFix > 0 { return "doctor: \(toFix) finding(s) to fix" + (unread.isEmpty ? "" : ", and \(unread.count) source(s) not read") }
        if !unread.isEmpty {
            return "doctor: could not look: \(unread.count) source(s) not read (run as root); nothing found in the rest"
        }
        return "doctor: nothing to fix"
    }

    /// The report as text: each finding with its fix, what could not be read, the verdict.
    public var text: [String] {
        var lines: [String] = []
        for finding in findings {
            lines.append("\(finding.severity.rawValue) [\(finding.id)] \(finding.summary)")
            if let fix = finding.fix { lines.append("    fix: \(fix)") }
        }
        for what in unread { lines.append("could not read: \(what)") }
        lines.append(verdict)
        return lines
    }
}
