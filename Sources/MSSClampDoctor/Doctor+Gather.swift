import FoundationEssentials
import MSSClampStatus

extension Doctor {
    /// Reads this gateway, and mssclamp's own worker as `status` judges it (none publishing
    /// its state in `stateDirectory`: nothing to say of it), and examines both.
    public static func examine(stateDirectory: String) async -> DoctorReport {
        var facts = await GatewayFacts.read()
        let health = await Health.gather(stateDirectory: stateDirectory)
        if let running = health.inputs.workers.first(where: { $0.state == .running }) {
            facts.worker = .init(
                healthy: health.isHealthy, reasons: health.reasons, policy: running.policy,
                stalls: (running.learning?.stalls ?? []).map { .init(host: $0.host, mtu: $0.mtu, mss: $0.mss, stalledAt: $0.stalledAt) })
        }
        return examine(facts)
    }
}

extension DoctorReport {
    /// One JSON object: findings (id, severity, summary, fix) and what could not be read.
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
