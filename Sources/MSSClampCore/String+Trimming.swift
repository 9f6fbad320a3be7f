extension String {
    /// Without leading and trailing white space: for values read from a policy, and for the
    /// firewall tools' messages quoted in ours (no Foundation in the package's libraries).
    public var trimmingSpaces: String {
        var slice = Substring(self)
        while slice.first?.isWhitespace == true { slice.removeFirst() }
        while slice.last?.isWhitespace == true { slice.removeLast() }
        return String(slice)
    }
}
