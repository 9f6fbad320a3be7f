import MSSClampCapture
import Testing

@Suite struct LinkLayerTests {
    func offset(_ link: LinkLayer, _ bytes: [UInt8]) -> Int? {
        bytes.withUnsafeBytes { link.networkOffset($0) }
    }

    let mac = [UInt8](repeating: 2, count: 12)

    @Test func ethernetWithTags() {
        #expect(offset(.ethernet, mac + [0x08, 0x00, 0x45]) == 14)
        #expect(offset(.ethernet, mac + [0x86, 0xdd, 0x60]) == 14)
        #expect(offset(.ethernet, mac + [0x81, 0x00, 0, 100, 0x08, 0x00, 0x45]) == 18)
        #expect(offset(.ethernet, mac + [0x88, 0xa8, 0, 200, 0x81, 0x00, 0, 100, 0x86, 0xdd, 0x60]) == 22)
        #expect(offset(.ethernet, mac + [0x08, 0x06]) == nil, "ARP")
        #expect(offset(.ethernet, mac + [0x81, 0x00, 0]) == nil, "tag cut short")
        #expect(offset(.ethernet, [1, 2, 3]) == nil)
    }

    @Test func cookedAndRawAndLoopback() {
        #expect(offset(.linuxCooked, [UInt8](repeating: 0, count: 14) + [0x08, 0x00]) == 16)
        #expect(offset(.linuxCooked, [UInt8](repeating: 0, count: 14) + [0x08, 0x06]) == nil)
        #expect(offset(.linuxCooked2, [0x86, 0xdd] + [UInt8](repeating: 0, count: 18)) == 20)
        #expect(offset(.raw, [0x45]) == 0)
        #expect(offset(.raw, [0x60]) == 0)
        #expect(offset(.raw, [0x15]) == nil)
        #expect(offset(.bsdLoopback, [2, 0, 0, 0, 0x45]) == 4)
        #expect(offset(.bsdLoopback, [30, 0, 0, 0, 0x60]) == 4)
        #expect(offset(.openBSDLoopback, [0, 0, 0, 24, 0x60]) == 4)
        #expect(offset(.bsdLoopback, [7, 0, 0, 0]) == nil)
    }

    @Test func dltNumbers() {
        #expect(LinkLayer(dlt: 1) == .ethernet)
        #expect(LinkLayer(dlt: 113) == .linuxCooked)
        #expect(LinkLayer(dlt: 276) == .linuxCooked2)
        #expect(LinkLayer(dlt: 12) == .raw)
        #expect(LinkLayer(dlt: 0) == .bsdLoopback)
        #expect(LinkLayer(dlt: 105).isSupported == false)
    }
}
