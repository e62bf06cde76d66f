/// A crypto-asset or a currency, and the ledger number that carries it.
///
/// One ledger per asset (TigerBeetle's rule): transfers only move value between accounts of
/// the same ledger, so BTC can never be added to JPY by mistake.
public struct Asset: Hashable, Sendable, Codable, CustomStringConvertible {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case crypto
        case fiat
    }

    /// Ticker such as `BTC`: 2 to 10 characters, upper-case letters and digits.
    public let code: String
    /// Decimal places of one whole unit: 8 for BTC, 18 for ETH, 6 for XRP, 0 for JPY.
    public let scale: UInt8
    public let kind: Kind
    /// The ledger number of this asset (non-zero).
    public let ledger: UInt32

    public static let codeLengthMax = 10

    public init(code: String, scale: UInt8, kind: Kind, ledger: UInt32) throws(KinkoError) {
        guard (2...Asset.codeLengthMax).contains(code.utf8.count),
            code.utf8.allSatisfy({ (65...90).contains($0) || (48...57).contains($0) })
        else {
            throw KinkoError(
                .assetCodeInvalid, "asset code \"\(code)\" must be 2–\(Asset.codeLengthMax) upper-case letters or digits",
                field: "code")
        }
        guard scale <= Amount.scaleMax else {
            throw KinkoError(.assetScaleInvalid, "scale \(scale) is above the maximum \(Amount.scaleMax)", field: "scale")
        }
        guard ledger != 0 else {
            throw KinkoError(.invalidInput, "ledger number must not be zero", field: "ledger")
        }
        self.code = code
        self.scale = scale
        self.kind = kind
        self.ledger = ledger
    }

    public var description: String { code }

    public func parse(_ decimal: String) throws(KinkoError) -> Amount {
        try Amount(decimal: decimal, scale: scale)
    }

    public func format(_ amount: Amount) -> String {
        amount.decimalString(scale: scale)
    }
}

extension Asset {
    /// The assets of the demo exchange and sensible defaults for a new database.
    public static let standard: [Asset] = {
        let rows: [(String, UInt8, Kind, UInt32)] = [
            ("JPY", 0, .fiat, 1), ("BTC", 8, .crypto, 2), ("ETH", 18, .crypto, 3), ("XRP", 6, .crypto, 4),
        ]
        return rows.compactMap { row in try? Asset(code: row.0, scale: row.1, kind: row.2, ledger: row.3) }
    }()
}
