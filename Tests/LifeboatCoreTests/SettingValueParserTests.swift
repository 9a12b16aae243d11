import Testing
@testable import LifeboatCore

/// The value syntaxes of the contract: durations take ms, s, m, h; sizes take KiB, MiB, GiB and bytes.
struct SettingValueParserTests {
    struct Case<Value: Sendable>: Sendable, CustomTestStringConvertible {
        var text: String
        var expected: Value
        var testDescription: String { text.isEmpty ? "(empty)" : text }
    }

    @Test(arguments: [
        Case(text: "0", expected: Duration.zero),
        Case(text: "0s", expected: .zero),
        Case(text: "100ms", expected: .milliseconds(100)),
        Case(text: "1s", expected: .seconds(1)),
        Case(text: "1.5s", expected: .milliseconds(1500)),
        Case(text: "5m", expected: .seconds(300)),
        Case(text: "1h", expected: .seconds(3600)),
        Case(text: "1h30m", expected: .seconds(5400)),
        Case(text: "2m30s", expected: .seconds(150)),
        Case(text: " 25s ", expected: .seconds(25)),
    ])
    func durationsWithUnitsAreParsed(_ example: Case<Duration>) {
        #expect(SettingValueParser.duration(example.text) == example.expected)
    }

    @Test(arguments: ["5", "fast", "", " ", "s", "-1s", "1x", "1h30", "1.2.3s", "1 s", "ms100"])
    func durationsWithoutAUnitOrNumberAreRejected(_ text: String) {
        #expect(SettingValueParser.duration(text) == nil)
    }

    @Test(arguments: [
        Case(text: "64MiB", expected: Int64(64) << 20),
        Case(text: "512KiB", expected: 512 << 10),
        Case(text: "1GiB", expected: 1 << 30),
        Case(text: "1048576", expected: 1_048_576),
        Case(text: "0", expected: 0),
        Case(text: "16 MiB", expected: 16 << 20),
    ])
    func sizesInBinaryUnitsAndBytesAreParsed(_ example: Case<Int64>) {
        #expect(SettingValueParser.size(example.text) == example.expected)
    }

    @Test(arguments: ["64MB", "-1", "x", "", "MiB", "1e6", "64mib", "1.2.3MiB", "99999999999GiB"])
    func sizesInOtherUnitsOrNotNumbersAreRejected(_ text: String) {
        #expect(SettingValueParser.size(text) == nil)
    }

    @Test(arguments: [("true", true), ("yes", true), ("1", true), ("on", true), ("FALSE", false), ("no", false), ("0", false), ("off", false)])
    func booleansInTheUsualSpellingsAreParsed(_ text: String, _ expected: Bool) {
        #expect(SettingValueParser.bool(text) == expected)
    }

    @Test func otherBooleanSpellingsAreRejected() {
        #expect(SettingValueParser.bool("maybe") == nil)
        #expect(SettingValueParser.bool("") == nil)
    }
}
