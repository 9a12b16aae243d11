public import Logging

extension RemoteStore {
    /// Start-up housekeeping shared by `run` and `resync`: a failure here is logged, never fatal,
    /// since the uploads themselves do not depend on it.
    public func removeIncompleteUploads(logger: Logger) async {
        do {
            let removed = try await removeIncompleteUploads()
            if removed > 0 { logger.info("removed \(removed) incomplete upload(s) left by an interrupted run") }
        } catch {
            logger.warning("could not look for incomplete uploads left by an interrupted run: \(error)")
        }
    }
}
