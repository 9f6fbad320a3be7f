import Foundation
import TestSupport
import Testing

/// Every command line and YAML policy in the README is what today's binary accepts: an
/// operator copies them first, so a renamed flag or a stale value must fail here, not there.
@Suite struct ReadmeTests {
    static let readme = (try? String(contentsOfFile: TestSupport.packageRoot + "/README.md", encoding: .utf8)) ?? ""

    /// `mssclamp …` lines of code blocks and inline code, without prompts and comments; lines
    /// with placeholders (`…`, DEST, STACK) are prose, not recipes.
    static var commands: [String] {
        var found: [String] = []
        var inBlock = false
        for raw in readme.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if raw.hasPrefix("```") {
                inBlock.toggle()
                continue
            }
            var candidates: [String] = []
            if inBlock || raw.hasPrefix("    ") {
                candidates.append(raw.trimmingCharacters(in: .whitespaces))
            }
            // Inline code spans: the text between pairs of backticks; `mssclamp watch` alone
            // names a command in prose, it is no command line.
            let spans = raw.split(separator: "`", omittingEmptySubsequences: false)
            if spans.count > 2 {
                candidates += stride(from: 1, to: spans.count, by: 2).map { String(spans[$0]) }.filter { $0.split(separator: " ").count > 2 }
            }
            for var line in candidates {
                if line.hasPrefix("$ ") { line.removeFirst(2) }
                guard line.hasPrefix("mssclamp ") else { continue }
                if let hash = line.range(of: "  #") { line = String(line[..<hash.lowerBound]) }
                line = line.trimmingCharacters(in: .whitespaces)
                if line.contains("…") || line.contains("...") || line.contains("DEST") || line.contains("STACK") || line.contains("IFACE") {
                    continue
                }
                found.append(line)
            }
        }
        return Array(Set(found)).sorted()
    }

    static var yamlBlocks: [String] {
        var blocks: [String] = []
        var current: [String]?
        for line in readme.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if current == nil, line == "```yaml" {
                current = []
            } else if current != nil, line.hasPrefix("```") {
                blocks.append(current!.joined(separator: "\n") + "\n")
                current = nil
            } else {
                current?.append(line)
            }
        }
        return blocks
    }

    @Test func findsTheRecipes() {
        // The recipe table's lines are among them: the extraction itself is checked.
        #expect(Self.commands.contains("mssclamp run -o eth0 --clamp-to-interface wg0"))
        #expect(Self.commands.contains("mssclamp run --ipsec in --set-mss-for-tunnel esp-gcm"))
        #expect(Self.commands.count >= 8, "\(Self.commands)")
        #expect(Self.yamlBlocks.count >= 5)
    }

    @Test func everyCommandLineParses() {
        for line in Self.commands {
            let words = line.split(separator: " ").map(String.init).dropFirst()
            let result = TestSupport.run("/usr/bin/env", ["MSSCLAMP_CHECK_ONLY=1", TestSupport.binary] + words)
            #expect(result.status == 0, "\(line): \(result.stderr)")
        }
    }

    @Test func everyPolicyBlockLoads() throws {
        let directory = TestSupport.temporaryDirectory("readme")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for (index, block) in Self.yamlBlocks.enumerated() {
            let path = "\(directory)/recipe\(index).yaml"
            try block.write(toFile: path, atomically: true, encoding: .utf8)
            let result = TestSupport.run("/usr/bin/env", ["MSSCLAMP_CHECK_ONLY=1", TestSupport.binary, "run", "--config", path])
            #expect(result.status == 0, "block \(index + 1):\n\(block)\(result.stderr)")
        }
    }

    /// The README stays the operator's: short, in the order they need it.
    @Test func staysShortAndInOrder() {
        let lines = Self.readme.split(separator: "\n", omittingEmptySubsequences: false).count
        #expect(lines <= 320, "README has \(lines) lines")
        let headings = Self.readme.split(separator: "\n").filter { $0.hasPrefix("## ") }.map(String.init)
        let order = ["## Install", "## Clamp: a recipe per VPN", "## Verify", "## Troubleshoot", "## Read more"]
        let positions = order.compactMap { headings.firstIndex(of: $0) }
        #expect(positions.count == order.count && positions == positions.sorted(), "\(headings)")
    }
}
