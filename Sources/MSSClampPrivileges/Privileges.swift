import CCap
import Glibc

/// Least privilege for the worker: everything but the capabilities the firewall backend needs
/// is given up before any packet is seen.
///
/// Why a re-exec: Linux capabilities belong to threads, and by the time `run` starts, the
/// Swift runtime has threads of its own that a capset(2) on one thread would leave fully
/// privileged. So the calling thread narrows itself (bounding set, permitted, effective,
/// inheritable, ambient; the user switch is process-wide), sets no_new_privs and execs the
/// same command line: the new image starts single-threaded with exactly that, and every
/// iptables it runs inherits it (through the bounding set as root, the ambient set otherwise).
public enum Privileges {
    /// Set in the environment of the re-executed process, so it does not confine again.
    public static let confinedMarker = "MSSCLAMP_CONFINED"

    /// What the process holds now.
    public struct State: Equatable, Sendable, CustomStringConvertible {
        public var uid: uid_t
        public var effective: Set<Capability>
        public var bounding: Set<Capability>
        public var ambient: Set<Capability>
        public var noNewPrivileges: Bool

        public static func current() -> State {
            var effective = Set<Capability>(), bounding = Set<Capability>(), ambient = Set<Capability>()
            let caps = cap_get_proc()
            defer { cap_free(UnsafeMutableRawPointer(caps)) }
            for value in 0...max(0, ccap_last_cap()) {
                let capability = Capability(rawValue: Int32(value))
                var flag = cap_flag_value_t(0)
                if let caps, cap_get_flag(caps, cap_value_t(value), CAP_EFFECTIVE, &flag) == 0, flag == CAP_SET { effective.insert(capability) }
                if ccap_bounding_has(Int32(value)) == 1 { bounding.insert(capability) }
                if cap_get_ambient(cap_value_t(value)) == 1 { ambient.insert(capability) }
            }
            return State(
                uid: geteuid(), effective: effective, bounding: bounding, ambient: ambient,
                noNewPrivileges: ccap_get_no_new_privs() == 1)
        }

        public var description: String {
            let names = { (set: Set<Capability>) in set.isEmpty ? "none" : set.sorted().map(\.name).joined(separator: ",") }
            let all = bounding.count == Int(ccap_last_cap()) + 1
            return "uid=\(uid) caps=\(names(effective)) bounding=\(all ? "all" : names(bounding)) no_new_privs=\(noNewPrivileges ? 1 : 0)"
        }
    }

    /// How to run with `missing`, in the words an operator can paste.
    public static func grantHint(_ missing: Set<Capability>) -> String {
        let flags = missing.sorted().map { "+" + $0.name.dropFirst(4).lowercased() }.joined(separator: ",")
        return
            "Run it as root (sudo), as the service (systemctl start mssclamp), or grant it: setpriv --inh-caps=\(flags) --ambient-caps=\(flags) mssclamp run ..."
    }

    /// Whether `confine` has anything to do: more than `keep` held or allowed, a user to
    /// become, or no_new_privs unset.
    public static func needsConfining(keep: Set<Capability>, user: Account?) -> Bool {
        let state = State.current()
        if let user, state.uid != user.uid { return true }
        return !state.effective.isSubset(of: keep) || !state.bounding.isSubset(of: keep) || !state.noNewPrivileges
    }

