import MSSClampCore

extension IPsecState {
    /// `--assume-ipsec in|out|none` of `dry-run` and `watch` (a capture shows no IPsec
    /// policy); nil: nothing assumed.
    public init(assuming text: String?) throws(ConfigError) {
        guard let text else {
            self.init()
            return
        }
        guard let selector = IPsecSelector(rawValue: text.lowercased()) else {
            throw ConfigError(source: "--assume-ipsec", message: "'\(text)' must be in, out or none")
        }
        self.init(assuming: selector)
    }
}
