import Foundation
import Hummingbird
import KinkoCore
public import Logging
import OpenAPIRuntime

/// What the server may write to its log: never a credential and never a request body.
///
/// Two layers. `describe(_:)` is how the server words an error for the log: OpenAPI's
/// `ServerError` carries the whole request (its `Authorization` header) and its body, so only
/// the operation and the underlying error are kept. `RedactingLogHandler` then masks anything
/// shaped like a Kinko secret (`kinko_…` tokens, enrolment codes, console sessions) or a
/// `Bearer` credential in every message and metadata value, whoever logs it.
public enum LogRedaction {
    public static let mask = "[redacted]"
    /// The longest error description written to the log, in characters.
    public static let describedLengthMax = 500

    /// `text` with every `kinko_…` secret and every `Bearer …` credential masked.
    public static func redact(_ text: String) -> String {
        guard text.contains("kinko_") || text.range(of: "bearer", options: .caseInsensitive) != nil else { return text }
        let scalars = Array(text.unicodeScalars)
        var output = String.UnicodeScalarView()
        var index = 0
        func isSecretCharacter(_ scalar: Unicode.Scalar) -> Bool {
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "_" || scalar == "-")
        }
        func matches(_ word: String, at position: Int, caseInsensitive: Bool) -> Bool {
            let pattern = Array(word.unicodeScalars)
            guard position + pattern.count <= scalars.count else { return false }
            for (offset, expected) in pattern.enumerated() {
                let actual = scalars[position + offset]
                if caseInsensitive ? String(actual).lowercased() != String(expected) : actual != expected { return false }
            }
            return true
        }
        while index < scalars.count {
            if matches("kinko_", at: index, caseInsensitive: false) {
                var end = index + 6
                while end < scalars.count, isSecretCharacter(scalars[end]) { end += 1 }
                output.append(contentsOf: "kinko_\(mask)".unicodeScalars)
                index = end
            } else if matches("bearer", at: index, caseInsensitive: true), index + 6 < scalars.count, scalars[index + 6] == " " {
                var end = index + 7
                while end < scalars.count, scalars[end] == " " { end += 1 }
                while end < scalars.count, !scalars[end].properties.isWhitespace, scalars[end] != "\"", scalars[end] != "," { end += 1 }
                output.append(contentsOf: "Bearer \(mask)".unicodeScalars)
                index = end
            } else {
                output.append(scalars[index])
                index += 1
            }
        }
        return String(output)
    }

    /// An error as the log may show it: what failed and why, without the request it came with.
    public static func describe(_ error: any Error) -> String {
        let text: String
        switch error {
        case let error as ServerError:
            // Its description embeds the request (headers included) and the body: never log it.
            text = "operation \(error.operationID): \(describe(error.underlyingError))"
        case let error as KinkoError:
            text = "\(error.code.rawValue)\(error.field.map { " (\($0))" } ?? ""): \(error.message)"
        case is DecodingError:
            text = "decoding: \(Problem.describe(error))"
        case let error as HTTPError:
            text = "HTTP \(error.status.code)"
        default:
            text = "\(String(reflecting: type(of: error))): \(String(describing: error))"
        }
        return redact(String(text.prefix(describedLengthMax)))
    }
}

/// Passes log records on to `base` with every secret masked (see `LogRedaction`).
public struct RedactingLogHandler: LogHandler {
    public var base: any LogHandler

    public init(_ base: any LogHandler) { self.base = base }

    public var logLevel: Logger.Level {
        get { base.logLevel }
        set { base.logLevel = newValue }
    }

    public var metadata: Logger.Metadata {
        get { base.metadata }
        set { base.metadata = newValue }
    }

    public var metadataProvider: Logger.MetadataProvider? {
        get { base.metadataProvider }
        set { base.metadataProvider = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { base[metadataKey: key] }
        set { base[metadataKey: key] = newValue }
    }

    public func log(event: LogEvent) {
        var event = event
        event.message = Logger.Message(stringLiteral: LogRedaction.redact(event.message.description))
        var metadata = event.metadata.map { Self.redact($0) }
        if let error = event.error {
            // An error's own description may carry the request; log it as `describe` words it.
            metadata = (metadata ?? [:]).merging(["error": .string(LogRedaction.describe(error))]) { first, _ in first }
            event.error = nil
        }
        event.metadata = metadata
        base.log(event: event)
    }

    static func redact(_ metadata: Logger.Metadata) -> Logger.Metadata {
        metadata.mapValues(redact)
    }

    static func redact(_ value: Logger.Metadata.Value) -> Logger.Metadata.Value {
        switch value {
        case .string(let text): .string(LogRedaction.redact(text))
        case .stringConvertible(let convertible): .string(LogRedaction.redact(convertible.description))
        case .array(let values): .array(values.map(redact))
        case .dictionary(let values): .dictionary(values.mapValues(redact))
        }
    }
}
