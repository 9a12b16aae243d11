import Crypto
import Logging
import Foundation
import Testing
@testable import LifeboatCore
@testable import S3

@Test(arguments: await probeArgs()) func probe(x: Int) {
    _ = SHA256.hash(data: Data())
    _ = Logger(label: "x")
}
func probeArgs() async -> [Int] { [1] }
