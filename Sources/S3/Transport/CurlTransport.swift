public import Foundation
import CCurl
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// HTTP over libcurl. Easy handles are pooled so that connections (and TLS sessions) are reused
/// between requests; each transfer runs on a thread of its own because curl blocks.
public final class CurlTransport: Sendable {
    public struct Configuration: Sendable {
        /// CA bundle for TLS; nil uses curl's built-in default.
        public var caBundlePath: String?
        public var connectTimeoutSeconds: Int
        /// A transfer slower than one byte per second for this long is abandoned (a stalled connection).
        public var stallTimeoutSeconds: Int

        public init(caBundlePath: String? = nil, connectTimeoutSeconds: Int = 10, stallTimeoutSeconds: Int = 60) {
            self.caBundlePath = caBundlePath
            self.connectTimeoutSeconds = connectTimeoutSeconds
            self.stallTimeoutSeconds = stallTimeoutSeconds
        }

        /// The CA bundle AWS tools honour, then OpenSSL's variable: users already set these for aws-cli.
        public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Configuration {
            let bundle = [environment["AWS_CA_BUNDLE"], environment["SSL_CERT_FILE"]]
                .compactMap { $0 }
                .first { !$0.isEmpty }
            return Configuration(caBundlePath: bundle)
        }
    }

    private let configuration: Configuration
    private let idleHandles = Mutex<[EasyHandle]>([])

    public init(configuration: Configuration = .fromEnvironment()) {
        Self.initialiseCurlOnce
        self.configuration = configuration
    }

    /// curl_global_init is not thread-safe; a static let runs it exactly once.
    private static let initialiseCurlOnce: Void = {
        curl_global_init(Int(CURL_GLOBAL_ALL))
    }()

