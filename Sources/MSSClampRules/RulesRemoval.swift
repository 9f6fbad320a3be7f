import MSSClampCore

/// `rules remove` (and the package's purge): every chain, jump and safety net carrying our
/// comment goes, whatever policy put it there, and "nothing to remove" is said only after
/// every backend was looked at. A firewall this process could not read may still hold
/// rules: that is its own verdict, never "all gone".
public enum RulesRemoval {
    public enum Verdict: Sendable, Equatable {
        /// Removed from every backend that held rules (none held any: `nothingThere`).
        case removed
        case nothingThere
        /// Some (or every) backend could not be read; what could be cleaned was.
        case couldNotLook(String)
    }

    /// With `--backend auto`: cleans every backend that holds our rules. `say` hears each
    /// line as it happens (unreadable backends first, then each removal and its notes).
    public static func everywhere(options: SteeringOptions, policy: Policy?, say: (String) -> Void) async throws(FirewallError) -> Verdict {
        let survey = await Backend.survey(options: options)
        let firewalls = survey.holding.map { $0.firewall(options) }
        for what in survey.unreadable { say("could not read: \(what)") }
        if firewalls.isEmpty && survey.unreadable.isEmpty {
            say("nothing to remove: no mssclamp rules in \(Backend.names)")
            return .nothingThere
        }
        if firewalls.isEmpty {
            return .couldNotLook("could not look: nothing removed; reading and changing the firewall needs root (or CAP_NET_ADMIN)")
        }
        try await remove(firewalls, policy: policy, say: say)
        guard survey.unreadable.isEmpty else {
            return .couldNotLook(
                "could not look at every firewall: removed from \(firewalls.map(\.backend.rawValue).joined(separator: ", ")); run as root to look at the rest"
            )
        }
        return .removed
    }

    /// Removes ours from each firewall; `policy` only names rules of another policy in the notes.
    public static func remove(_ firewalls: [any Firewall], policy: Policy?, say: (String) -> Void) async throws(FirewallError) {
        for firewall in firewalls {
            for note in try await firewall.remove(keepSafetyNet: false, policy: policy) { say("note: \(note)") }
            say("removed (\(firewall.backend.rawValue))")
        }
    }
}
