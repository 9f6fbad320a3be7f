import FoundationEssentials
import MSSClampCore

/// A destination as the operator names it, turned into the paths to probe: every address of
/// the families asked, each along its own route. Everything that can be refused is refused
/// here, before the first probe leaves.
public struct ProbePlan: Sendable {
    public let destination: String
    public let targets: [ProbeTarget]
    /// Addresses left out, with the reason (an IPv6 address with no route, when IPv4 has one).
    public let skipped: [String]

    public init(destination: String, families: [IPFamily], maximum: Int?) throws(ProbeError) {
        let addresses: [IPAddress]
        do {
            addresses = try ProbeTarget.resolve(destination, families: families)
        } catch let error as ProbeError {
            throw error
        } catch {
            throw .usage("\(destination): \(error)")
        }
        guard !addresses.isEmpty else {
            throw .usage("'\(destination)' has no \(families == [.ipv4] ? "IPv4" : families == [.ipv6] ? "IPv6" : "IP") address")
        }
        var targets: [ProbeTarget] = []
        var skipped: [String] = []
        for address in addresses {
            if let maximum, address.family == .ipv6, maximum < Prober.baseSize(.ipv6) {
                throw .usage("--max: \(maximum) is below 1280, the least every IPv6 link carries")
            }
            do {
                targets.append(try ProbeTarget.route(name: destination, to: address))
            } catch let error as ProbeError where addresses.count > 1 {
                skipped.append("\(address.family == .ipv4 ? "IPv4" : "IPv6"): \(error.description)")
            } catch let error as ProbeError {
                throw error
            } catch {
                throw .usage("\(address.text): \(error)")
            }
        }
        guard !targets.isEmpty else { throw .usage(skipped.joined(separator: "; ")) }
        self.destination = destination
        self.targets = targets
        self.skipped = skipped
    }
}

/// What probing a plan found: a report per path that could be probed, and why the others
/// (or a path with no MTU found) failed.
public struct ProbeOutcome: Sendable {
    public var reports: [PathReport] = []
    public var failures: [String] = []

    public init() {}

    /// `{"paths": [...], "failures": [...]}`, as `probe --json` prints it.
    public var json: String {
        struct Document: Encodable {
            let paths: [PathReport.JSON]
            let failures: [String]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(Document(paths: reports.map(\.json), failures: failures))) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}

extension Prober {
    /// Probes each path of the plan in turn, handing each report to `each` as it is done
    /// (text output shows a path while the next is probed). A usage error stops everything;
    /// a path that fails is a failure of the outcome, and the next is still probed.
    public static func probe(_ plan: ProbePlan, options: ProbeOptions, each: (PathReport) -> Void = { _ in }) throws(ProbeError) -> ProbeOutcome {
        var outcome = ProbeOutcome()
        for target in plan.targets {
            do {
                let report = try Prober(target: target, options: options).run()
                outcome.reports.append(report)
                each(report)
                if report.pathMTU == nil { outcome.failures.append("\(target.address.text): \(report.stopped ?? "no path MTU")") }
            } catch ProbeError.usage(let message) {
                throw .usage(message)
            } catch ProbeError.failed(let message) {
                outcome.failures.append(message)
            } catch {
                outcome.failures.append("\(target.address.text): \(error)")
            }
        }
        return outcome
    }
}
