public import Foundation
public import Logging

extension RemoteStore {
    /// Housekeeping shared by `run` (at start and hourly) and `resync`: a failure here is logged,
    /// never fatal, since the uploads themselves do not depend on it.
    public func removeIncompleteUploads(startedBefore cutoff: Date, logger: Logger) async {
        do {
            let removed = try await removeIncompleteUploads(startedBefore: cutoff)
            if removed > 0 { logger.info("removed \(removed) incomplete upload(s) left by an interrupted run or a lost answer") }
        } catch {
            logger.warning("could not look for incomplete uploads left by an interrupted run: \(error)")
        }
    }
}
