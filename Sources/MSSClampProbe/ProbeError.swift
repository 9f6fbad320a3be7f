/// Why a probe could not run or could not finish. `usage` problems are the caller's to fix
/// (exit 2, nothing sent); `failed` ones are what the network answered (exit 1).
public enum ProbeError: Error, Sendable, Equatable, CustomStringConvertible {
    case usage(String)
    case failed(String)

    public var description: String {
        switch self {
        case .usage(let message), .failed(let message): return message
        }
    }
}
