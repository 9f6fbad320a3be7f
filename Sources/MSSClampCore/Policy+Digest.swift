extension Policy {
    /// A short fingerprint of the whole policy, values included, carried in every rule
    /// comment mssclamp installs. Two policies whose queue rules look alike (`--mss
    /// 1361:1536 --set-mss 1300` and `--set-mss 1360` queue the same SYNs) still differ
    /// here, so `rules check` and `status` can tell the rules in force from another
    /// policy's. FNV-1a over the rules as `summary` spells them: stable across versions of
    /// Swift (unlike `hashValue`) and cheap; not a security measure.
    public var digest: String {
        var hash: UInt32 = 0x811C_9DC5
        for rule in rules {
            for byte in ((rule.name ?? "") + "\t" + rule.summary + "\n").utf8 {
                hash = (hash ^ UInt32(byte)) &* 0x0100_0193
            }
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }
}
