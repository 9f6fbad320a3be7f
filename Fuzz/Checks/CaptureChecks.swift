import Glibc
import MSSClampCore
import MSSClampReplay
import MSSClampReport

/// Capture reading through libpcap and the dry-run: any file either opens and replays, or is
/// refused with an error that says what; a capture it writes reads back with the same frames,
/// and replaying that changes nothing more.
public enum CaptureChecks {
    static let input = "/tmp/mssclamp-fuzz-\(getpid()).in"
    static let output = "/tmp/mssclamp-fuzz-\(getpid()).out"

    public static func check(_ data: [UInt8]) -> [String] {
        defer {
            unlink(input)
            unlink(output)
        }
        guard let file = fopen(input, "w") else { return ["cannot write \(input)"] }
        _ = data.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        fclose(file)
        let policy = Policy(rules: [Rule(mssRange: nil, action: .setMSS(ipv4: 1360, ipv6: 1340), insertMissing: true)])
        let first: DryRunSummary
        do {
            first = try DryRun.run(capture: input, options: DryRunOptions(policy: policy, writePath: output)) { _ in }
        } catch {
            return error.description.isEmpty ? ["an error without words"] : []
        }
        var problems: [String] = []
        do {
            var modified = 0
            let second = try DryRun.run(capture: output, options: DryRunOptions(policy: policy)) { record in
                if record.decision.outcome.isModified { modified += 1 }
            }
            if second.frames != first.frames { problems.append("wrote \(first.frames) frames, read back \(second.frames)") }
            if modified != 0 { problems.append("\(modified) frames changed again on a second pass") }
        } catch {
            problems.append("the capture it wrote does not read back: \(error)")
        }
        return problems
    }
}
