import MSSClampDaemon
import Testing

@Suite struct CPUListTests {
    @Test func taskSetSpellings() throws {
        #expect(try CPUList.parse("1", cpuCount: 2) == [1])
        #expect(try CPUList.parse("2-3", cpuCount: 8) == [2, 3])
        #expect(try CPUList.parse("0,2-3,2", cpuCount: 8) == [0, 2, 3])
    }

    @Test(arguments: ["", "a", "1-", "-1", "3-2", "1,,2", "1-2-3", "1 2"])
    func notAList(_ text: String) {
        #expect(throws: CPUList.Invalid.self) { try CPUList.parse(text, cpuCount: 8) }
    }

    @Test func cpuThatDoesNotExist() {
        #expect { try CPUList.parse("0-2", cpuCount: 2) } throws: { error in
            "\(error)" == "CPU 2 does not exist: this machine has CPUs 0-1"
        }
    }
}