    /// Narrows this thread to `keep` (as `user`, when given), sets no_new_privs and re-execs
    /// `arguments`. Returns only by throwing.
    public static func confineAndReexec(keep: Set<Capability>, user: Account?, arguments: [String]) throws(PrivilegeError) -> Never {
        let state = State.current()
        let missing = keep.subtracting(state.effective)
        guard missing.isEmpty else {
            throw PrivilegeError(
                "mssclamp needs \(missing.sorted().map(\.name).joined(separator: " and ")); this process lacks it (uid=\(state.uid), holding \(state.effective.isEmpty ? "no capabilities" : state.effective.sorted().map(\.name).joined(separator: ","))). \(Privileges.grantHint(missing))"
            )
        }
        if let user, user.uid != state.uid {
            guard state.effective.isSuperset(of: [.setuid, .setgid]) else {
                throw PrivilegeError("--user \(user.name): switching user needs root (CAP_SETUID and CAP_SETGID)")
            }
            guard ccap_set_keep_caps(1) == 0 else { throw PrivilegeError.errno("prctl(PR_SET_KEEPCAPS)") }
            // glibc applies these to every thread of the process.
            guard setgroups(0, nil) == 0 else { throw PrivilegeError.errno("setgroups") }
            guard setresgid(user.gid, user.gid, user.gid) == 0 else { throw PrivilegeError.errno("setresgid(\(user.gid))") }
            guard setresuid(user.uid, user.uid, user.uid) == 0 else { throw PrivilegeError.errno("setresuid(\(user.uid))") }
        }
        // Dropping from the bounding set needs CAP_SETPCAP in effect, which the uid change
        // cleared from the effective set (keep-caps kept it permitted).
        try setCapabilities(permitted: state.effective, effective: keep.union([.setpcap]).intersection(state.effective), inheritable: keep)
        // Without CAP_SETPCAP (an unprivileged user given CAP_NET_ADMIN) the bounding set
        // stays as it is: with no_new_privs, nothing executed can gain from it anyway.
        let canNarrowBounding = state.effective.contains(.setpcap)
        for value in 0...max(0, ccap_last_cap()) where canNarrowBounding && !keep.contains(Capability(rawValue: Int32(value))) {
            if ccap_bounding_has(Int32(value)) == 1, ccap_bounding_drop(Int32(value)) != 0 {
                throw PrivilegeError.errno("prctl(PR_CAPBSET_DROP, \(Capability(rawValue: Int32(value)).name))")
            }
        }
        try setCapabilities(permitted: keep, effective: keep, inheritable: keep)
        for capability in keep where ccap_ambient_raise(capability.rawValue) != 0 {
            throw PrivilegeError.errno("prctl(PR_CAP_AMBIENT_RAISE, \(capability.name))")
        }
        guard ccap_set_no_new_privs() == 0 else { throw PrivilegeError.errno("prctl(PR_SET_NO_NEW_PRIVS)") }
        setenv(confinedMarker, "1", 1)
        let argv = arguments.map { strdup($0) } + [nil]
        execv("/proc/self/exe", argv)
        throw PrivilegeError.errno("execv(/proc/self/exe)")
    }

    static func setCapabilities(permitted: Set<Capability>, effective: Set<Capability>, inheritable: Set<Capability>) throws(PrivilegeError) {
        guard let caps = cap_init() else { throw PrivilegeError.errno("cap_init") }
        defer { cap_free(UnsafeMutableRawPointer(caps)) }
        for (flag, set) in [(CAP_PERMITTED, permitted), (CAP_EFFECTIVE, effective), (CAP_INHERITABLE, inheritable)] where !set.isEmpty {
            var values = set.map { cap_value_t($0.rawValue) }
            guard cap_set_flag(caps, flag, Int32(values.count), &values, CAP_SET) == 0 else { throw PrivilegeError.errno("cap_set_flag") }
        }
        guard cap_set_proc(caps) == 0 else { throw PrivilegeError.errno("cap_set_proc") }
    }
}

/// A capability, by its number in linux/capability.h.
public struct Capability: Hashable, Comparable, Sendable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let setgid = Capability(rawValue: 6)
    public static let setuid = Capability(rawValue: 7)
    public static let setpcap = Capability(rawValue: 8)
    public static let netAdmin = Capability(rawValue: 12)
    public static let netRaw = Capability(rawValue: 13)

    /// CAP_NET_ADMIN, as libcap spells it in upper case.
    public var name: String {
        guard let text = cap_to_name(cap_value_t(rawValue)) else { return "cap_\(rawValue)" }
        defer { cap_free(UnsafeMutableRawPointer(text)) }
        return String(cString: text).uppercased()
    }

    public static func < (a: Capability, b: Capability) -> Bool { a.rawValue < b.rawValue }
}

/// A user to run as, from the passwd database.
public struct Account: Sendable, Equatable {
    public let name: String
    public let uid: uid_t
    public let gid: gid_t

    public init(name: String, uid: uid_t, gid: gid_t) {
        self.name = name
        self.uid = uid
        self.gid = gid
    }

    public static func named(_ name: String) throws(PrivilegeError) -> Account {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getpwnam_r(name, &entry, &buffer, buffer.count, &result) == 0, let found = result else {
            throw PrivilegeError("--user \(name): no such user (getpwnam)")
        }
        return Account(name: name, uid: found.pointee.pw_uid, gid: found.pointee.pw_gid)
    }
}

public struct PrivilegeError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
    static func errno(_ call: String) -> PrivilegeError {
        PrivilegeError("\(call): \(String(cString: strerror(Glibc.errno)))")
    }
}
