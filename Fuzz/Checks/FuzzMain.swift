import Glibc

#if FUZZING
    import CFuzzer
#endif

/// One entry for every fuzz target. Built with `-sanitize=fuzzer,address -D FUZZING` it
/// hands over to libFuzzer (which saves any input that traps); built normally it replays
/// the files and directories given, so a crash is reproduced without the fuzzer.
public enum FuzzMain {
    nonisolated(unsafe) static var check: ([UInt8]) -> [String] = { _ in [] }

    public static func run(_ check: @escaping ([UInt8]) -> [String]) -> Never {
        FuzzMain.check = check
        #if FUZZING
            var argc = CommandLine.argc
            var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
            exit(
                LLVMFuzzerRunDriver(&argc, &argv) { data, size in
                    FuzzMain.one(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
                    return 0
                })
        #else
            var count = 0
            for path in CommandLine.arguments.dropFirst() {
                for file in files(path) {
                    one(read(file))
                    count += 1
                }
            }
            print("replayed \(count) input(s), no violation")
            exit(0)
        #endif
    }

    /// A violated property is a crash, so the fuzzer keeps the input.
    static func one(_ data: [UInt8]) {
        let problems = check(data)
        guard problems.isEmpty else {
            fatalError(
                "property violated: " + problems.joined(separator: "; ") + " input: " + data.map { String($0, radix: 16) }.joined(separator: " "))
        }
    }

    public static func files(_ path: String) -> [String] {
        guard let directory = opendir(path) else { return [path] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if !name.hasPrefix(".") { names.append(path + "/" + name) }
        }
        return names.sorted()
    }

    public static func read(_ path: String) -> [UInt8] {
        guard let file = fopen(path, "r") else { return [] }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            if count <= 0 { break }
            bytes += chunk[0..<count]
        }
        return bytes
    }
}
