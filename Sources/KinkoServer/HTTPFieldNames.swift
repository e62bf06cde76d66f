import HTTPTypes

/// The header names Kinko writes or reads beyond those HTTPTypes names.
extension HTTPField.Name {
    static let forwardedProto = named("X-Forwarded-Proto")
    static let requestID = named("X-Request-ID")
    static let csrfToken = named("X-CSRF-Token")
    static let frameOptions = named("X-Frame-Options")

    /// A field name written in our own code (a literal, so always valid).
    static func named(_ literal: StaticString) -> HTTPField.Name {
        guard let name = HTTPField.Name("\(literal)") else { preconditionFailure("\(literal) is not a valid field name") }
        return name
    }
}
