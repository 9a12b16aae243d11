import Crypto
import S3

#if canImport(Glibc)
import Glibc
#endif

/// SHA-256 of everything in an open file, read with pread from offset 0: restore re-reads the
/// temporary file it just downloaded, and hashes local files it opened without following links.
/// Path-based hashing (`FileHasher`) would resolve the path again and could be steered by a
/// symlink swapped in between.
enum DescriptorDigest {
    static let bufferSize = 1 << 20

    /// The lowercase hex digest and the number of bytes read.
    static func sha256(of descriptor: Int32, path: String) throws(FileReadError) -> (sha256: String, bytes: Int64) {
        var hasher = SHA256()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 64)
        defer { buffer.deallocate() }
        var position: Int64 = 0
        while true {
            let count = pread(descriptor, buffer.baseAddress, bufferSize, off_t(position))
            if count < 0 {
                if errno == EINTR { continue }
                throw FileReadError(path: path, errno: errno)
            }
            if count == 0 { break }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[..<count]))
            position += Int64(count)
        }
        return (Hex.encode(hasher.finalize()), position)
    }
}
