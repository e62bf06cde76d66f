import Foundation

/// Nanoseconds since the Unix epoch, UTC. Storage keeps instants; JST appears only in reports.
public typealias TimestampNanoseconds = UInt64

/// The source of "now". Domain code takes one so tests can move time by hand.
public protocol WallClock: Sendable {
    func now() -> TimestampNanoseconds
}

public struct SystemWallClock: WallClock {
    public init() {}
    public func now() -> TimestampNanoseconds {
        let seconds = Date().timeIntervalSince1970
        return TimestampNanoseconds(seconds * 1_000_000_000)
    }
}

/// A clock that only moves when told to. `@unchecked Sendable` because the one mutable field is
/// guarded by a lock.
public final class ManualWallClock: WallClock, @unchecked Sendable {
    private let lock = NSLock()
    private var current: TimestampNanoseconds

    public init(_ start: TimestampNanoseconds) { current = start }

    public func now() -> TimestampNanoseconds {
        lock.lock()
        defer { lock.unlock() }
        return current
    }

    public func advance(seconds: UInt64) {
        lock.lock()
        current += seconds * 1_000_000_000
        lock.unlock()
    }
}

extension TimestampNanoseconds {
    /// ISO 8601 in UTC with milliseconds, e.g. `2026-11-22T02:45:31.123Z`.
    public var iso8601: String {
        let date = Date(timeIntervalSince1970: Double(self / 1_000_000) / 1000)
        return date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}

extension TimestampNanoseconds {
    /// Reads `2026-11-22T08:00:00Z` (fractional seconds optional) or a count of nanoseconds.
    public init(parsing text: String, field: String) throws(KinkoError) {
        if let nanoseconds = UInt64(text) {
            self = nanoseconds
            return
        }
        let styles = [Date.ISO8601FormatStyle(includingFractionalSeconds: true), Date.ISO8601FormatStyle()]
        for style in styles {
            if let date = try? style.parse(text), date.timeIntervalSince1970 >= 0 {
                self = UInt64((date.timeIntervalSince1970 * 1000).rounded()) * 1_000_000
                return
            }
        }
        throw KinkoError(.invalidInput, "\"\(text)\" is not a UTC time such as 2026-11-22T08:00:00Z", field: field)
    }
}
