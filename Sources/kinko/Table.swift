import Foundation
import KinkoCore
import KinkoLedger
import KinkoGovernance

/// A plain-text table with aligned columns; numbers are right-aligned.
struct Table {
    var header: [String]
    var rows: [[String]]

    var rendered: String {
        let widths = header.indices.map { column in
            ([header[column]] + rows.map { $0[column] }).map(\.count).max() ?? 0
        }
        func line(_ cells: [String]) -> String {
            zip(cells, widths).map { cell, width in
                let padding = String(repeating: " ", count: width - cell.count)
                let numeric = !cell.isEmpty && cell.allSatisfy { $0.isNumber || $0 == "." || $0 == "-" }
                return numeric ? padding + cell : cell + padding
            }.joined(separator: "  ")
        }
        return ([line(header), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")] + rows.map(line))
            .joined(separator: "\n")
    }
}

/// Balances of accounts as a table or JSON.
struct BalanceView {
    var accounts: [(account: Account, balance: AccountBalance)]
    var assets: [UInt32: Asset]

    func render(json: Bool) -> String {
        let rows = accounts.map { entry -> [String] in
            let asset = assets[entry.account.ledger]
            let scale = asset?.scale ?? 0
            let claim = entry.account.accountClass.isClaim
            let pending = claim ? entry.balance.debitsPending : entry.balance.creditsPending
            return [String(describing: entry.account.id), entry.account.accountClass.name,
                    entry.account.owner == 0 ? "" : String(entry.account.owner), asset?.code ?? "?",
                    entry.balance.netPostedDescription(claim: claim, scale: scale),
                    Amount(units: pending).decimalString(scale: scale)]
        }
        if json {
            let items = zip(accounts, rows).map { entry, row in
                let b = entry.balance
                return """
                    {"id":"\(row[0])","class":"\(row[1])","owner":"\(row[2])","asset":"\(row[3])","balance":"\(row[4])",\
                    "outgoing_pending":"\(row[5])","debits_pending":"\(b.debitsPending)","debits_posted":"\(b.debitsPosted)",\
                    "credits_pending":"\(b.creditsPending)","credits_posted":"\(b.creditsPosted)"}
                    """
            }
            return "[" + items.joined(separator: ",\n") + "]"
        }
        return Table(header: ["account", "class", "owner", "asset", "balance", "outgoing pending"], rows: rows).rendered
    }
}

/// An NDJSON file written line by line (created or truncated, mode 0600: exports hold customer
/// balances).
final class NDJSONFile {
    private let handle: FileHandle
    private let path: String

    init(_ url: URL) throws {
        path = url.path
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]),
            let handle = FileHandle(forWritingAtPath: path)
        else {
            throw KinkoError(.invalidInput, "cannot write \(path)", field: "out")
        }
        self.handle = handle
    }

    func append(_ lines: [String]) throws {
        guard !lines.isEmpty else { return }
        try handle.write(contentsOf: Data((lines.joined(separator: "\n") + "\n").utf8))
    }

    func close() throws {
        try handle.synchronize()
        try handle.close()
    }

    static func write(_ lines: [String], to url: URL) throws {
        let file = try NDJSONFile(url)
        try file.append(lines)
        try file.close()
    }
}

/// A customer's statement as a table per account, or JSON.
struct StatementView {
    var statement: CustomerStatement

    func render(json: Bool) -> String {
        if json {
            var sections: [CanonicalJSON] = []
            for section in statement.sections {
                let claim = section.account.accountClass.isClaim
                let scale = section.asset.scale
                sections.append(.object([
                    "account": .string(String(describing: section.account.id)), "class": .string(section.account.accountClass.name),
                    "asset": .string(section.asset.code),
                    "opening": .string(section.opening.netPostedDescription(claim: claim, scale: scale)),
                    "closing": .string(section.closing.netPostedDescription(claim: claim, scale: scale)),
                    "movements": .array(section.movements.map { movement in
                        .object([
                            "time": .string(movement.transfer.timestamp.iso8601), "transfer": .string(String(describing: movement.transfer.id)),
                            "code": .string(movement.transfer.code.name), "side": .string(movement.side.rawValue),
                            "amount": .string(signed(movement, claim: claim, scale: scale)),
                            "balance": .string(movement.after.netPostedDescription(claim: claim, scale: scale)),
                        ])
                    }),
                ]))
            }
            return CanonicalJSON.object([
                "customer": .string(String(statement.owner)), "from": .string(statement.from.iso8601), "to": .string(statement.to.iso8601),
                "accounts": .array(sections),
            ]).text
        }
        var out = ["statement of customer \(statement.owner): after \(statement.from.jst) through \(statement.to.jst)"]
        if statement.sections.isEmpty { out.append("(the customer had no accounts then)") }
        for section in statement.sections {
            let claim = section.account.accountClass.isClaim
            let scale = section.asset.scale
            out.append("")
            out.append("account \(section.account.id) (\(section.account.accountClass.name), \(section.asset.code))")
            out.append("  opening balance \(section.opening.netPostedDescription(claim: claim, scale: scale)) \(section.asset.code)")
            if section.movements.isEmpty {
                out.append("  no movements in the period")
            } else {
                let rows = section.movements.map { movement in
                    [movement.transfer.timestamp.jst, String(describing: movement.transfer.id), movement.transfer.code.name,
                     signed(movement, claim: claim, scale: scale), movement.after.netPostedDescription(claim: claim, scale: scale)]
                }
                out.append(Table(header: ["time (JST)", "transfer", "code", "amount", "balance"], rows: rows).rendered
                    .split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n"))
            }
            out.append("  closing balance \(section.closing.netPostedDescription(claim: claim, scale: scale)) \(section.asset.code)")
        }
        return out.joined(separator: "\n")
    }

    /// A movement in the account's natural direction: + when it grows the balance.
    private func signed(_ movement: CustomerStatement.Movement, claim: Bool, scale: UInt8) -> String {
        let grows = (movement.side == .credit) == claim
        return (grows ? "+" : "-") + Amount(units: movement.transfer.amount).decimalString(scale: scale)
    }
}
