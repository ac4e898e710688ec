import Support
import Testing

/// One reading of byte sizes for the command line and pipeline files.
struct ByteSizeTests {
    @Test(arguments: [
        ("5GB", 5_000_000_000), ("500MB", 500_000_000), ("300KB", 300_000), ("1.5G", 1_500_000_000), ("7M", 7_000_000),
        ("2GiB", 2_147_483_648), ("3MiB", 3_145_728), ("1kib", 1024), ("10b", 10), ("1024", 1024), ("0", 0), ("0.5KB", 500)
    ])
    func sizes(_ text: String, _ bytes: Int) {
        #expect(ByteSize.parse(text) == bytes)
    }

    @Test(arguments: ["", "GB", "-5MB", "-1", "5 GB", "five", "1e300GB", "nanKB", "infMB", "5TB", "99999999999999999999"])
    func refused(_ text: String) {
        #expect(ByteSize.parse(text) == nil)
    }
}
