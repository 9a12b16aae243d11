/// What the watcher tells the daemon. Paths are relative to the watch root.
public enum WatchEvent: Sendable, Equatable {
    /// A file was closed after writing, or renamed into place: a candidate once it settles.
    case fileWritten(WatchRoot, String)
    /// A file was written to without being closed yet: pushes back its settle deadline.
    case fileModified(WatchRoot, String)
    /// A directory was created or moved in. Its watches are already in place; its contents must
    /// be scanned, because files may have been written before the watch existed.
    case directoryAppeared(WatchRoot, String)
    /// A directory could not be watched (watch limit); it must be rescanned periodically instead.
    case unwatchable(WatchRoot, String)
    /// The watch root itself was deleted or moved away; it is watched again when it reappears.
    case rootLost(WatchRoot)
    /// The root came back (recreated or remounted): it needs a full scan.
    case rootRestored(WatchRoot)
    /// The kernel's event queue overflowed: events were lost, only a full rescan is safe.
    case overflow
}

/// One event as the kernel reported it, before interpretation.
public struct RawInotifyEvent: Sendable, Equatable {
    public var descriptor: Int32
    public var mask: UInt32
    public var name: String?

    public init(descriptor: Int32, mask: UInt32, name: String?) {
        self.descriptor = descriptor
        self.mask = mask
        self.name = name
    }
}
