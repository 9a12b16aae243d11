import Testing
@testable import LifeboatCore

/// `LIFEBOAT_EXCLUDE`: globs on the path relative to the watch root, `**` crossing folders.
struct ExcludeMatcherTests {
    static let defaults = ExcludeMatcher(AgentConfiguration.defaultExcludes)

    @Test(arguments: [
        "video.tmp", "a/b/c/video.tmp", "render.part", "deep/down/render.part", ".notes.txt.swp", "x/.notes.swp",
        "draft~", "a/draft~", ".#lock", "a/b/.#lock",
    ])
    func defaultsExcludeEditorAndDownloadLeftoversAtAnyDepth(_ path: String) {
        #expect(Self.defaults.excludes(path))
    }

    @Test(arguments: ["video.mp4", "a/b/final.wav", "tmp/video.mp4", "part", "a.tmp.mp4", "notes.swp.txt", "~draft", "a#b", "x.#y"])
    func defaultsKeepOrdinaryFiles(_ path: String) {
        #expect(!Self.defaults.excludes(path))
    }

    @Test func doubleStarAtTheEndTakesAWholeFolder() {
        let matcher = ExcludeMatcher(["cache/**"])
        #expect(matcher.excludes("cache"))
        #expect(matcher.excludes("cache/a.bin"))
        #expect(matcher.excludes("cache/deep/er/a.bin"))
        #expect(!matcher.excludes("cached/a.bin"))
        #expect(!matcher.excludes("data/cache/a.bin"))
    }

    @Test func doubleStarOnBothSidesMatchesAFolderAnywhere() {
        let matcher = ExcludeMatcher(["**/node_modules/**"])
        #expect(matcher.excludes("node_modules"))
        #expect(matcher.excludes("node_modules/x/index.js"))
        #expect(matcher.excludes("web/app/node_modules/left-pad/index.js"))
        #expect(!matcher.excludes("web/node_modules_backup/index.js"))
        #expect(!matcher.excludes("web/app/index.js"))
    }

    @Test func doubleStarInTheMiddleMatchesZeroOrMoreFolders() {
        let matcher = ExcludeMatcher(["a/**/b.txt"])
        #expect(matcher.excludes("a/b.txt"))
        #expect(matcher.excludes("a/x/b.txt"))
        #expect(matcher.excludes("a/x/y/b.txt"))
        #expect(!matcher.excludes("z/a/b.txt"))
        #expect(!matcher.excludes("a/x/b.txt.bak"))
        #expect(!matcher.excludes("a/x/c.txt"))
    }

    @Test func patternWithASlashIsAnchoredAtTheRoot() {
        let matcher = ExcludeMatcher(["build/*.o", "logs/today.log"])
        #expect(matcher.excludes("build/main.o"))
        #expect(!matcher.excludes("src/build/main.o"))
        #expect(!matcher.excludes("build/sub/main.o"))
        #expect(matcher.excludes("logs/today.log"))
        #expect(!matcher.excludes("old/logs/today.log"))
    }

    @Test func leadingSlashAnchorsASingleNameAtTheRoot() {
        // As in .gitignore: "/top.txt" is the root's top.txt only, not every top.txt.
        let matcher = ExcludeMatcher(["/top.txt"])
        #expect(matcher.excludes("top.txt"))
        #expect(!matcher.excludes("sub/top.txt"))
    }

    @Test func singleStarAndQuestionMarkStayWithinOneName() {
        let matcher = ExcludeMatcher(["out/*", "frame-??.png"])
        #expect(matcher.excludes("out/a.mp4"))
        #expect(!matcher.excludes("out"))
        #expect(matcher.excludes("renders/frame-01.png"))
        #expect(!matcher.excludes("renders/frame-001.png"))
    }

    @Test func noPatternsExcludeNothing() {
        let matcher = ExcludeMatcher([])
        #expect(!matcher.excludes("a.tmp"))
        #expect(!matcher.excludes("a/b/c"))
    }
}
