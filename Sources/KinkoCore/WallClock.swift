import Foundation

/// Nanoseconds since the Unix epoch, UTC. Storage keeps instants; JST appears only in reports.
public typealias TimestampNanoseconds = UInt64

/// The source of "now". Domain code takes one so tests can move time by hand.
public protocol WallClock: Sendable {
    func now() -> TimestampNanoseconds
}

/// The system's real-time clock, read in whole nanoseconds (`clock_gettime`, no `Double`).
public struct SystemWallClock: WallClock {
    public init() {}
    public func now() -> TimestampNanoseconds {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return TimestampNanoseconds(max(0, spec.tv_sec)) * 1_000_000_000 + TimestampNanoseconds(max(0, spec.tv_nsec))
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
        let (step, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let (next, past) = current.addingReportingOverflow(step)
        precondition(!overflow && !past, "a test clock advanced past UInt64 nanoseconds")
        current = next
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
    /// The earliest time an input may name: 2000-01-01T00:00:00Z (nothing an exchange records
    /// happened before; arithmetic that looks back windows from it cannot go below zero).
    public static let earliestAccepted: TimestampNanoseconds = 946_684_800_000_000_000
    /// The latest: 2199-12-31T23:59:59.999999999Z — far past any business date, far below the
    /// year 2554 where nanoseconds since 1970 overflow 64 bits, so adding any window, timeout or
    /// expiry Kinko allows to an accepted time cannot trap.
    public static let latestAccepted: TimestampNanoseconds = 7_258_118_399_999_999_999

    /// Refuses a time outside `earliestAccepted…latestAccepted`, naming `field`.
    public static func checkAccepted(_ time: TimestampNanoseconds, field: String) throws(KinkoError) {
        guard (earliestAccepted...latestAccepted).contains(time) else {
            throw KinkoError(.invalidInput, "must lie between 2000-01-01T00:00:00Z and 2199-12-31T23:59:59Z; got \(time) ns", field: field)
        }
    }

    /// Reads `2026-11-22T08:00:00Z` (fractional seconds optional, exact to the nanosecond) or a
    /// count of nanoseconds, within `earliestAccepted…latestAccepted`.
    public init(parsing text: String, field: String) throws(KinkoError) {
        guard text.utf8.count <= 40 else { throw KinkoError(.invalidInput, "a time is at most 40 characters", field: field) }
        if text.utf8.allSatisfy({ (48...57).contains($0) }) {
            guard let nanoseconds = UInt64(text) else {
                throw KinkoError(.invalidInput, "\(text) ns is past the latest accepted time (2199-12-31T23:59:59Z)", field: field)
            }
            try Self.checkAccepted(nanoseconds, field: field)
            self = nanoseconds
            return
        }
        // Foundation's parser rolls 2026-02-30 over to March: the day must be a real one first.
        guard text.utf8.count >= 10, (try? CalendarDay.parse(String(text.prefix(10)), field: field)) != nil else {
            throw KinkoError(.invalidInput, "\"\(text.prefix(40))\" is not a UTC time between 2000-01-01T00:00:00Z and 2199-12-31T23:59:59Z, such as 2026-11-22T08:00:00Z",
                             field: field)
        }
        // The fraction of a second is read exactly (1–9 digits, to the nanosecond); the rest
        // as a whole-second time.
        var whole = text
        var fraction: UInt64 = 0
        if let dot = text.firstIndex(of: ".") {
            let digits = text[text.index(after: dot)...].prefix { $0.isASCII && $0.isNumber }
            guard (1...9).contains(digits.count), let value = UInt64(digits) else {
                throw KinkoError(.invalidInput, "the fraction of a second in \"\(text)\" must be 1–9 digits", field: field)
            }
            fraction = value * [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000][9 - digits.count]
            whole = String(text[..<dot]) + text[digits.endIndex...]
        }
        guard let date = try? Date.ISO8601FormatStyle().parse(whole) else {
            throw KinkoError(.invalidInput, "\"\(text)\" is not a UTC time such as 2026-11-22T08:00:00Z", field: field)
        }
        // Checked in seconds first: converting a far date to nanoseconds would overflow.
        let seconds = date.timeIntervalSince1970
        guard seconds >= Double(Self.earliestAccepted / 1_000_000_000), seconds < Double(Self.latestAccepted / 1_000_000_000 + 1) else {
            throw KinkoError(.invalidInput, "must lie between 2000-01-01T00:00:00Z and 2199-12-31T23:59:59Z; got \(text)", field: field)
        }
        self = UInt64(seconds) * 1_000_000_000 + fraction
    }
}

extension TimestampNanoseconds {
    /// The last nanosecond of a JST calendar day: what "as of 2026-12-31" means in Japan's
    /// books (everything stamped up to 23:59:59.999999999 JST).
    public static func endOfDayJST(_ day: String, field: String) throws(KinkoError) -> TimestampNanoseconds {
        let start = try CalendarDay.epochSeconds(day, field: field) - 9 * 3_600
        return TimestampNanoseconds(start + 86_400) * 1_000_000_000 - 1
    }

    /// The first nanosecond of a JST calendar day.
    public static func startOfDayJST(_ day: String, field: String) throws(KinkoError) -> TimestampNanoseconds {
        TimestampNanoseconds(try CalendarDay.epochSeconds(day, field: field) - 9 * 3_600) * 1_000_000_000
    }

    /// An `--as-of` argument: a JST day `YYYY-MM-DD` (its end, see `endOfDayJST`) or an instant
    /// as `init(parsing:)` reads it.
    public init(asOf text: String, field: String) throws(KinkoError) {
        if text.utf8.count == 10, text.utf8.allSatisfy({ (48...57).contains($0) || $0 == 45 }) {
            self = try Self.endOfDayJST(text, field: field)
        } else {
            self = try Self(parsing: text, field: field)
        }
    }

    /// A `--from` argument: a JST day `YYYY-MM-DD` (its start) or an instant as
    /// `init(parsing:)` reads it.
    public init(from text: String, field: String) throws(KinkoError) {
        if text.utf8.count == 10, text.utf8.allSatisfy({ (48...57).contains($0) || $0 == 45 }) {
            self = try Self.startOfDayJST(text, field: field)
        } else {
            self = try Self(parsing: text, field: field)
        }
    }

    /// `2026-12-31 23:59:59 JST`: how Japanese books and reports show an instant (UTC+9, no
    /// daylight saving), to the second.
    public var jst: String {
        let seconds = Int64(self / 1_000_000_000) + 9 * 3_600
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let rest = seconds - days * 86_400
        return CalendarDay.text(daysSinceEpoch: days) + String(format: " %02d:%02d:%02d JST", rest / 3_600, rest % 3_600 / 60, rest % 60)
    }

    /// The JST calendar day this instant falls on.
    public var jstDay: String {
        let seconds = Int64(self / 1_000_000_000) + 9 * 3_600
        return CalendarDay.text(daysSinceEpoch: seconds / 86_400)
    }
}

/// A calendar day written `YYYY-MM-DD` (a JST business day, a volume's day), between
/// 2000-01-01 and 2199-12-31 and real (no February 30th).
public enum CalendarDay {
    public static let earliest = "2000-01-01"
    public static let latest = "2199-12-31"

    /// The year, month and day of `text`, or the refusal naming `field`.
    public static func parse(_ text: String, field: String) throws(KinkoError) -> (year: Int, month: Int, day: Int) {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == 45, bytes[7] == 45,
            bytes.enumerated().allSatisfy({ [4, 7].contains($0.offset) || (48...57).contains($0.element) })
        else {
            throw KinkoError(.invalidInput, "a day is written YYYY-MM-DD; got \"\(text.prefix(40))\"", field: field)
        }
        func number(_ range: Range<Int>) -> Int { bytes[range].reduce(0) { $0 * 10 + Int($1 - 48) } }
        let (year, month, day) = (number(0..<4), number(5..<7), number(8..<10))
        guard (2000...2199).contains(year) else {
            throw KinkoError(.invalidInput, "must lie between \(earliest) and \(latest); got \(text)", field: field)
        }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard (1...12).contains(month), (1...lengths[month - 1]).contains(day) else {
            throw KinkoError(.invalidInput, "\(text) is not a calendar day", field: field)
        }
        return (year, month, day)
    }

    /// `YYYY-MM-DD` of the day `days` after 1970-01-01 (Howard Hinnant's civil_from_days).
    public static func text(daysSinceEpoch days: Int64) -> String {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        return String(format: "%04d-%02d-%02d", Int(year), Int(month), Int(day))
    }

    /// Seconds from 1970-01-01T00:00:00Z to the start (00:00 UTC) of `text`.
    public static func epochSeconds(_ text: String, field: String) throws(KinkoError) -> Int64 {
        let (year, month, day) = try parse(text, field: field)
        // Days from the civil date (Howard Hinnant's days_from_civil), exact for the range.
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = y / 400
        let yoe = y - era * 400
        let m = Int64(month), d = Int64(day)
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return (era * 146_097 + doe - 719_468) * 86_400
    }
}
