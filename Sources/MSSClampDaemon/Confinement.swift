import Glibc
import Logging
import MSSClampPrivileges
import MSSClampRules

/// The privileges the daemon runs with: every capability the backend does not need is
/// given up, `--user` is switched to, no_new_privs is set, and the process re-executes
/// itself so that all of that holds for every thread (see MSSClampPrivileges). The
/// re-executed process logs what it holds and checks what the backend will need (the
/// iptables-legacy lock) before anything is touched.
public enum Confinement {
    /// What each backend needs: nf_tables only CAP_NET_ADMIN; iptables-legacy a raw socket too.
    public static func capabilities(for backend: Backend) -> Set<Capability> {
        backend.needsRawSocket ? [.netAdmin, .netRaw] : [.netAdmin]
    }

    /// Returns only in the confined process (the first one re-executes itself).
    /// `arguments`: the command line to re-execute with; `stateDirectory` is handed to
    /// `user` so the state stays writable after the switch.
    public static func apply(
        firewall: any Firewall, user: String?, arguments: [String], stateDirectory: String, logger: Logger
    ) throws(DaemonError) {
        let keep = capabilities(for: firewall.backend)
        if getenv(Privileges.confinedMarker) == nil {
            let account: Account?
            do { account = try user.map(Account.named) } catch { throw .configuration(error.description) }
            if Privileges.needsConfining(keep: keep, user: account) {
                if let account { prepare(stateDirectory, for: account) }
                do {
                    try Privileges.confineAndReexec(keep: keep, user: account, arguments: arguments)
                } catch  where geteuid() != 0 && account == nil && Privileges.State.current().effective.isSuperset(of: keep) {
                    // Not root, already holding what the backend needs, and not allowed to
                    // drop the rest (a unit's system-call filter denies capset): its
                    // bounding set is the limit then. Said, not fatal.
                    logger.warning(
                        "privileges: cannot give up capabilities the \(firewall.backend.rawValue) backend does not need (\(error)); running with \(Privileges.State.current())"
                    )
                } catch {
                    var message = error.description
                    if firewall.backend.needsRawSocket && message.contains("CAP_NET_RAW") {
                        message += " (iptables-legacy talks to the kernel over a raw socket; grant CAP_NET_RAW too, or use --backend iptables-nft)"
                    }
                    throw DaemonError(message)
                }
            }
        }
        unsetenv(Privileges.confinedMarker)
        logger.info("privileges: \(Privileges.State.current())")
        do { try firewall.preflight() } catch { throw DaemonError(error.description) }
    }

    /// The state directory must stay writable after the switch to the user.
    static func prepare(_ directory: String, for account: Account) {
        mkdir(directory, 0o755)
        var info = stat()
        if stat(directory, &info) == 0 && info.st_uid == 0 { chown(directory, account.uid, account.gid) }
    }
}
