import Foundation
public import KinkoCore

/// Reads accounts and transfers from NDJSON (one JSON object a line) or CSV (a header row,
/// then one record a line; flags separated by `|`). Every line is checked before anything is
/// applied; each error names the line and the field.
///
/// Fields (snake_case, as in the API):
/// - account: `id`, `asset` (code) or `ledger`, `code`, `class`, `flags`, `owner`, `user_data_64`, `user_data_32`
/// - transfer: `id`, `debit_account_id`, `credit_account_id`, `amount` (a decimal string in
///   the asset's units, e.g. `"0.5"` BTC), `asset` or `ledger`, `code` (name or number),
///   `flags`, `pending_id`, `timeout` (seconds), `user_data_128`, `user_data_64`, `user_data_32`
public struct LedgerInput {
    public enum Format: String, Sendable, CaseIterable {
        case ndjson
        case csv

        /// `.csv` and `.csv.gz` files are CSV; everything else is NDJSON.
        public init(path: String) {
            let name = path.lowercased()
            self = name.hasSuffix(".csv") || name.hasSuffix(".csv.gz") ? .csv : .ndjson
        }
    }

    public struct LineError: Error, Equatable, Sendable, CustomStringConvertible {
        public let line: Int
        public let field: String?
        public let message: String
        public var description: String {
            "line \(line)" + (field.map { ", field \($0)" } ?? "") + ": \(message)"
        }
    }

    /// Most records one input may hold.
    public static let recordsMax = 1_000_000

    let assets: [Asset]
    let recordsMax: Int

    public init(assets: [Asset], recordsMax: Int = LedgerInput.recordsMax) {
        self.assets = assets
        self.recordsMax = recordsMax
    }

    /// A record and the line it came from.
    public struct Record<Value> {
        public let line: Int
        public let value: Value
    }

    public func transfers(_ text: String, format: Format) -> Result<[Record<Transfer>], InputErrors> {
        parse(text, format: format, transfer(from:))
    }

    public func accounts(_ text: String, format: Format) -> Result<[Record<Account>], InputErrors> {
        parse(text, format: format, account(from:))
    }

    public struct InputErrors: Error, Sendable, CustomStringConvertible {
        public let errors: [LineError]
        public var description: String { errors.map(\.description).joined(separator: "\n") }
    }

    private func parse<T>(_ text: String, format: Format, _ build: (Fields) throws(KinkoError) -> T) -> Result<[Record<T>], InputErrors> {
        let records: [(line: Int, fields: Fields)]
        var errors: [LineError] = []
        do {
            (records, errors) = try format == .csv ? (CSVRecords.records(text), []) : NDJSONReader.records(text)
        } catch let error as LineError {
            return .failure(InputErrors(errors: [error]))
        } catch {
            return .failure(InputErrors(errors: [LineError(line: 0, field: nil, message: "\(error)")]))
        }
        guard records.count <= recordsMax else {
            return .failure(InputErrors(errors: [LineError(line: records[recordsMax].line, field: nil,
                                                           message: "an input holds at most \(recordsMax) records")]))
        }
        var built: [Record<T>] = []
        for record in records {
            do {
                built.append(Record(line: record.line, value: try build(record.fields)))
            } catch {
                errors.append(LineError(line: record.line, field: error.field, message: error.message))
            }
        }
        return errors.isEmpty ? .success(built) : .failure(InputErrors(errors: errors.sorted { $0.line < $1.line }))
    }

    // MARK: Records

