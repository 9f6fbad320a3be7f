import Glibc
import MSSClampCore

/// Which firewall tooling carries the rules.
public enum Backend: String, Sendable, CaseIterable, Codable, CustomStringConvertible {
    /// iptables / ip6tables on nf_tables (iptables-nft), Debian's default since buster.
    case iptablesNFT = "iptables-nft"
    /// iptables / ip6tables on the legacy x_tables (iptables-legacy).
    case iptablesLegacy = "iptables-legacy"
    /// A native nftables table (`table inet mssclamp`), through nft.
    case nftables

    /// The command, its restore and save tools, per family.
    public func tools(_ family: IPFamily) -> (command: String, restore: String, save: String) {
        let base = family == .ipv4 ? "iptables" : "ip6tables"
        switch self {
        case .iptablesNFT: return ("\(base)-nft", "\(base)-nft-restore", "\(base)-nft-save")
        case .iptablesLegacy: return ("\(base)-legacy", "\(base)-legacy-restore", "\(base)-legacy-save")
        case .nftables: return ("nft", "nft", "nft")
        }
    }

    /// Its name, as `--backend` takes it and every message says it.
    public var description: String { rawValue }

    /// Every backend's name, for help and messages: `iptables-nft, iptables-legacy, nftables`.
    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }

    /// The kernel's rule engine behind the tooling: what the traits below follow from.
    public enum Engine: Sendable { case nfTables, xTables }

    public var engine: Engine {
        switch self {
        case .iptablesNFT, .nftables: .nfTables
        case .iptablesLegacy: .xTables
        }
    }

    /// nf_tables announces every committed change on netlink (what `nft monitor` hears), so a
    /// flush of ours is heard at once; x_tables announces nothing, and only a poll finds it.
    public var announcesChanges: Bool { engine == .nfTables }

    /// x_tables' tools reach the kernel over a raw socket: CAP_NET_RAW besides CAP_NET_ADMIN.
    public var needsRawSocket: Bool { engine == .xTables }

    /// The backend to use: `chosen` when one was named, else the one `detect()` picks
    /// (`auto`), and then `detected` hears which and why.
    public static func resolve(_ chosen: Backend?, detected: (Detection) -> Void = { _ in }) async -> Backend {
        if let chosen { return chosen }
        let detection = await detect()
        detected(detection)
        return detection.backend
    }

    /// The backend `auto` chose, and why, in words for the log: a fallback is never silent.
    public struct Detection: Sendable, Equatable {
        public var backend: Backend
        public var reason: String
        /// A fallback from the default (nf_tables unusable): worth a warning.
        public var isFallback: Bool
    }

    /// Picks the iptables backend the way Kubernetes' iptables-wrapper and Docker do: the one
    /// that already holds rules wins (legacy only when it has more), so ours land beside the
    /// rules that are really in force; with none anywhere, nf_tables.
    ///
    /// With no x_tables table in the kernel, iptables-legacy holds nothing and its save tool is
    /// not run: run as root it would load ip_tables, and from then on the kernel's table list
    /// exists, root's only, and every confined start would have to say it cannot read it.
    public static func detect() async -> Detection {
        let tables = legacyTables()
        async let legacy = tables?.isEmpty == true ? .success(0) : ruleCount(.iptablesLegacy)
        async let nft = ruleCount(.iptablesNFT)
        return choose(legacy: await legacy, nft: await nft, legacyTables: tables)
    }

    /// The choice, from what each backend's save tool said (pure, so every branch is tested).
    static func choose(legacy: Result<Int, FirewallError>, nft: Result<Int, FirewallError>, legacyTables: Set<String>?) -> Detection {
        // x_tables has tables this process cannot list (not root): whatever
        // iptables-legacy-save said, legacy rules may be there unseen. Only the operator
        // can tell; said, with the way to say it.
        if legacyTables == nil, case .success(let nftCount) = nft {
            return Detection(
                backend: .iptablesNFT,
                reason:
                    "iptables-nft holds \(nftCount) rule(s); iptables-legacy's tables exist but only root may list them, so its rules cannot be counted here. If this host's firewall is iptables-legacy, say --backend iptables-legacy (the drop-in /usr/share/doc/mssclamp/examples/iptables-legacy.conf does, with the lock and CAP_NET_RAW it needs)",
                isFallback: true)
        }
        // x_tables holds tables this process may not read (iptables-legacy needs CAP_NET_RAW
        // for that): the host's firewall is there, so ours goes there too, and the start
        // says what it lacks rather than landing in another firewall unnoticed.
        if case .failure(let error) = legacy, let legacyTables, !legacyTables.isEmpty {
            return Detection(
                backend: .iptablesLegacy,
                reason:
                    "the kernel has iptables-legacy tables (\(legacyTables.sorted().joined(separator: ", "))) that this process cannot read (\(error.message)); the host's firewall is there, so ours goes there too",
                isFallback: true)
        }
        switch (legacy, nft) {
        case (.success(let legacyCount), .failure(let error)):
            return Detection(
                backend: .iptablesLegacy,
                reason:
                    "iptables-nft cannot use the kernel's nf_tables (\(error.message)); falling back to iptables-legacy (\(legacyCount) rule(s) there). On a kernel with nf_tables (modules installed), --backend iptables-nft or nftables avoids the legacy lock and CAP_NET_RAW",
                isFallback: true)
        case (.success(let legacyCount), .success(let nftCount)) where legacyCount > nftCount:
            return Detection(
                backend: .iptablesLegacy,
                reason: "iptables-legacy holds \(legacyCount) rule(s), iptables-nft \(nftCount): ours go beside the rules in force", isFallback: false
            )
        case (.success(let legacyCount), .success(let nftCount)):
            return Detection(
                backend: .iptablesNFT,
                reason: nftCount == 0 && legacyCount == 0
                    ? "no rules in either iptables backend; nf_tables is the default"
                    : "iptables-nft holds \(nftCount) rule(s), iptables-legacy \(legacyCount)", isFallback: false)
        case (.failure(let error), .success(let nftCount)):
            let denied = error.message.contains("ermission denied") || error.message.contains("not permitted")
            return Detection(
                backend: .iptablesNFT,
                reason: denied
                    ? "iptables-legacy cannot be read by this process (\(error.message)); iptables-nft holds \(nftCount) rule(s). If this host's firewall is iptables-legacy, grant CAP_NET_RAW and the legacy lock (the drop-in /usr/share/doc/mssclamp/examples/iptables-legacy.conf) so the rules go there"
                    : "iptables-legacy is not usable here; iptables-nft holds \(nftCount) rule(s)", isFallback: denied)
        case (.failure(let legacyError), .failure(let nftError)):
            return Detection(
                backend: .iptablesNFT,
                reason:
                    "neither backend could be read (iptables-nft: \(nftError.message); iptables-legacy: \(legacyError.message)); trying iptables-nft",
                isFallback: true)
        }
    }

    /// The backends where mssclamp's rules (or its safety net) stand now, read without side
    /// effects: iptables-legacy only when the kernel has its mangle table already, since
    /// reading it otherwise would load x_tables and create the table.
    public static func holdingRules(options: SteeringOptions) async -> [Backend] {
        await survey(options: options).holding
    }

    /// Which backends hold mssclamp's rules, and which could not be read (no privilege):
    /// "none found" is a verdict only when `unreadable` is empty. A firewall whose tool is
    /// not installed holds nothing of ours and is no obstacle.
    public static func survey(options: SteeringOptions) async -> (holding: [Backend], unreadable: [String]) {
        var found: [Backend] = []
        var unreadable: [String] = []
        for backend in Backend.allCases {
            do {
                if try await backend.firewall(options).holdsOurs() { found.append(backend) }
            } catch  where error.reason == .notInstalled {
                continue
            } catch {
                unreadable.append("\(backend.rawValue): \(error.message)")
            }
        }
        return (found, unreadable)
    }

    /// The tables x_tables (iptables-legacy) has in this network namespace, IPv4 and IPv6,
    /// as the kernel lists them, without creating any; empty when x_tables is not loaded.
    /// Nil when the kernel has them but will not show this process (the lists are root's,
    /// mode 0440): then iptables-legacy-save, which dumps what they list, shows nothing
    /// either, and only `--backend iptables-legacy` can say legacy.
    /// (`/proc/self/net`: a unit's ProcSubset=pid hides `/proc/net`, not the process's own.)
    /// An unreadable list still says "none" when no table module holds x_tables: on a stock
    /// Debian 12, ip_tables is loaded at boot with no table at all, and every confined
    /// start warned of tables it could not read.
    public static func legacyTables() -> Set<String>? {
        var names: Set<String> = []
        for (path, core) in [("/proc/self/net/ip_tables_names", "ip_tables"), ("/proc/self/net/ip6_tables_names", "ip6_tables")] {
            guard let file = fopen(path, "r") else {
                if errno == EACCES || errno == EPERM {
                    if unusedModule(core) { continue }
                    return nil
                }
                continue
            }
            defer { fclose(file) }
            var line = [CChar](repeating: 0, count: 64)
            while fgets(&line, Int32(line.count), file) != nil {
                let name = String(decoding: line.prefix { $0 != 0 && $0 != 10 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if !name.isEmpty { names.insert(name) }
            }
        }
        return names
    }

    /// Whether a loaded module has no user (`/sys/module/NAME/refcnt` is 0, readable by
    /// anyone): x_tables' core with no table module (iptable_filter, iptable_mangle, ...)
    /// holding it has no table in any namespace. False when it cannot tell (built in).
    static func unusedModule(_ name: String) -> Bool {
        guard let file = fopen("/sys/module/\(name)/refcnt", "r") else { return false }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 32)
        guard fgets(&line, Int32(line.count), file) != nil else { return false }
        return String(decoding: line.prefix { $0 != 0 && $0 != 10 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) == "0"
    }

    /// `-A` lines in both families' save output, or why the tool could not read them.
    static func ruleCount(_ backend: Backend) async -> Result<Int, FirewallError> {
        var total: Int?
        var failure: FirewallError?
        for family in IPFamily.allCases {
            let tool = backend.tools(family).save
            do {
                let result = try await FirewallTool.run(tool, [])
                guard result.status == 0 else {
                    failure = FirewallError("\(tool) exit \(result.status): \(result.error.trimmingSpaces.split(separator: "\n").first ?? "")")
                    continue
                }
                // Our own rules (a safety net left by a stopped worker) are not the host's
                // firewall: counted, they would pull the choice toward wherever we were.
                total = (total ?? 0) + IPTablesListing.rules(result.output).filter { !$0.isOurs }.count
            } catch {
                failure = error
            }
        }
        if let total { return .success(total) }
        return .failure(failure ?? FirewallError("\(backend.rawValue): no output"))
    }
}

/// The builtin chains that jump to ours: FORWARD for routed traffic (the VPN gateway case),
/// OUTPUT and POSTROUTING for traffic the host itself originates.
public enum Hook: String, Sendable, CaseIterable, Codable {
    case forward, output, postrouting

    /// Read as written, or as the chain's name (`FORWARD`: state files of earlier versions).
    public init(from decoder: any Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        guard let hook = Hook(rawValue: name.lowercased()) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "no hook '\(name)'"))
        }
        self = hook
    }

    public var chain: String { rawValue.uppercased() }
    /// An input interface exists only where a packet came in from somewhere.
    public var allowsInInterface: Bool { self == .forward }
    /// xt_policy's `--dir in` works only where a packet came in (of ours: FORWARD); `--dir
    /// out` wherever it goes out.
    public func allows(_ selector: IPsecSelector) -> Bool {
        selector == .outbound || allowsInInterface
    }
}
