import Foundation
import Hummingbird

/// The console's language: one at a time, Japanese unless the visitor chose English with the
/// switch in the navigation, which is remembered in a cookie for a year.
///
/// Pages are written with every label in both languages: templates as `[[日本語|English]]`,
/// text the server composes as `both("日本語", "English")`. Either becomes a pair of private-use
/// characters (U+E000 ja U+E001 en U+E002) that `localize` resolves to one side as the page is
/// sent, so a notice carried through a redirect shows in whichever language the page is read in.
enum ConsoleLanguage: String, Sendable, CaseIterable {
    case ja, en

    static let cookie = "kinko_lang"
    /// How long the choice is remembered: a year.
    static let cookieMaxAgeSeconds = 365 * 86_400

    static let open: Character = "\u{E000}", middle: Character = "\u{E001}", close: Character = "\u{E002}"

    /// The request's language: its cookie, else Japanese.
    static func of(_ request: Request) -> ConsoleLanguage {
        request.cookies[cookie].flatMap { ConsoleLanguage(rawValue: $0.value) } ?? .ja
    }

    var other: ConsoleLanguage { self == .ja ? .en : .ja }
    /// The language's own name, as the switch offers it.
    var name: String { self == .ja ? "日本語" : "English" }

    func pick(_ ja: String, _ en: String) -> String { self == .ja ? ja : en }

    /// Text in both languages; the page shows one when it is sent.
    static func both(_ ja: String, _ en: String) -> String { "\(open)\(ja)\(middle)\(en)\(close)" }

    /// A template source with each `[[ja|en]]` written as a pair.
    static func marked(_ source: String) -> String {
        var result = "", rest = Substring(source)
        while let start = rest.range(of: "[["), let bar = rest[start.upperBound...].range(of: "|"),
              let end = rest[bar.upperBound...].range(of: "]]") {
            result += rest[..<start.lowerBound]
            result += both(String(rest[start.upperBound..<bar.lowerBound]), String(rest[bar.upperBound..<end.lowerBound]))
            rest = rest[end.upperBound...]
        }
        return result + rest
    }

    /// `text` with every pair replaced by this language's side. A pair character that is not
    /// part of a whole pair (only a user's text could hold one) is dropped.
    func localize(_ text: String) -> String {
        guard text.contains(where: { $0 == Self.open || $0 == Self.middle || $0 == Self.close }) else { return text }
        var result = "", ja = "", en = ""
        var state = 0  // 0 outside a pair, 1 in its Japanese side, 2 in its English side
        result.reserveCapacity(text.utf8.count)
        for character in text {
            switch (character, state) {
            case (Self.open, _):
                state = 1
                ja = ""
                en = ""
            case (Self.middle, 1): state = 2
            case (Self.close, 2):
                result += pick(ja, en)
                state = 0
            case (Self.middle, _), (Self.close, _): continue
            case (_, 1): ja.append(character)
            case (_, 2): en.append(character)
            default: result.append(character)
            }
        }
        return result
    }

    /// Where the switch sends the visitor back to: a console page of this host, else the overview.
    static func back(_ path: String?) -> String {
        guard let path, path.hasPrefix("/console"), !path.contains("//"), !path.contains("\\"), path.utf8.count <= 2_048 else { return "/console" }
        return path
    }
}
