import MSSClampCore

/// Everything `doctor` judges, read once from the gateway. The checks (`Doctor`) are pure
/// functions of this, so each is tested on text as the tools print it; `read()` is the
/// only part that touches the system.
public struct GatewayFacts: Sendable {
    /// `net.ipv4.ip_forward` → `1`; a key absent could not be read.
    public var sysctls: [String: String] = [:]
    /// `iptables-save` / `ip6tables-save` output (iptables-nft: every table it manages);
    /// nil when unreadable.
    public var iptables: [IPFamily: String] = [:]
    /// `nft list ruleset`; nil when unreadable.
    public var nftables: String?
    public var links: [Link] = []
    /// `ip xfrm policy` and `ip xfrm state` output; nil when unreadable.
    public var xfrmPolicies: String?
    public var xfrmStates: String?
    /// mssclamp's own worker here, as `status` judges it; nil when none publishes its state.
    public var worker: Worker?
    public var unread: [String] = []

    public struct Worker: Sendable, Equatable {
        public var healthy: Bool
        /// Why not, in `status`'s words.
        public var reasons: [String]
        /// Its policy's rules, as it publishes them (`Rule.summary`).
        public var policy: [String]
        /// What it learned from stalled flows (`--learn-stalls`): host, path MTU, MSS, and
        /// the size that stalled.
        public var stalls: [Stall]

        public struct Stall: Sendable, Equatable {
            public var host: String
            public var mtu: Int
            public var mss: Int
            public var stalledAt: Int
            public init(host: String, mtu: Int, mss: Int, stalledAt: Int) {
                self.host = host
                self.mtu = mtu
                self.mss = mss
                self.stalledAt = stalledAt
            }
        }

        public init(healthy: Bool, reasons: [String], policy: [String] = [], stalls: [Stall] = []) {
            self.healthy = healthy
            self.reasons = reasons
            self.policy = policy
            self.stalls = stalls
        }
    }

    public init() {}

    public struct Link: Sendable, Equatable {
        public var name: String
        /// rtnetlink's kind (`wireguard`, `gre`, `tun`, `vxlan`, ...), nil for plain devices.
        public var kind: String?
        public var mtu: Int
        public var up: Bool

        public init(name: String, kind: String?, mtu: Int, up: Bool) {
            self.name = name
            self.kind = kind
            self.mtu = mtu
            self.up = up
        }
    }

    /// The sysctls the checks read.
    public static let sysctlKeys = [
        "net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding", "net.ipv4.ip_no_pmtu_disc", "net.ipv4.tcp_mtu_probing",
        "net.ipv4.route.min_pmtu",
    ]
}
