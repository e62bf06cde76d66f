/// The one error shape of Kinko: a stable code, a message a person can act on, the field at
/// fault when there is one, and where in our code it was raised.
///
/// Codes are static members of `KinkoError.Code`, so adding one is not a breaking change. Two
/// errors compare equal when code, message and field are equal; the source location is for logs.
public struct KinkoError: Error, Sendable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }
    }

    public let code: Code
    public let message: String
    public let field: String?
    public let file: String
    public let line: UInt
    /// For `rate_limited` and `storage_unavailable`: when to try again (HTTP `Retry-After`).
    public var retryAfterSeconds: Int?

    public init(
        _ code: Code, _ message: String, field: String? = nil,
        file: String = #fileID, line: UInt = #line
    ) {
        self.code = code
        self.message = message
        self.field = field
        self.file = file
        self.line = line
    }

    public var description: String {
        if let field { return "\(code) (\(field)): \(message)" }
        return "\(code): \(message)"
    }

    /// The same error attributed to a field of an enclosing structure, e.g. `amount` inside
    /// `line 12` becomes `line 12.amount`.
    public func within(_ outer: String) -> KinkoError {
        let path = field.map { "\(outer).\($0)" } ?? outer
        return KinkoError(code, message, field: path, file: file, line: line)
    }
}

extension KinkoError: Equatable {
    public static func == (lhs: KinkoError, rhs: KinkoError) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message && lhs.field == rhs.field
    }
}

extension KinkoError.Code {
    // Amount arithmetic.
    public static let amountOverflow = Self(rawValue: "amount_overflow")
    public static let amountUnderflow = Self(rawValue: "amount_underflow")
    public static let divisionByZero = Self(rawValue: "division_by_zero")
    // Decimal strings.
    public static let decimalEmpty = Self(rawValue: "decimal_empty")
    public static let decimalSign = Self(rawValue: "decimal_sign")
    public static let decimalExponent = Self(rawValue: "decimal_exponent")
    public static let decimalInvalidCharacter = Self(rawValue: "decimal_invalid_character")
    public static let decimalMalformed = Self(rawValue: "decimal_malformed")
    public static let decimalTooManyFractionDigits = Self(rawValue: "decimal_too_many_fraction_digits")
    public static let decimalTooLarge = Self(rawValue: "decimal_too_large")
    // Assets and valuation.
    public static let assetCodeInvalid = Self(rawValue: "asset_code_invalid")
    public static let assetScaleInvalid = Self(rawValue: "asset_scale_invalid")
    public static let assetNotFound = Self(rawValue: "asset_not_found")
    public static let valuationOverflow = Self(rawValue: "valuation_overflow")
    public static let priceScaleInvalid = Self(rawValue: "price_scale_invalid")
    // Allocation.
    public static let allocationNoWeights = Self(rawValue: "allocation_no_weights")
    public static let allocationTooManyParts = Self(rawValue: "allocation_too_many_parts")
    public static let allocationZeroTotalWeight = Self(rawValue: "allocation_zero_total_weight")
    public static let allocationWeightsOverflow = Self(rawValue: "allocation_weights_overflow")
    // Identifiers and generic input.
    public static let identifierInvalid = Self(rawValue: "identifier_invalid")
    public static let invalidInput = Self(rawValue: "invalid_input")
    public static let limitExceeded = Self(rawValue: "limit_exceeded")
    public static let notFound = Self(rawValue: "not_found")
    public static let storageCorrupted = Self(rawValue: "storage_corrupted")
    public static let storageFailure = Self(rawValue: "storage_failure")
    /// The database could not be reached or went away mid-request; nothing unacknowledged was
    /// committed, and the same request may be sent again (HTTP 503 with Retry-After).
    public static let storageUnavailable = Self(rawValue: "storage_unavailable")
    /// Too many refused requests by one principal in the window: HTTP 429 with `Retry-After`.
    public static let rateLimited = Self(rawValue: "rate_limited")
    /// A request body that ended before its declared length.
    public static let bodyIncomplete = Self(rawValue: "body_incomplete")
    /// A fault of Kinko itself (a page template that does not render): HTTP 500.
    public static let internalError = Self(rawValue: "internal_error")
    /// An optional outside program a format needs (Chromium for PDF) is not installed.
    public static let rendererUnavailable = Self(rawValue: "renderer_unavailable")
}
