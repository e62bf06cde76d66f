import CSV
import Foundation

/// A CSV document as every Kinko importer reads it: RFC 4180 (comma-separated; a cell may be
/// quoted with `"`, a doubled `""` inside is one quote, and a quoted cell may span lines), parsed
/// by CSV.swift. The first row names the columns (trimmed of spaces). Blank rows are skipped;
/// every other row has exactly as many cells as the header. Each row keeps the line it starts
/// on, so errors name the line a person sees in an editor.
public struct CSVTable: Sendable {
    /// One data row and the line of the file it starts on (the header is line 1).
    public struct Row: Sendable {
        public let line: Int
        public let cells: [String]

        public subscript(column: Int) -> String { cells[column] }
    }

    /// Why a text is not a table, and where.
    public struct Malformed: Error, Sendable, Equatable {
        /// The line the fault is on, when one line is to blame.
        public let line: Int?
        public let message: String

        public init(line: Int?, message: String) {
            self.line = line
            self.message = message
        }
    }

    /// What the table is called in messages: a file name or a request field.
    public let name: String
    public let header: [String]
    public let rows: [Row]
    private let index: [String: Int]

    /// Reads `text` named `name` (a file or a request field), reporting faults as invalid input
    /// of that name: `transactions.csv line 7: has 3 cells; the header has 9`.
    public init(_ text: String, name: String) throws(KinkoError) {
        do { self = try Self.read(text, name: name) } catch {
            throw KinkoError(.invalidInput, "\(name)\(error.line.map { " line \($0)" } ?? ""): \(error.message)", field: name)
        }
    }

    /// Reads `text`; a ragged row, an unmatched quote or a text without a header is `Malformed`,
    /// for callers that report faults in their own shape.
    public static func read(_ text: String, name: String) throws(Malformed) -> CSVTable {
        // CSV.swift reads an unclosed quote to the end of the text without complaint; in a
        // well-formed document quotes come in pairs (open, close, or a doubled one inside).
        guard text.utf8.lazy.filter({ $0 == UInt8(ascii: "\"") }).count.isMultiple(of: 2) else {
            throw Malformed(line: nil, message: "has an unmatched double quote: a quoted cell is never closed, or a quote stands in an unquoted cell")
        }
        let reader: CSVReader
        do { reader = try CSVReader(string: text) } catch { throw Malformed(line: nil, message: "cannot be read as CSV (\(error))") }
        var header: [String]?
        var rows: [Row] = []
        var line = 1
        while let cells = reader.next() {
            let start = line
            line += 1 + cells.reduce(0) { $0 + Self.lineBreaks(in: $1) }
            if cells.allSatisfy(\.isEmpty) { continue }
            guard let columns = header else {
                header = cells.map { $0.trimmingCharacters(in: .whitespaces) }
                continue
            }
            guard cells.count == columns.count else {
                throw Malformed(line: start, message: "has \(cells.count) cells; the header has \(columns.count)")
            }
            rows.append(Row(line: start, cells: cells))
        }
        if let error = reader.error { throw Malformed(line: line, message: "cannot be read as CSV (\(error))") }
        guard let header else { throw Malformed(line: nil, message: "is empty: a CSV file starts with a header row") }
        return CSVTable(name: name, header: header, rows: rows)
    }

    private init(name: String, header: [String], rows: [Row]) {
        self.name = name
        self.header = header
        self.rows = rows
        index = Dictionary(header.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { first, _ in first })
    }

    /// The position of a column, if the header names it.
    public func position(of column: String) -> Int? { index[column] }

    /// The position of a column the caller cannot do without.
    public func column(_ column: String) throws(KinkoError) -> Int {
        guard let position = index[column] else { throw KinkoError(.invalidInput, "\(name) has no column \(column)", field: column) }
        return position
    }

    /// Each row as column → cell, cells trimmed of spaces, with the row's line.
    public func records() -> [(line: Int, values: [String: String])] {
        rows.map { row in (row.line, Dictionary(zip(header, row.cells.map { $0.trimmingCharacters(in: .whitespaces) }), uniquingKeysWith: { first, _ in first })) }
    }

    private static func lineBreaks(in cell: String) -> Int {
        cell.utf8.reduce(0) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
    }
}
