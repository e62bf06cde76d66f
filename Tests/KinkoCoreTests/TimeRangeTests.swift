import Foundation
import KinkoCore
import Testing

/// Every time and day a caller can send has a named range; outside it the answer is a refusal
/// naming the field, never a trap (issue 14: a day in 9999 killed the server).
@Suite("Time and day inputs")
struct TimeRangeTests {
    // Goal: times parse at both ends of the accepted range and are refused one past each, in
    // ISO 8601 and in nanoseconds; times that would overflow nanoseconds are refused.
    @Test func timesHaveANamedRange() throws {
        #expect(try TimestampNanoseconds(parsing: "2000-01-01T00:00:00Z", field: "t") == TimestampNanoseconds.earliestAccepted)
        #expect(try TimestampNanoseconds(parsing: "2199-12-31T23:59:59Z", field: "t") == 7_258_118_399_000_000_000)
        #expect(try TimestampNanoseconds(parsing: "2199-12-31T23:59:59.999Z", field: "t") == 7_258_118_399_999_000_000)
        #expect(try TimestampNanoseconds(parsing: "946684800000000000", field: "t") == 946_684_800_000_000_000)
        #expect(try TimestampNanoseconds(parsing: "7258118399999999999", field: "t") == TimestampNanoseconds.latestAccepted)
        for text in ["1999-12-31T23:59:59Z", "2200-01-01T00:00:00Z", "2262-04-12T00:00:00Z", "2555-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
                     "946684799999999999", "7258118400000000000", "18446744073709551615", "18446744073709551616", "0",
                     String(repeating: "9", count: 41), "2026-02-30T00:00:00Z", "not a time", ""] {
            let refused = #expect(throws: KinkoError.self, "\(text)") { try TimestampNanoseconds(parsing: text, field: "observed_at") }
            #expect(refused?.field == "observed_at" && refused?.code == .invalidInput, "\(text)")
        }
        #expect(throws: KinkoError.self) { try TimestampNanoseconds.checkAccepted(.max, field: "t") }
        try TimestampNanoseconds.checkAccepted(TimestampNanoseconds.latestAccepted, field: "t")
    }

    // Goal: days are real calendar days between 2000-01-01 and 2199-12-31; the epoch seconds
    // agree with Foundation's calendar for every first of the month across the range.
    @Test func daysHaveANamedRange() throws {
        #expect(try CalendarDay.parse("2000-01-01", field: "day") == (2000, 1, 1))
        #expect(try CalendarDay.parse("2199-12-31", field: "day") == (2199, 12, 31))
        #expect(try CalendarDay.parse("2024-02-29", field: "day") == (2024, 2, 29))
        #expect(try CalendarDay.parse("2000-02-29", field: "day") == (2000, 2, 29))
        for text in ["1999-12-31", "2200-01-01", "9999-12-31", "2600-01-01", "2026-02-30", "2100-02-29", "2026-13-01", "2026-00-10",
                     "2026-04-31", "2026-4-1", "2026/04/01", "２０２６-04-01", "2026-04-01\u{0}", "", "2026-04-01T00:00:00Z"] {
            let refused = #expect(throws: KinkoError.self, "\(text)") { try CalendarDay.parse(text, field: "day") }
            #expect(refused?.field == "day", "\(text)")
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try #require(TimeZone(identifier: "UTC"))
        for year in stride(from: 2000, through: 2199, by: 7) {
            for month in 1...12 {
                let text = String(format: "%04d-%02d-01", year, month)
                let date = try #require(calendar.date(from: DateComponents(year: year, month: month, day: 1)))
                #expect(try CalendarDay.epochSeconds(text, field: "day") == Int64(date.timeIntervalSince1970), "\(text)")
            }
        }
        #expect(try CalendarDay.epochSeconds("2199-12-31", field: "day") == 7_258_032_000)
    }
}
