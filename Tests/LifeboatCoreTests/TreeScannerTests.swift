import Foundation
import Testing
@testable import LifeboatCore

#if canImport(Glibc)
import Glibc
#endif

/// The scanner reports every regular file under a watch root, and nothing else: no symlinks
/// followed out of the tree, no FIFOs, nothing excluded.
struct TreeScannerTests {
    static func scan(_ directory: TemporaryDirectory, root: String = "root", excludes: [String] = AgentConfiguration.defaultExcludes) -> TreeScanner.Result {
        TreeScanner(root: WatchRoot(name: "output", path: directory.url(root)), excludes: ExcludeMatcher(excludes)).scan()
    }

    @Test func nestedFoldersEmptyFilesAndUnusualNamesAreAllFound() throws {
        try withTemporaryDirectory { directory in
            let names = ["top.mp4", "a/b/c/deep.wav", "empty.txt", "with space/file name.png", "vidéo/日本語 ü.mp4", "a/.hidden", "a/b/#1 (copy).json"]
            for (index, name) in names.enumerated() {
                try directory.write("root/" + name, name == "empty.txt" ? Data() : patternedData(count: 10 + index))
            }
            try directory.makeDirectory("root/empty-folder/inside")
            let result = Self.scan(directory)
            #expect(result.problems.isEmpty)
            #expect(result.files.map(\.relativePath).sorted() == names.sorted())
            #expect(result.files.first { $0.relativePath == "empty.txt" }?.fingerprint.size == 0)
        }
    }

    @Test func fingerprintAndModeAreTheFilesStat() throws {
        try withTemporaryDirectory { directory in
            let path = try directory.write("root/sub/clip.mp4", patternedData(count: 4321))
            #expect(chmod(path, 0o640) == 0)
            try setModificationTime(path, nanoseconds: 1_600_000_000_987_654_321)
            let info = try lstatInfo(path)
            let file = try #require(Self.scan(directory).files.first)
            #expect(file.relativePath == "sub/clip.mp4")
            #expect(file.fingerprint.size == 4321)
            #expect(file.fingerprint.mtimeNanoseconds == 1_600_000_000_987_654_321)
            #expect(file.fingerprint.ctimeNanoseconds == info.ctimeNanoseconds)
            #expect(file.fingerprint.inode == Int64(bitPattern: UInt64(info.st_ino)))
            #expect(file.mode == 0o640)
            #expect(FileFingerprint.current(path: path) == file.fingerprint)
        }
    }

    @Test func symlinksAreNeitherReportedNorFollowed() throws {
        try withTemporaryDirectory { directory in
            try directory.write("root/real.txt", "real")
            try directory.write("outside/secret.txt", "not part of the watch")
            try directory.write("outside/nested/more.txt", "nor this")
            #expect(symlink(directory.url("root/real.txt"), directory.url("root/link-to-file.txt")) == 0)
            #expect(symlink(directory.url("outside/secret.txt"), directory.url("root/link-outside.txt")) == 0)
            #expect(symlink(directory.url("outside"), directory.url("root/link-to-dir")) == 0)
            #expect(symlink("does-not-exist", directory.url("root/dangling")) == 0)
            let result = Self.scan(directory)
            #expect(result.files.map(\.relativePath) == ["real.txt"])
            #expect(result.problems.isEmpty)
        }
    }

    @Test func fifoIsSkippedWithoutBlocking() throws {
        try withTemporaryDirectory { directory in
            try directory.write("root/file.txt", "x")
            #expect(mkfifo(directory.url("root/pipe"), 0o644) == 0)
            let result = Self.scan(directory)
            #expect(result.files.map(\.relativePath) == ["file.txt"])
        }
    }

    @Test func excludedFilesAndFoldersArePruned() throws {
        try withTemporaryDirectory { directory in
            for name in ["keep.mp4", "render.tmp", "sub/.#lock", "sub/keep.wav", "cache/big.bin", "cache/deeper/x.bin", "web/node_modules/m/index.js", "web/app.js"] {
                try directory.write("root/" + name, name)
            }
            let result = Self.scan(directory, excludes: AgentConfiguration.defaultExcludes + ["cache/**", "**/node_modules/**"])
            #expect(result.files.map(\.relativePath).sorted() == ["keep.mp4", "sub/keep.wav", "web/app.js"])
        }
    }

    @Test func excludedFolderIsNotEvenOpened() throws {
        try withTemporaryDirectory { directory in
            try directory.write("root/private/x.bin", "x")
            try directory.write("root/ok.txt", "ok")
            // An unreadable folder would be a scan problem, unless it is pruned first.
            #expect(chmod(directory.url("root/private"), 0) == 0)
            defer { _ = chmod(directory.url("root/private"), 0o755) }
            let pruned = Self.scan(directory, excludes: ["private/**"])
            #expect(pruned.files.map(\.relativePath) == ["ok.txt"])
            #expect(pruned.problems.isEmpty)
        }
    }

    @Test func nameThatIsNotUTF8IsAProblemNotAFile() throws {
        try withTemporaryDirectory { directory in
            try directory.write("root/fine.txt", "ok")
            // "bad\xFF.bin": Latin-1 names from old archives cannot become S3 keys.
            let path = Array(directory.url("root/bad").utf8) + [0xFF] + Array(".bin".utf8) + [0]
            let descriptor = path.withUnsafeBufferPointer { bytes in
                bytes.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644) }
            }
            #expect(descriptor >= 0)
            close(descriptor)
            let result = Self.scan(directory)
            #expect(result.files.map(\.relativePath) == ["fine.txt"])
            #expect(result.problems.count == 1)
            #expect(result.problems.first?.reason.contains("UTF-8") == true)
        }
    }

    @Test func missingRootIsAProblemNotACrash() throws {
        try withTemporaryDirectory { directory in
            let result = Self.scan(directory, root: "absent")
            #expect(result.files.isEmpty)
            #expect(result.problems.count == 1)
            #expect(result.problems.first?.path == directory.url("absent"))
        }
    }

    @Test func subtreeScanReportsPathsRelativeToTheRoot() throws {
        try withTemporaryDirectory { directory in
            try directory.write("root/a/b/one.txt", "1")
            try directory.write("root/a/two.txt", "2")
            try directory.write("root/other.txt", "3")
            let scanner = TreeScanner(root: WatchRoot(name: "output", path: directory.url("root")), excludes: ExcludeMatcher([]))
            #expect(scanner.scan(subtree: "a").files.map(\.relativePath).sorted() == ["a/b/one.txt", "a/two.txt"])
        }
    }
}
