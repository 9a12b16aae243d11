import S3

/// When a failed upload is tried again. The daemon has no retry budget: a provider outage or a
/// revoked key only slows the attempts down, since outages end and credentials get fixed.
struct RetryBackoff: Sendable {
    /// Throttling, 5xx, resets: back off from a second up to five minutes.
    var transient = RetryPolicy(maxAttempts: nil, baseDelay: .seconds(1), maxDelay: .seconds(300))
    /// 403, missing bucket and the like: start at a minute, settle at fifteen.
    var permanent = RetryPolicy(maxAttempts: nil, baseDelay: .seconds(60), maxDelay: .seconds(900))

    /// "Equal jitter": half the backoff is fixed, half random, so retries never bunch at zero.
    func delay(afterAttempt attempt: Int, for error: any Error, random: Double = Double.random(in: 0...1)) -> Duration {
        let policy = Self.isTransient(error) ? transient : permanent
        let ceiling = policy.delay(afterAttempt: attempt, random: 1)
        return ceiling / 2 + ceiling / 2 * random
    }

    static func isTransient(_ error: any Error) -> Bool {
        if let error = error as? S3Error { return error.isRetryable }
        return false
    }
}
