import Foundation

/// The two renderings of the signing time SigV4 needs, computed without a `DateFormatter`:
/// formatters are costly to create and not safe to share, and this runs for every request.
struct SigV4Timestamp: Sendable {
    /// `yyyyMMdd'T'HHmmss'Z'`, the `X-Amz-Date` value.
    let dateTime: String
    /// `yyyyMMdd`, the first element of the credential scope.
    let day: String

    init(_ date: Date) {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let (days, secondOfDay) = Self.floorDivide(seconds, 86_400)
        let (year, month, dayOfMonth) = Self.civilDate(fromDaysSinceEpoch: days)
        let day = Self.digits(year, width: 4) + Self.digits(month, width: 2) + Self.digits(dayOfMonth, width: 2)
        let time = Self.digits(secondOfDay / 3600, width: 2)
            + Self.digits(secondOfDay / 60 % 60, width: 2)
            + Self.digits(secondOfDay % 60, width: 2)
        self.day = day
        self.dateTime = day + "T" + time + "Z"
    }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let remainder = (value % divisor + divisor) % divisor
        return ((value - remainder) / divisor, remainder)
    }

    /// Proleptic Gregorian date of a day count since 1970-01-01, by eras of 400 years
    /// (the cycle after which the leap-year pattern repeats).
    private static func civilDate(fromDaysSinceEpoch days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let shifted = days + 719_468  // days from 0000-03-01, so leap days fall at the end of a year
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthFromMarch = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthFromMarch + 2) / 5 + 1
        let month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    private static func digits(_ value: Int64, width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}
