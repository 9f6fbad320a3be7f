import MSSClampCore
import MSSClampRules

/// `ip xfrm policy` / `ip xfrm state` text.
enum XFRM {
    /// "SRC -> DST" of each tunnel-mode policy (outbound or forward: where traffic enters an SA).
    static func tunnelPolicies(_ text: String) -> [String] {
        var found: [String] = []
        var selector: String?
        var direction: String?
        for raw in text.split(separator: "\n") {
            let line = String(raw).trimmingSpaces
            if line.hasPrefix("src ") {
                let words = line.split(separator: " ")
                selector = words.count >= 4 ? "\(words[1]) -> \(words[3])" : nil
                direction = nil
            } else if line.hasPrefix("dir ") {
                direction = line.split(separator: " ").dropFirst().first.map(String.init)
            } else if line.contains("mode tunnel"), let selector, direction == "out" || direction == "fwd", !found.contains(selector) {
                found.append(selector)
            }
        }
        return found
    }

    /// The calculator's stack for the SAs: AES-GCM (rfc4106), CBC with SHA1 or SHA256, and
    /// NAT-T (espinudp encapsulation).
    static func stack(_ states: String) -> String {
        var stack = "esp-gcm"
        if states.contains("cbc(aes)") { stack = states.contains("sha256") ? "esp-cbc-sha256" : "esp-cbc-sha1" }
        if states.contains("espinudp") { stack += "+nat-t" }
        return stack
    }
}