    private func account(from fields: Fields) throws(KinkoError) -> Account {
        try fields.rejectUnknown(["id", "asset", "ledger", "code", "class", "flags", "owner", "user_data_64", "user_data_32", "timestamp"])
        let ledger = try self.ledger(fields, required: true)
        let className = try fields.string("class", required: true) ?? ""
        guard let accountClass = AccountClass(name: className) else {
            throw KinkoError(.invalidInput, "unknown class \"\(className)\"; one of \(AccountClass.allCases.map(\.name).joined(separator: ", "))", field: "class")
        }
        return Account(
            id: try fields.id("id", required: true).map(AccountID.init) ?? AccountID(0),
            ledger: ledger,
            code: try fields.unsigned("code", max: UInt64(UInt16.max), required: true).map { UInt16($0) } ?? 0,
            accountClass: accountClass,
            flags: try AccountFlags(names: fields.list("flags")),
            owner: try fields.id("owner") ?? 0,
            userData64: try fields.unsigned("user_data_64", max: .max) ?? 0,
            userData32: try fields.unsigned("user_data_32", max: UInt64(UInt32.max)).map { UInt32($0) } ?? 0,
            timestamp: try fields.timestamp())
    }

    private func transfer(from fields: Fields) throws(KinkoError) -> Transfer {
        try fields.rejectUnknown([
            "id", "debit_account_id", "credit_account_id", "amount", "asset", "ledger", "code", "flags", "pending_id",
            "timeout", "user_data_128", "user_data_64", "user_data_32", "timestamp",
        ])
        let flags = try TransferFlags(names: fields.list("flags"))
        let inherits = flags.resolvesPending
        let ledger = try self.ledger(fields, required: !inherits)
        // A post without an amount posts all of the pending amount; a void always releases it all.
        let amountText = try fields.string("amount", required: !inherits)
        var amount: UInt128 = amountText == nil && flags.contains(.postPendingTransfer) ? Transfer.amountWholePending : 0
        if let amountText, amountText != "0" {
            guard let asset = assets.first(where: { $0.ledger == ledger }) else {
                throw KinkoError(.invalidInput, "an amount needs the asset (or ledger) it is counted in", field: "asset")
            }
            do {
                amount = try asset.parse(amountText).units
            } catch {
                throw KinkoError(error.code, error.message, field: "amount")
            }
        }
        let codeText = try fields.string("code", required: !inherits)
        var code = TransferCode(0)
        if let codeText {
            do { code = try TransferCode(parsing: codeText) } catch { throw KinkoError(error.code, error.message, field: "code") }
        }
        return Transfer(
            id: TransferID(try fields.id("id", required: true) ?? 0),
            debitAccountID: AccountID(try fields.id("debit_account_id", required: !inherits) ?? 0),
            creditAccountID: AccountID(try fields.id("credit_account_id", required: !inherits) ?? 0),
            amount: amount, ledger: ledger, code: code, flags: flags,
            pendingID: TransferID(try fields.id("pending_id", required: inherits) ?? 0),
            timeoutSeconds: try fields.unsigned("timeout", max: UInt64(UInt32.max)).map { UInt32($0) } ?? 0,
            userData128: try fields.id("user_data_128") ?? 0,
            userData64: try fields.unsigned("user_data_64", max: .max) ?? 0,
            userData32: try fields.unsigned("user_data_32", max: UInt64(UInt32.max)).map { UInt32($0) } ?? 0,
            timestamp: try fields.timestamp())
    }

    private func ledger(_ fields: Fields, required: Bool) throws(KinkoError) -> UInt32 {
        if let code = try fields.string("asset") {
            guard let asset = assets.first(where: { $0.code == code }) else {
                throw KinkoError(.assetNotFound, "unknown asset \"\(code)\"; known: \(assets.map(\.code).joined(separator: ", "))", field: "asset")
            }
            return asset.ledger
        }
        if let ledger = try fields.unsigned("ledger", max: UInt64(UInt32.max)) { return UInt32(ledger) }
        if required { throw KinkoError(.invalidInput, "asset (or ledger) is required", field: "asset") }
        return 0
    }
}

/// One record's fields as text (CSV) or JSON values (NDJSON), with typed getters whose errors
/// name the field.
struct Fields {
    var values: [String: Any]

    func rejectUnknown(_ known: Set<String>) throws(KinkoError) {
        if let unknown = values.keys.sorted().first(where: { !known.contains($0) }) {
            throw KinkoError(.invalidInput, "unknown field", field: unknown)
        }
    }

