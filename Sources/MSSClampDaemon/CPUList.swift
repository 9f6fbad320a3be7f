/// A CPU list as taskset(1) and the kernel's cpuset files write it: `1`, `2-3`, `0,2-3`.
public enum CPUList {
    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    /// The CPUs named, in order, without repeats; every one below `cpuCount` (the CPUs this
    /// machine has), at most 1024.
    public static func parse(_ text: String, cpuCount: Int) throws(Invalid) -> [Int] {
        var cpus: [Int] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = item.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count),
                let low = bounds.first.flatMap({ Int($0) }), let high = bounds.last.flatMap({ Int($0) }),
                low >= 0, low <= high, high < 1024
            else {
                throw Invalid(description: "'\(text)' is not a CPU list: write CPUs and ranges like 1 or 2-3 or 0,2-3")
            }
            guard high < cpuCount else {
                throw Invalid(description: "CPU \(high) does not exist: this machine has CPUs 0-\(cpuCount - 1)")
            }
            for cpu in low...high where !cpus.contains(cpu) { cpus.append(cpu) }
        }
        return cpus
    }
}
