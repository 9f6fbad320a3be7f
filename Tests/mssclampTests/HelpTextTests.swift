import TestSupport
import Testing

/// Every subcommand's `--help`, as a user sees it in an 80-column terminal: no stray
/// backslashes from multi-line string continuations, no line past the width, no broken wrap
/// (a line that ends in the middle of a word's hyphenation or starts with punctuation).
@Suite struct HelpTextTests {
    static let commands = [
        [], ["run"], ["status"], ["rules"], ["rules", "print"], ["rules", "install"],
        ["rules", "remove"], ["rules", "check"], ["dry-run"], ["mss"], ["watch"], ["doctor"], ["probe"],
    ]

    @Test(arguments: commands)
    func helpReadsCleanly(_ command: [String]) {
        let result = TestSupport.run("/usr/bin/env", ["COLUMNS=80", TestSupport.binary] + command + ["--help"])
        #expect(result.status == 0, "\(command): \(result.stderr)")
        #expect(result.stdout.contains("USAGE:"))
        for line in result.stdout.split(separator: "\n", omittingEmptySubsequences: false) {
            #expect(!line.contains("\\"), "stray backslash in `\(command.joined(separator: " ")) --help`: \(line)")
            #expect(line.count <= 80, "too wide: \(line)")
            let text = line.drop { $0 == " " }
            #expect(!(text.first.map { ",.;:)".contains($0) } ?? false), "broken wrap: \(line)")
        }
    }

    /// `rules remove` and `rules check` take every flag `rules install` takes.
    @Test func removeAndCheckTakeInstallsFlags() {
        let install = Self.flags(TestSupport.run(TestSupport.binary, ["rules", "install", "--help"]).stdout)
        for sub in ["remove", "check"] {
            let flags = Self.flags(TestSupport.run(TestSupport.binary, ["rules", sub, "--help"]).stdout)
            #expect(install.subtracting(flags).isEmpty, "\(sub) lacks \(install.subtracting(flags).sorted())")
        }
        #expect(install.contains("--set-mss") && install.contains("--safety-net"))
    }

    static func flags(_ help: String) -> Set<String> {
        Set(
            help.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "," || $0 == "[" || $0 == "]" || $0 == "<" })
                .filter { $0.hasPrefix("--") && $0.count > 2 }.map(String.init))
    }
}