    deinit {
        idleHandles.withLock { handles in
            for handle in handles { curl_easy_cleanup(handle.pointer) }
            handles.removeAll()
        }
    }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let handle = checkOut()
        defer { checkIn(handle) }
        let cancelled = CancellationFlag()
        // curl blocks a thread; cancelling the task makes the progress callback abort the transfer.
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                // A thread of its own per transfer: a blocked Dispatch worker would hold up the
                // cooperative pool (journal reads, the HTTP endpoint) on a two-core machine.
                let thread = Thread {
                    continuation.resume(with: Result { try self.perform(request, on: handle, cancelled: cancelled) })
                }
                thread.name = "lifeboat-http"
                thread.start()
            }
        } onCancel: {
            cancelled.set()
        }
    }

    /// 512 KiB: curl's upper limit for download buffers, and well within its upload limit.
    static let streamBufferSize = 512 * 1024

    private func checkOut() -> EasyHandle {
        if let handle = idleHandles.withLock({ $0.popLast() }) { return handle }
        return EasyHandle(pointer: curl_easy_init())
    }

    private func checkIn(_ handle: EasyHandle) {
        idleHandles.withLock { $0.append(handle) }
    }

    private func perform(_ request: HTTPRequest, on handle: EasyHandle, cancelled: CancellationFlag) throws -> HTTPResponse {
        let curl = handle.pointer
        // reset forgets the previous request's options but keeps live connections and the TLS session cache.
        curl_easy_reset(curl)
        let transfer = Transfer(request: request, cancelled: cancelled)
        if case .file(let path, let offset, let length) = request.body {
            try transfer.openSource(path: path, offset: offset, length: length)
        }
        defer { transfer.closeSource() }

        var headerList: UnsafeMutablePointer<curl_slist>?
        for header in request.headers {
            headerList = curl_slist_append(headerList, "\(header.name): \(header.value)")
        }
        // curl would otherwise wait for "100 Continue" before large bodies: a round trip per upload.
        headerList = curl_slist_append(headerList, "Expect:")
        // curl labels every POST as a form unless told otherwise; S3 would try to parse it as one.
        if request.method == "POST", !request.headers.contains(where: { $0.name.lowercased() == "content-type" }) {
            headerList = curl_slist_append(headerList, "Content-Type:")
        }
        defer { curl_slist_free_all(headerList) }

        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        defer { errorBuffer.deallocate() }

        let context = Unmanaged.passUnretained(transfer).toOpaque()
        _ = lifeboat_curl_setopt_string(curl, CURLOPT_URL, request.url)
        _ = lifeboat_curl_setopt_slist(curl, CURLOPT_HTTPHEADER, headerList)
        _ = lifeboat_curl_setopt_long(curl, CURLOPT_NOSIGNAL, 1)
        _ = lifeboat_curl_setopt_long(curl, CURLOPT_TCP_KEEPALIVE, 1)
        _ = lifeboat_curl_setopt_long(curl, CURLOPT_CONNECTTIMEOUT, configuration.connectTimeoutSeconds)
        _ = lifeboat_curl_setopt_long(curl, CURLOPT_LOW_SPEED_LIMIT, 1)
        _ = lifeboat_curl_setopt_long(curl, CURLOPT_LOW_SPEED_TIME, configuration.stallTimeoutSeconds)
        _ = lifeboat_curl_setopt_pointer(curl, CURLOPT_ERRORBUFFER, errorBuffer)
        if let bundle = configuration.caBundlePath {
            _ = lifeboat_curl_setopt_string(curl, CURLOPT_CAINFO, bundle)
        }
        _ = lifeboat_curl_setopt_callback(curl, CURLOPT_HEADERFUNCTION, headerCallback)
        _ = lifeboat_curl_setopt_pointer(curl, CURLOPT_HEADERDATA, context)
        _ = lifeboat_curl_setopt_callback(curl, CURLOPT_WRITEFUNCTION, writeCallback)
        _ = lifeboat_curl_setopt_pointer(curl, CURLOPT_WRITEDATA, context)
        _ = lifeboat_curl_setopt_long(curl, CURLOPT_NOPROGRESS, 0)
        _ = lifeboat_curl_setopt_progress(curl, progressCallback)
        _ = lifeboat_curl_setopt_pointer(curl, CURLOPT_XFERINFODATA, context)
        // Bodies that stream to or from a file move in large chunks: curl's defaults (16 KiB down,
        // 64 KiB up) cost a system call on each side per chunk, which shows in the CPU time of a
        // restore or an upload more than the copying itself.
        if case .fileDescriptor = request.response {
            _ = lifeboat_curl_setopt_long(curl, CURLOPT_BUFFERSIZE, Self.streamBufferSize)
        }
        if case .file = request.body {
            _ = lifeboat_curl_setopt_long(curl, CURLOPT_UPLOAD_BUFFERSIZE, Self.streamBufferSize)
        }

        switch request.method {
        case "GET":
            break
        case "HEAD":
            _ = lifeboat_curl_setopt_long(curl, CURLOPT_NOBODY, 1)
        case "PUT":
            _ = lifeboat_curl_setopt_long(curl, CURLOPT_UPLOAD, 1)
            _ = lifeboat_curl_setopt_off(curl, CURLOPT_INFILESIZE_LARGE, curl_off_t(transfer.bodyLength))
            _ = lifeboat_curl_setopt_callback(curl, CURLOPT_READFUNCTION, readCallback)
            _ = lifeboat_curl_setopt_pointer(curl, CURLOPT_READDATA, context)
        case "POST":
            _ = lifeboat_curl_setopt_long(curl, CURLOPT_POST, 1)
            _ = lifeboat_curl_setopt_off(curl, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(transfer.bodyLength))
            _ = lifeboat_curl_setopt_callback(curl, CURLOPT_READFUNCTION, readCallback)
            _ = lifeboat_curl_setopt_pointer(curl, CURLOPT_READDATA, context)
        default:
            _ = lifeboat_curl_setopt_string(curl, CURLOPT_CUSTOMREQUEST, request.method)
        }

        let code = curl_easy_perform(curl)
        if cancelled.isSet { throw CancellationError() }
        if let sourceError = transfer.sourceError { throw sourceError }
        if let sinkError = transfer.sinkError { throw sinkError }
        guard code == CURLE_OK else {
            let detail = String(cString: errorBuffer)
            let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
            throw TransportError(curlCode: Int(code.rawValue), message: message)
        }
        return HTTPResponse(status: lifeboat_curl_response_code(curl), headers: transfer.responseHeaders, body: transfer.responseBody)
    }
}

/// A curl easy handle; only ever used by one transfer at a time, which the pool guarantees.
private struct EasyHandle: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer?
}

/// State shared with curl's C callbacks for the duration of one blocking transfer.
private final class Transfer {
    let request: HTTPRequest
    let cancelled: CancellationFlag
    var responseHeaders: [HTTPHeader] = []
    var responseBody = Data()
    var status = 0
    var sourceError: UploadSourceError?
    var sinkError: TransportError?

    private var bytes: Data?
    private var sourceDescriptor: Int32 = -1
    private var sourcePath = ""
    private var nextOffset: Int64 = 0
    private(set) var bodyLength: Int64 = 0
    private var remaining: Int64 = 0

    init(request: HTTPRequest, cancelled: CancellationFlag) {
        self.request = request
        self.cancelled = cancelled
        if case .bytes(let data) = request.body {
            bytes = data
            bodyLength = Int64(data.count)
            remaining = bodyLength
        }
    }

