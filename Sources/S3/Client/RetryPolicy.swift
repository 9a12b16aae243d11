/// Capped exponential backoff with full jitter (each wait is random in [0, min(cap, base·2ⁿ)]),
/// so that many clients hitting a throttled provider spread out instead of retrying in step.
public struct RetryPolicy: Sendable {
    /// Attempts in all, including the first; nil retries for as long as the error is retryable.
    public var maxAttempts: Int?
    public var baseDelay: Duration
    public var maxDelay: Duration

    public init(maxAttempts: Int? = 5, baseDelay: Duration = .milliseconds(200), maxDelay: Duration = .seconds(20)) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// No retries: for tests and for callers that schedule retries themselves.
    public static let none = RetryPolicy(maxAttempts: 1)

    public func allowsAttempt(_ attempt: Int) -> Bool {
        guard let maxAttempts else { return true }
        return attempt <= maxAttempts
    }

    /// The wait before attempt `attempt + 1`, after `attempt` attempts have failed.
    public func delay(afterAttempt attempt: Int, random: Double = Double.random(in: 0...1)) -> Duration {
        let exponent = min(max(attempt - 1, 0), 30)
        let ceiling = min(baseDelay * (1 << exponent), maxDelay)
        return ceiling * random
    }
}
