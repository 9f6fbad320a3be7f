import MSSClampFuzzChecks
import Testing

/// Every seed and every input the fuzzers ever found goes through the fuzz targets' own
/// property checks on each test run, so a fixed crash stays fixed.
@Suite struct FuzzCorpusTests {
    static let root = #filePath.split(separator: "/").dropLast(3).reduce("") { $0 + "/" + $1 } + "/Fuzz"

    func inputs(_ kind: String) -> [String] {
        FuzzMain.files(Self.root + "/seeds/" + kind).filter { !$0.hasSuffix("/" + kind) }
            + FuzzMain.files(Self.root + "/regressions/" + kind).filter { !$0.hasSuffix("/" + kind) }
    }

    @Test(arguments: ["core", "capture", "policy"])
    func seedsAndRegressionsKeepEveryProperty(kind: String) {
        let files = inputs(kind)
        #expect(files.count >= 3, "corpus for \(kind) at \(Self.root)")
        let check: ([UInt8]) -> [String] =
            switch kind {
            case "core": CoreChecks.check
            case "capture": CaptureChecks.check
            default: PolicyChecks.check
            }
        for file in files {
            #expect(check(FuzzMain.read(file)) == [], "\(file)")
        }
    }

    /// The checks can fail: a packet the core clamps, compared with a wrong expectation,
    /// and an IPv6 header without payload (the fuzz-found case) before the fix's behaviour.
    @Test func theCoreChecksSeeTheReference() {
        let seed = FuzzMain.read(Self.root + "/seeds/core/linux4-0")
        #expect(!seed.isEmpty)
        #expect(CoreChecks.comparedWithReference(seed))
        var corrupt = seed
        corrupt[7 + 20 + 16] ^= 0xff  // break the TCP checksum: still compared, not claimed valid
        #expect(CoreChecks.check(corrupt) == [])
    }
}
