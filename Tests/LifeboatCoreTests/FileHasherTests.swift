import Crypto
import Foundation
import Testing
@testable import LifeboatCore

#if canImport(Glibc)
import Glibc
#endif

/// Streaming SHA-256 of whole files and byte ranges, the digests the remote layout stores.
struct FileHasherTests {
    static func hex(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    @Test func emptyFileHasTheDigestOfNothing() throws {
        try withTemporaryDirectory { directory in
            let path = try directory.write("empty", Data())
            let digest = try FileHasher().hash(path: path)
            #expect(digest.sha256 == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
            #expect(digest.bytes == 0)
            #expect(digest.fingerprint.size == 0)
        }
    }

    @Test func abcHasTheFIPSVectorDigest() throws {
        try withTemporaryDirectory { directory in
            let path = try directory.write("abc", "abc")
            let digest = try FileHasher().hash(path: path)
            #expect(digest.sha256 == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
            #expect(digest.bytes == 3)
        }
    }

    @Test(arguments: [1000, 4096, 10_000, 1 << 20])
    func fileReadInManyBuffersHashesLikeOneShot(bufferSize: Int) throws {
        try withTemporaryDirectory { directory in
            let data = patternedData(count: 10_000)
            let path = try directory.write("data.bin", data)
            let digest = try FileHasher(bufferSize: bufferSize).hash(path: path)
            #expect(digest.sha256 == Self.hex(data))
            #expect(digest.bytes == 10_000)
        }
    }

    @Test func fingerprintIsTheFilesStat() throws {
        try withTemporaryDirectory { directory in
            let path = try directory.write("clip.mp4", patternedData(count: 1234))
            let digest = try FileHasher().hash(path: path)
            let info = try lstatInfo(path)
            #expect(digest.fingerprint == FileFingerprint(
                size: 1234, mtimeNanoseconds: info.mtimeNanoseconds, ctimeNanoseconds: info.ctimeNanoseconds,
                inode: Int64(bitPattern: UInt64(info.st_ino))))
        }
    }

    @Test(arguments: [(0, 10_000), (0, 1), (100, 500), (999, 1001), (9_000, 1_000), (5_000, 0)])
    func rangeHashCoversExactlyThoseBytes(offset: Int, length: Int) throws {
        try withTemporaryDirectory { directory in
            let data = patternedData(count: 10_000, seed: 7)
            let path = try directory.write("parts.bin", data)
            let digest = try FileHasher(bufferSize: 1000).hash(path: path, offset: Int64(offset), length: Int64(length))
            #expect(digest == Self.hex(data.subdata(in: offset..<(offset + length))))
        }
    }

    @Test func rangePastTheEndIsAChangedFile() throws {
        try withTemporaryDirectory { directory in
            let path = try directory.write("short.bin", patternedData(count: 100))
            #expect(throws: FileChangedError.self) {
                _ = try FileHasher().hash(path: path, offset: 50, length: 100)
            }
        }
    }

    @Test func missingFileIsReportedAsMissing() throws {
        try withTemporaryDirectory { directory in
            let error = #expect(throws: FileReadError.self) {
                _ = try FileHasher().hash(path: directory.url("gone.mp4"))
            }
            #expect(error?.isMissing == true)
            #expect(error?.path == directory.url("gone.mp4"))
        }
    }

    @Test func symlinkIsNotFollowedNorTakenForMissing() throws {
        try withTemporaryDirectory { directory in
            let target = try directory.write("real.txt", "real")
            #expect(symlink(target, directory.url("link.txt")) == 0)
            let error = #expect(throws: FileReadError.self) {
                _ = try FileHasher().hash(path: directory.url("link.txt"))
            }
            #expect(error?.isMissing == false)
        }
    }
}
