import Foundation
import Testing
@testable import LifeboatCore

/// The remote layout's conventions (DESIGN.md, "Remote layout"): metadata formats, content
/// types, which keys are safe as paths, and part sizes that S3 accepts.
struct RemoteLayoutTests {
    @Test(arguments: [
        (Int64(1_700_000_000_123_456_789), "1700000000.123456789"),
        (1_700_000_000_000_000_000, "1700000000"),
        (1_700_000_000_500_000_000, "1700000000.5"),
        (1_700_000_000_000_000_001, "1700000000.000000001"),
        (0, "0"),
        (-2_000_000_000, "-2"),
    ])
    func mtimeIsDecimalSecondsWithTheShortestExactFraction(_ nanoseconds: Int64, _ text: String) {
        #expect(ObjectMetadata.formatMtime(nanoseconds) == text)
        #expect(ObjectMetadata.parseMtime(text) == nanoseconds)
    }

    @Test(arguments: [("1700000000.1", Int64(1_700_000_000_100_000_000)), ("1700000000.1234567891", 1_700_000_000_123_456_789), ("12", 12_000_000_000)])
    func mtimeFromOtherToolsIsReadWithoutLosingNanoseconds(_ text: String, _ nanoseconds: Int64) {
        #expect(ObjectMetadata.parseMtime(text) == nanoseconds)
    }

    @Test(arguments: ["", "abc", "1.", "1.x", "1.2.3", ".5"])
    func malformedMtimeIsIgnored(_ text: String) {
        #expect(ObjectMetadata.parseMtime(text) == nil)
    }

    /// A file dated before 1970 (a bogus archive timestamp, `touch -d 1969-12-31`) has a
    /// negative mtime with a fraction. Formatting it must not trap: it runs inside the uploader.
    @Test func mtimeBeforeTheEpochWithAFractionIsFormattedWithoutCrashing() async {
        await #expect(processExitsWith: .success) {
            let text = ObjectMetadata.formatMtime(-1_500_000_000)
            guard text == "-1.5", ObjectMetadata.parseMtime(text) == -1_500_000_000 else { exit(1) }
        }
    }

    @Test func mtimeLessThanOneSecondBeforeTheEpochKeepsItsSign() {
        #expect(ObjectMetadata.parseMtime("-0.5") == -500_000_000)
        #expect(ObjectMetadata.parseMtime("-1.25") == -1_250_000_000)
    }

    @Test(arguments: [(UInt32(0o644), "0644"), (0o755, "0755"), (0o600, "0600"), (0o4755, "4755"), (0o7, "0007")])
    func modeIsOctalPermissionBits(_ mode: UInt32, _ text: String) {
        #expect(ObjectMetadata.formatMode(mode) == text)
        #expect(ObjectMetadata.parseMode(text) == mode)
    }

    @Test func sha256MetadataMustBeLowercaseHex() {
        #expect(ObjectMetadata.isSHA256(String(repeating: "a1", count: 32)))
        #expect(!ObjectMetadata.isSHA256(String(repeating: "A1", count: 32)))
        #expect(!ObjectMetadata.isSHA256(String(repeating: "a1", count: 31)))
        #expect(!ObjectMetadata.isSHA256(String(repeating: "g1", count: 32)))
    }

    @Test(arguments: [
        ("output/clip.mp4", "video/mp4"), ("a/b/VOICE.WAV", "audio/wav"), ("x.png", "image/png"), ("notes.txt", "text/plain; charset=utf-8"),
        ("archive.tar.gz", "application/gzip"), ("no-extension", "application/octet-stream"), ("folder.d/file", "application/octet-stream"),
        ("weights.safetensors", "application/octet-stream"), (".hidden", "application/octet-stream"),
    ])
    func contentTypeIsGuessedFromTheExtension(_ key: String, _ expected: String) {
        #expect(ContentType.forPath(key) == expected)
    }

    @Test(arguments: ["output/a.mp4", "a", "a/b/c d (1).txt", "ü/日本語", "a..b/c", "...", "a/.hidden"])
    func ordinaryKeysAreSafe(_ key: String) {
        #expect(ObjectKey.problem(with: key) == nil)
    }

    @Test(arguments: ["", "/abs", "../x", "a/../b", "a/..", "./a", "a/./b", "a//b", "a/", "a\\b", "a\u{0}b", "a\nb", "a\u{7F}b"])
    func keysThatCouldEscapeATargetAreUnsafe(_ key: String) {
        #expect(ObjectKey.problem(with: key) != nil)
    }

    @Test func objectKeyIsWatchNameThenRelativePath() {
        #expect(ObjectKey.make(watch: "output", relativePath: "a/b.mp4") == "output/a/b.mp4")
    }

    @Test func partSizeGrowsOnlyWhenTheFileWouldNeedMoreThanTenThousandParts() throws {
        let client = S3Integration.unusedClient()
        let remote = S3Remote(client: client, prefix: "", multipartThreshold: 64 << 20, partSize: 16 << 20, checksum: .off)
        #expect(remote.partSize(for: 100 << 20) == 16 << 20)
        #expect(remote.partSize(for: (16 << 20) * 10_000) == 16 << 20)
        let huge: Int64 = (16 << 20) * 10_000 + 1
        let grown = remote.partSize(for: huge)
        #expect(grown % (1 << 20) == 0)
        #expect((huge + grown - 1) / grown <= 10_000)
        let maximum: Int64 = 5 << 40
        #expect((maximum + remote.partSize(for: maximum) - 1) / remote.partSize(for: maximum) <= 10_000)
    }

    @Test func locationNamesTheBucketAndPrefixButNoCredentials() {
        let remote = S3Remote(client: S3Integration.unusedClient(), prefix: "prod/media", multipartThreshold: 64 << 20, partSize: 16 << 20, checksum: .auto)
        #expect(remote.location == "s3://lifeboat-test/prod/media")
        #expect(DirectoryRemote(root: "/mnt/backup").location == "file:///mnt/backup")
    }
}
