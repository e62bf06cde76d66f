import Foundation
public import KinkoCore

/// One record of the live stream: a row of one of the data set's files (an order event, a trade,
/// a market, an account, a link, an announcement, a restricted-list row), as its cells in the
/// file's column order. The NDJSON form is the row's columns as JSON fields with `record` naming
/// the kind: `{"record":"order","time":1772409600002,"order_id":1,"account_id":"A6740536",…}`.
public struct StreamLine: Codable, Sendable, Equatable {
    public let file: String
    public let cells: [String]

    public init(file: String, cells: [String]) {
        self.file = file
        self.cells = cells
    }

    /// `record` values and the file each fills.
    public static let kinds: [String: String] = [
        "market": "markets", "account": "accounts", "link": "links", "order": "orders", "trade": "trades",
        "announcement": "announcements", "restricted": "restricted",
    ]
    /// The longest line accepted.
    public static let bytesMax = 4_096

    /// Reads one NDJSON line; errors name the field.
    public static func parse(_ text: Substring) throws(KinkoError) -> StreamLine {
        guard text.utf8.count <= bytesMax else { throw KinkoError(.limitExceeded, "a line is at most \(bytesMax) bytes", field: "line") }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else {
            throw KinkoError(.invalidInput, "not a JSON object", field: "line")
        }
        guard let kind = object["record"] as? String, let file = kinds[kind] else {
            throw KinkoError(.invalidInput, "must be one of \(kinds.keys.sorted().joined(separator: ", "))", field: "record")
        }
        var cells: [String] = []
        for column in MarketDataset.columns[file] ?? [] {
            switch object[column] {
            case let text as String: cells.append(text)
            case let number as NSNumber:
                cells.append(number.stringValue)
            case nil where (file == "orders" && column == "price") || column == "reason" || column == "description":
                cells.append("")
            default: throw KinkoError(.invalidInput, "is required: a string or a number", field: column)
            }
        }
        return StreamLine(file: file, cells: cells)
    }

    /// The line's own check against the markets known so far: it must read as a row of its file
    /// (numbers, enumerations, prices on the tick grid, quantities on the lot grid).
    public func check(markets: [StreamLine]) throws(KinkoError) {
        _ = try MarketDataset(lines: markets + [self], sorting: false)
    }
}

extension MarketDataset {
    /// The data set the stream's lines make, each file's rows in the lines' order; with
    /// `sorting`, order events and trades are put in time order (stably: events of the same
    /// millisecond keep the order they arrived in).
    public init(lines: [StreamLine], sorting: Bool = true) throws(KinkoError) {
        var rows: [String: [[String]]] = [:]
        for line in lines { rows[line.file, default: []].append(line.cells) }
        if sorting {
            for file in ["orders", "trades"] {
                rows[file] = rows[file]?.enumerated().sorted { (Int64($0.element[0]) ?? 0, $0.offset) < (Int64($1.element[0]) ?? 0, $1.offset) }.map(\.element)
            }
        }
        var files: [String: String] = [:]
        for file in Self.fileNames {
            let header = (Self.columns[file] ?? []).joined(separator: ",")
            files[file] = header + "\n" + (rows[file] ?? []).map { $0.map(Self.quoted).joined(separator: ",") }.joined(separator: "\n") + "\n"
        }
        try self.init(files: files)
    }

    static func quoted(_ cell: String) -> String { "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
}
