import MSSClampCore

extension PathReport {
    /// The report as `probe --json` prints it (absent fields are omitted, never null).
    public struct JSON: Encodable, Sendable {
        public struct HopJSON: Encodable, Sendable {
            let hop: Int?
            let address: String
        }
        public struct Probe: Encodable, Sendable {
            let size: Int
            let ttl: Int
            let method: String
            let tries: Int
            /// reached, too-big, time-exceeded, unreachable, silent
            let result: String
            let from: String?
            let mtu: Int?
            let hop: Int?
            let code: Int?
            let rttMs: Double?
        }
        /// One of three shapes: located (lastReceived, firstMissing, ...), announced, unlocated.
        public struct BlackHole: Encodable, Sendable {
            let size: Int
            var lastReceived: HopJSON? = nil
            var firstMissing: HopJSON? = nil
            var firstMissingIsDestination: Bool? = nil
            var unanswering: [Int]? = nil
            var announced: HopJSON? = nil
            var announcedMTU: Int? = nil
            var unlocated: String? = nil
        }
        let destination: String
        let address: String
        let family: String
        let method: String
        let port: Int?
        let source: String
        let interface: String?
        let interfaceMTU: Int?
        let ceiling: Int
        let pathMTU: Int?
        let mss: Int?
        let largestReached: Int?
        let smallestFailed: Int?
        let announcedBy: HopJSON?
        let blackHole: Bool
        let silentHop: BlackHole?
        let stopped: String?
        let transmissions: Int
        let probes: [Probe]
    }

    public var json: JSON {
        func hop(_ h: Hop?) -> JSON.HopJSON? { h.map { JSON.HopJSON(hop: $0.number > 0 ? $0.number : nil, address: $0.address.text) } }
        let probes = records.map { r -> JSON.Probe in
            let rtt = r.roundTrip.map { d -> Double in
                let (s, a) = d.components
                return Double(s) * 1000 + Double(a / 1_000_000_000_000) / 1000
            }
            func make(_ result: String, _ from: IPAddress? = nil, mtu: Int? = nil, hop: Int? = nil, code: Int? = nil) -> JSON.Probe {
                JSON.Probe(
                    size: r.size, ttl: r.ttl, method: r.method.rawValue, tries: r.transmissions, result: result, from: from?.text, mtu: mtu, hop: hop,
                    code: code, rttMs: result == "silent" ? nil : rtt)
            }
            switch r.observation {
            case .reached(let from): return make("reached", from)
            case .tooBig(let from, let mtu, let h): return make("too-big", from, mtu: mtu, hop: h)
            case .timeExceeded(let from): return make("time-exceeded", from)
            case .unreachable(let from, let code): return make("unreachable", from, code: Int(code))
            case .silent: return make("silent")
            }
        }
        var walk: JSON.BlackHole?
        if let silentHop {
            let size = smallestFailed ?? 0
            switch silentHop {
            case .located(let last, let missing, let isDestination, let unanswering):
                walk = .init(
                    size: size, lastReceived: hop(last), firstMissing: hop(missing), firstMissingIsDestination: isDestination,
                    unanswering: unanswering)
            case .announced(let h, let mtu):
                walk = .init(size: size, announced: hop(h), announcedMTU: mtu)
            case .unlocated(let why):
                walk = .init(size: size, unlocated: why)
            }
        }
        return JSON(
            destination: target.name, address: target.address.text, family: family.description, method: method.rawValue, port: port.map(Int.init),
            source: target.source.text, interface: target.interface, interfaceMTU: target.interfaceMTU, ceiling: ceiling,
            pathMTU: reachedCap ? nil : pathMTU, mss: mss,
            largestReached: largestReached, smallestFailed: smallestFailed, announcedBy: hop(announcedBy), blackHole: isBlackHole, silentHop: walk,
            stopped: stopped, transmissions: transmissions, probes: probes)
    }
}
