import TestSupport
import Testing

/// The binary every mssclamp process runs, the worker included, must not load Foundation or
/// ICU: they were ~6.5 MB of the worker's resident memory (issue #10). One `import
/// Foundation` anywhere, or a dependency that brings it, would put them back silently.
@Suite struct LinkedLibrariesTests {
    @Test func noFoundationNoICU() {
        let result = TestSupport.run("/usr/bin/ldd", [TestSupport.binary])
        #expect(result.status == 0, "\(result.stderr)")
        // Control: the listing is a real one (libc is always there).
        #expect(result.stdout.contains("libc.so.6"), "\(result.stdout)")
        for library in ["libFoundation.so", "libFoundationInternationalization.so", "lib_FoundationICU.so", "libicu"] {
            #expect(!result.stdout.contains(library), "\(library) is linked:\n\(result.stdout)")
        }
    }
}
