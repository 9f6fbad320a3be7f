import FoundationEssentials
import MSSClampCore
import MSSClampLearning
import MSSClampReplay
import MSSClampReport

/// `watch --json`: the dry-run's JSON line for SYNs, a `path_mtu` object for ICMP, and the
/// histogram at the end.
public enum WatchJSON {
    struct Signal: Encodable {
        let type = "path_mtu"
        let time: Double, family: String, from: String, to: String, mtu: Int
        let quoted: Quoted?
        /// With `--learn-pmtu`: `learned`, or the reason it was refused.
        let learning: String?
        struct Quoted: Encodable {
            let proto: UInt8, src: String, sport: UInt16, dst: String, dport: UInt16
        }
    }

    struct Stall: Encodable {
        let type = "stall"
        let time: Double, family: String, client: String, server: String, size: Int, copies: Int, seconds: Double
        /// What `run --learn-stalls` would clamp SYNs from the client to, if anything new.
        let wouldClamp: Int?
        /// Set when the client acknowledged packets this large shortly before: no black hole.
        let deliveredSize: Int?
        enum CodingKeys: String, CodingKey {
            case type, time, family, client, server, size, copies, seconds
            case wouldClamp = "would_clamp_mss"
            case deliveredSize = "delivered_size"
        }
    }

    struct Histogram: Encodable {
        struct Row: Encodable { let subnet: String, kind: String, mss: [String: Int] }
        let histogram: [Row]
        let kernelDropped: Int
        enum CodingKeys: String, CodingKey {
            case histogram
            case kernelDropped = "kernel_dropped"
        }
    }

    public static func line(_ event: WatchEvent) -> String {
        switch event {
        case .handshake(let record):
            return JSONReport.line(record)
        case .pathMTU(let seconds, let microseconds, let signal, let verdict):
            let quoted = signal.quoted.map {
                Signal.Quoted(
                    proto: $0.protocolNumber, src: $0.source.text, sport: $0.sourcePort, dst: $0.destination.text, dport: $0.destinationPort)
            }
            return encode(
                Signal(
                    time: Double(seconds) + Double(microseconds) / 1e6, family: signal.family.description,
                    from: signal.from.text, to: signal.to.text, mtu: signal.mtu, quoted: quoted,
                    learning: verdict.map { if case .ignored(let reason) = $0 { reason.rawValue } else { "learned" } }))
        case .stall(let seconds, let microseconds, let stall, let change):
            var clamp: Int?
            switch change {
            case .learned(let entry)?, .lowered(let entry, _)?: clamp = Int(entry.mss)
            default: break
            }
            return encode(
                Stall(
                    time: Double(seconds) + Double(microseconds) / 1e6, family: stall.family.description,
                    client: "\(stall.client.text).\(stall.clientPort)", server: "\(stall.server.text).\(stall.serverPort)", size: stall.size,
                    copies: stall.copies, seconds: ((stall.detected - stall.firstSeen) * 1000).rounded() / 1000, wouldClamp: clamp,
                    deliveredSize: stall.delivered?.size))
        }
    }

    public static func histogram(_ histogram: MSSHistogram, dropped: Int) -> String {
        encode(
            Histogram(
                histogram: histogram.counts.sorted { $0.key < $1.key }.map { Histogram.Row(subnet: $0.key.subnet, kind: $0.key.kind, mss: $0.value) },
                kernelDropped: dropped))
    }

    static func encode<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(value)) ?? Data(), as: UTF8.self)
    }
}