    func string(_ name: String, required: Bool = false) throws(KinkoError) -> String? {
        guard let value = values[name], !(value is NSNull) else {
            if required { throw KinkoError(.invalidInput, "is required", field: name) }
            return nil
        }
        if let text = value as? String {
            if text.isEmpty {
                if required { throw KinkoError(.invalidInput, "is required", field: name) }
                return nil
            }
            return text
        }
        if name == "amount" {
            throw KinkoError(.invalidInput, "must be a decimal string such as \"0.5\", not a JSON number", field: name)
        }
        if let number = value as? NSNumber, let integer = UInt64(exactly: number.doubleValue), number.stringValue == String(integer) {
            return String(integer)
        }
        throw KinkoError(.invalidInput, "must be a string", field: name)
    }

    func id(_ name: String, required: Bool = false) throws(KinkoError) -> UInt128? {
        guard let text = try string(name, required: required) else { return nil }
        if let value = UInt128(text) { return value }
        if let value = UInt128(uuid: text) { return value }
        throw KinkoError(.identifierInvalid, "\"\(text)\" is neither a decimal 128-bit number nor a UUID", field: name)
    }

    func unsigned(_ name: String, max: UInt64, required: Bool = false) throws(KinkoError) -> UInt64? {
        guard let text = try string(name, required: required) else { return nil }
        guard let value = UInt64(text), value <= max else {
            throw KinkoError(.invalidInput, "\"\(text)\" is not a whole number from 0 to \(max)", field: name)
        }
        return value
    }

    /// An imported event's own time: nanoseconds since the epoch, or a UTC instant such as
    /// `2020-01-01T00:00:00.000000001Z`; 0 (the ledger stamps it) when absent.
    func timestamp() throws(KinkoError) -> TimestampNanoseconds {
        guard let text = try string("timestamp") else { return 0 }
        if !text.isEmpty, text.utf8.allSatisfy({ (48...57).contains($0) }) {
            guard let value = UInt64(text) else { throw KinkoError(.invalidInput, "\(text) is past the largest timestamp", field: "timestamp") }
            return value
        }
        return try TimestampNanoseconds(parsing: text, field: "timestamp")
    }

    func list(_ name: String) throws(KinkoError) -> [String] {
        guard let value = values[name], !(value is NSNull) else { return [] }
        if let text = value as? String { return text.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) } }
        if let array = value as? [Any] {
            var names: [String] = []
            for item in array {
                guard let text = item as? String else { throw KinkoError(.invalidInput, "must be a list of names", field: name) }
                names.append(text)
            }
            return names
        }
        throw KinkoError(.invalidInput, "must be a list of names or a string of names separated by |", field: name)
    }
}

enum NDJSONReader {
    /// The records, and an error for each line that is not a JSON object.
    static func records(_ text: String) -> ([(line: Int, fields: Fields)], [LedgerInput.LineError]) {
        var records: [(line: Int, fields: Fields)] = []
        var errors: [LedgerInput.LineError] = []
        for (offset, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty else { continue }
            guard let object = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [String: Any] else {
                errors.append(LedgerInput.LineError(line: offset + 1, field: nil, message: "not a JSON object"))
                continue
            }
            records.append((offset + 1, Fields(values: object)))
        }
        return (records, errors)
    }
}

/// CSV records through `CSVTable` (RFC 4180, the reader every importer shares); empty cells are
/// absent fields.
enum CSVRecords {
    static func records(_ text: String) throws -> [(line: Int, fields: Fields)] {
        let table: CSVTable
        do { table = try CSVTable.read(text, name: "input") } catch {
            throw LedgerInput.LineError(line: error.line ?? 1, field: nil, message: error.message)
        }
        return table.rows.map { row in
            var values: [String: Any] = [:]
            for (column, cell) in zip(table.header, row.cells) where !cell.isEmpty { values[column] = cell }
            return (row.line, Fields(values: values))
        }
    }
}
