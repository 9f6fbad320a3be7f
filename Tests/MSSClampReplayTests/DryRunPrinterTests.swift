import Foundation
import MSSClampCore
import MSSClampReplay
import Testing

/// The printer writes what `dry-run` shows, byte for byte, in both formats and quiet.
@Suite struct DryRunPrinterTests {
    func printed(_ format: DryRunPrinter.Format, quiet: Bool = false) throws -> String {
        let path = Support.temporaryDirectory("printer") + "/out"
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        try #require(descriptor >= 0)
        let options = DryRunOptions(policy: .default)
        var printer = DryRunPrinter(format: format, quiet: quiet, writePath: nil, descriptor: descriptor)
        let summary = try DryRun.run(
            capture: DryRunGoldenTests.edge, options: options, onOpen: { printer.header(policy: .default, options: options) },
            onRecord: printer.wantsRecords ? { printer.record($0) } : nil)
        printer.summary(summary, policy: .default)
        close(descriptor)
        return try String(contentsOfFile: path, encoding: .utf8)
    }

    @Test func textAsTheCommandPrintsIt() throws {
        let command = Support.mssclamp(["dry-run", "-t", DryRunGoldenTests.edge])
        #expect(command.status == 0)
        #expect(try printed(.text(showTime: false)) == command.stdout)
    }

    @Test func jsonLinesAsTheCommandPrintsThem() throws {
        let command = Support.mssclamp(["dry-run", "--json", DryRunGoldenTests.edge])
        #expect(try printed(.json) == command.stdout)
        #expect(command.stdout.split(separator: "\n").count > 2)
    }

    @Test func quietIsHeaderAndCountsOnly() throws {
        let command = Support.mssclamp(["dry-run", "-q", DryRunGoldenTests.edge])
        let quiet = try printed(.text(showTime: true), quiet: true)
        #expect(quiet == command.stdout)
        #expect(!quiet.contains("Flags [S]"))
    }
}
