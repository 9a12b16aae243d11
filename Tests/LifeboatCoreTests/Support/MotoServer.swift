import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A moto S3 server started by `Tests/Support/moto_fixture.py`: where it listens, the key it
/// accepts and the bucket it made. One signed and one unsigned server serve the whole test run;
/// each starts on first use and stops when the test process exits.
struct MotoServer: Sendable, Decodable {
    enum Mode: String, Sendable {
        /// moto checks SigV4 signatures and IAM. It wrongly refuses keys with non-ASCII characters
        /// or parentheses and query values holding "/", so tests against it keep to plain keys.
        case signed
        /// Any credentials are accepted: for odd keys and listing with a prefix.
        case unsigned
    }

    let endpoint: String
    let accessKeyID: String
    let secretAccessKey: String
    let bucket: String
    let region: String

    enum CodingKeys: String, CodingKey {
        case endpoint, bucket, region
        case accessKeyID = "access_key_id"
        case secretAccessKey = "secret_access_key"
    }

    /// The shared server of `mode`, started on first call.
    static func shared(_ mode: Mode) async throws -> MotoServer {
        switch mode {
        case .signed: try await MotoFixture.signed.value
        case .unsigned: try await MotoFixture.unsigned.value
        }
    }
}

struct MotoFixtureError: Error, CustomStringConvertible {
    let description: String
}

extension Trait where Self == ConditionTrait {
    /// Skips (visibly) where python3 with moto and boto3 is not installed. Under CI (`CI` set)
    /// the test runs regardless, so a missing moto fails there instead of hiding the suite.
    static var requiresMoto: Self {
        .enabled("needs python3 with moto[server] and boto3 (pip install 'moto[server]' boto3)") {
            try await MotoFixture.isAvailable.value
        }
    }
}

/// Spawning and stopping the fixture processes.
enum MotoFixture {
    /// The repository root: this file is Tests/LifeboatCoreTests/Support/MotoServer.swift.
    static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.path
    }()

    static let fixtureScript = repositoryRoot + "/Tests/Support/moto_fixture.py"
    static let inspectScript = repositoryRoot + "/Tests/Support/s3_inspect.py"

    // Static lets are initialised once, on first use, so each server starts at most once per run.
    static let signed = Task { try await launch(.signed) }
    static let unsigned = Task { try await launch(.unsigned) }

    static let isAvailable = Task<Bool, any Error> {
        if ProcessInfo.processInfo.environment["CI"] != nil { return true }
        let result = try? await ChildProcess.run(["python3", "-c", "import moto.server, boto3"])
        return result?.status == 0
    }

    /// The fixtures still running, so that the exit handler can stop them.
    private static let running = Mutex<[RunningFixture]>([])

    private struct RunningFixture: @unchecked Sendable {
        // Process and FileHandle are used only under the `running` lock or from the exit handler.
        let process: Process
        let input: FileHandle
    }

    private static let exitHandler: Void = {
        atexit { MotoFixture.stopAll() }
    }()

    private static func launch(_ mode: MotoServer.Mode) async throws -> MotoServer {
        _ = exitHandler
        return try await ChildProcess.offThread { try launchBlocking(mode) }
    }

    private static func launchBlocking(_ mode: MotoServer.Mode) throws -> MotoServer {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", fixtureScript, "--\(mode.rawValue)"]
        process.environment = ChildProcess.scrubbedEnvironment()
        // The fixture keeps moto alive until its stdin reaches end of file: we hold the pipe open.
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        try process.run()
        running.withLock { $0.append(RunningFixture(process: process, input: input.fileHandleForWriting)) }

        var received = Data()
        while !received.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            received.append(chunk)
        }
        let line = received.split(separator: UInt8(ascii: "\n")).first.map { Data($0) } ?? Data()
        guard let server = try? JSONDecoder().decode(MotoServer.self, from: line) else {
            throw MotoFixtureError(description: "moto_fixture.py --\(mode.rawValue) did not report a server (its stderr above says why)")
        }
        return server
    }

    /// Closing stdin lets each fixture stop moto and exit; SIGTERM if one takes too long.
    private static func stopAll() {
        let fixtures = running.withLock { fixtures in
            defer { fixtures.removeAll() }
            return fixtures
        }
        for fixture in fixtures { try? fixture.input.close() }
        for fixture in fixtures {
            if !waitForExit(fixture.process, seconds: 10) {
                fixture.process.terminate()
                _ = waitForExit(fixture.process, seconds: 5)
            }
        }
    }

    private static func waitForExit(_ process: Process, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning {
            if Date() > deadline { return false }
            usleep(20_000)
        }
        return true
    }
}

/// Runs helper programs (python3) without blocking Swift's cooperative threads.
enum ChildProcess {
    struct Result: Sendable {
        var status: Int32
        var output: Data
        var errorOutput: Data
    }

    /// The environment without AWS_* and LIFEBOAT_* variables, which would steer boto3 or moto.
    static func scrubbedEnvironment() -> [String: String] {
        ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("AWS_") && !$0.key.hasPrefix("LIFEBOAT_") }
    }

    static func run(_ arguments: [String]) async throws -> Result {
        try await offThread {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = arguments
            process.environment = scrubbedEnvironment()
            let output = Pipe()
            let errorOutput = Pipe()
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = output
            process.standardError = errorOutput
            try process.run()
            // Drain stderr concurrently so that a chatty child cannot fill the pipe and stall.
            let errorData = SharedData()
            let drained = DispatchSemaphore(value: 0)
            let errorHandle = errorOutput.fileHandleForReading
            DispatchQueue.global().async {
                let data = errorHandle.readDataToEndOfFile()
                errorData.value.withLock { $0 = data }
                drained.signal()
            }
            let data = output.fileHandleForReading.readDataToEndOfFile()
            drained.wait()
            process.waitUntilExit()
            return Result(status: process.terminationStatus, output: data, errorOutput: errorData.value.withLock { $0 })
        }
    }

    private final class SharedData: Sendable {
        let value = Mutex(Data())
    }

    static func offThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Swift.Result { try work() })
            }
        }
    }
}

/// One object as the independent boto3 client (`Tests/Support/s3_inspect.py`) sees it.
struct InspectedObject: Sendable, Decodable {
    let key: String
    let size: Int64
    let sha256: String
    let etag: String
    let metadata: [String: String]
    let contentType: String?
    let checksumSHA256: String?

    enum CodingKeys: String, CodingKey {
        case key, size, sha256, etag, metadata
        case contentType = "content_type"
        case checksumSHA256 = "checksum_sha256"
    }

    static func list(_ server: MotoServer, prefix: String) async throws -> [InspectedObject] {
        let result = try await ChildProcess.run([
            "python3", MotoFixture.inspectScript, "--endpoint", server.endpoint, "--bucket", server.bucket,
            "--access-key-id", server.accessKeyID, "--secret-access-key", server.secretAccessKey,
            "--region", server.region, "--prefix", prefix,
        ])
        guard result.status == 0 else {
            throw MotoFixtureError(description: "s3_inspect.py failed: \(String(decoding: result.errorOutput, as: UTF8.self))")
        }
        return try JSONDecoder().decode([InspectedObject].self, from: result.output)
    }
}