    func openSource(path: String, offset: Int64, length: Int64) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard descriptor >= 0 else {
            throw UploadSourceError(path: path, reason: "cannot open for upload: \(String(cString: strerror(errno)))")
        }
        sourceDescriptor = descriptor
        sourcePath = path
        nextOffset = offset
        bodyLength = length
        remaining = length
    }

    func closeSource() {
        if sourceDescriptor >= 0 { close(sourceDescriptor) }
        sourceDescriptor = -1
    }

    /// Fills curl's buffer from the body; returns the byte count, 0 at the end, or abort.
    func readBody(into buffer: UnsafeMutablePointer<CChar>, capacity: Int) -> Int {
        let wanted = Int(min(Int64(capacity), remaining))
        if wanted == 0 { return 0 }
        if let bytes {
            let start = bytes.count - Int(remaining)
            bytes.copyBytes(to: UnsafeMutableRawPointer(buffer).assumingMemoryBound(to: UInt8.self), from: start..<(start + wanted))
            remaining -= Int64(wanted)
            return wanted
        }
        let got = pread(sourceDescriptor, buffer, wanted, off_t(nextOffset))
        guard got > 0 else {
            // A file that shrank under us must not be sent padded or short: abort the request.
            let reason = got < 0 ? "read failed: \(String(cString: strerror(errno)))" : "file shrank while it was being uploaded"
            sourceError = UploadSourceError(path: sourcePath, reason: reason)
            return lifeboat_curl_readfunc_abort()
        }
        nextOffset += Int64(got)
        remaining -= Int64(got)
        return got
    }

    /// One raw header line as curl hands it over, CRLF included. Parsed on the bytes: this runs for
    /// every header of every response, and Foundation's trimming costs more than the upload of a
    /// small file.
    func receiveHeader(_ line: UnsafeRawBufferPointer) {
        let bytes = line.bindMemory(to: UInt8.self)
        if bytes.starts(with: "HTTP/".utf8) {
            // A new status line (after a 100 Continue or a redirect): earlier headers belong to another answer.
            responseHeaders.removeAll()
            let fields = bytes.split(separator: UInt8(ascii: " "), maxSplits: 2)
            status = fields.count > 1 ? Int(String(decoding: fields[1], as: UTF8.self)) ?? 0 : 0
            return
        }
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else { return }
        let name = Self.trimmed(bytes[..<colon]).map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
        let value = Self.trimmed(bytes[(colon + 1)...])
        responseHeaders.append(HTTPHeader(String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
    }

    /// Without leading and trailing spaces, tabs, CR and LF.
    private static func trimmed(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> Slice<UnsafeBufferPointer<UInt8>> {
        let isBlank = { (byte: UInt8) in byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }
        guard let first = bytes.firstIndex(where: { !isBlank($0) }), let last = bytes.lastIndex(where: { !isBlank($0) }) else {
            return bytes[bytes.startIndex..<bytes.startIndex]
        }
        return bytes[first...last]
    }

    /// Returns false to make curl stop the transfer (a failed local write).
    func receiveBody(_ chunk: UnsafeRawBufferPointer) -> Bool {
        if case .fileDescriptor(let descriptor) = request.response, (200..<300).contains(status) {
            var offset = 0
            while offset < chunk.count {
                let written = write(descriptor, chunk.baseAddress! + offset, chunk.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    sinkError = TransportError(curlCode: 23, message: "writing the download failed: \(String(cString: strerror(errno)))")
                    return false
                }
                offset += written
            }
            return true
        }
        responseBody.append(chunk.bindMemory(to: UInt8.self))
        return true
    }
}

/// Set from another thread when the awaiting task is cancelled; read by curl's progress callback.
private final class CancellationFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    func set() { flag.store(true, ordering: .relaxed) }
    var isSet: Bool { flag.load(ordering: .relaxed) }
}

private let progressCallback: lifeboat_curl_progress_callback = { context, _, _, _, _ in
    guard let context else { return 0 }
    // Non-zero aborts the transfer with CURLE_ABORTED_BY_CALLBACK.
    return Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue().cancelled.isSet ? 1 : 0
}

private let readCallback: lifeboat_curl_data_callback = { buffer, size, count, context in
    guard let buffer, let context else { return 0 }
    let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
    return transfer.readBody(into: buffer, capacity: size * count)
}

private let writeCallback: lifeboat_curl_data_callback = { buffer, size, count, context in
    guard let buffer, let context else { return 0 }
    let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
    let length = size * count
    return transfer.receiveBody(UnsafeRawBufferPointer(start: buffer, count: length)) ? length : 0
}

private let headerCallback: lifeboat_curl_data_callback = { buffer, size, count, context in
    guard let buffer, let context else { return 0 }
    let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
    let length = size * count
    transfer.receiveHeader(UnsafeRawBufferPointer(start: buffer, count: length))
    return length
}
