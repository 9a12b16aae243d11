import Crypto
import Foundation

extension SigV4Signer {
    /// The lowercase hex SHA-256 of a body, the form `payloadHash` and `x-amz-content-sha256` take.
    static func hexSHA256(_ body: some DataProtocol) -> String {
        Hex.encode(SHA256.hash(data: body))
    }
}
