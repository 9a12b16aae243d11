public import Foundation

/// Where mirrored files go. The uploader, restore and verify talk to the remote only through this
/// protocol; `S3Remote` and `DirectoryRemote` implement it and pass the same conformance tests.
///
/// Keys are relative to the remote's own prefix: `NAME/REL` for file REL under the watch NAME.
public protocol RemoteStore: Sendable {
    /// The remote as the user configured it (`s3://bucket/prefix`, `file:///path`); no secrets.
    var location: String { get }

    /// Stores a local file completely and returns only once the remote acknowledged it.
    func put(_ object: LocalObject) async throws -> StoredObject

    /// The object's size, ETag and Lifeboat metadata; nil when there is no such object.
    func head(key: String) async throws -> RemoteObject?

    /// Every object whose key starts with `prefix`, in pages handed to `page`.
    func list(prefix: String, page: ([RemoteObject]) async throws -> Void) async throws

    /// Streams the object into the open file `descriptor` and returns what it is.
    func get(key: String, into descriptor: Int32) async throws -> RemoteObject

    func delete(key: String) async throws

    /// Removes what interrupted uploads left behind (multipart parts, temporary files) that began
    /// before `cutoff`, so a crash or a lost answer never leaves orphans to be billed for. Uploads
    /// this process has in flight are left alone. Returns how many were removed.
    func removeIncompleteUploads(startedBefore cutoff: Date) async throws -> Int
}

/// A local file on its way to the remote, with what the journal knows about it.
public struct LocalObject: Sendable, Equatable {
    public var key: String
    public var path: String
    public var size: Int64
    /// Lowercase hex SHA-256 of the content.
    public var sha256: String
    public var mtimeNanoseconds: Int64
    /// Permission bits.
    public var mode: UInt32

    public init(key: String, path: String, size: Int64, sha256: String, mtimeNanoseconds: Int64, mode: UInt32) {
        self.key = key
        self.path = path
        self.size = size
        self.sha256 = sha256
        self.mtimeNanoseconds = mtimeNanoseconds
        self.mode = mode
    }
}

/// The remote's acknowledgement of a stored object.
public struct StoredObject: Sendable, Equatable {
    public var key: String
    public var etag: String
}

/// An object as the remote describes it. The Lifeboat metadata is nil for objects written by
/// other tools, or in a listing (which carries no metadata).
public struct RemoteObject: Sendable, Equatable {
    public var key: String
    public var size: Int64
    public var etag: String
    public var sha256: String?
    public var mtimeNanoseconds: Int64?
    public var mode: UInt32?
    public var contentType: String?

    public init(key: String, size: Int64, etag: String, sha256: String? = nil, mtimeNanoseconds: Int64? = nil, mode: UInt32? = nil, contentType: String? = nil) {
        self.key = key
        self.size = size
        self.etag = etag
        self.sha256 = sha256
        self.mtimeNanoseconds = mtimeNanoseconds
        self.mode = mode
        self.contentType = contentType
    }
}
