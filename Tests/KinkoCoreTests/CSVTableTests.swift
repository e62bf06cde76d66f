import KinkoCore
import Testing

/// Every importer (ledger input, AMLSim, KYC profiles, custody observations, volumes) reads CSV
/// through `CSVTable`; these pin its rules.
@Suite struct CSVTableTests {
    // Goal: RFC 4180 quoting (a comma and a doubled quote inside quotes, a cell spanning lines)
    // and each row's line as an editor shows it, blank lines counted but skipped.
    @Test func quotedCellsAndLineNumbers() throws {
        let text = "id, name ,note\r\n1,\"Sato, Hanako\",\"said \"\"hi\"\"\"\n\n2,Ito,\"two\nlines\"\n3,Abe,\n"
        let table = try CSVTable(text, name: "people.csv")
        #expect(table.header == ["id", "name", "note"])
        #expect(table.rows.map(\.line) == [2, 4, 6])
        #expect(table.rows.map(\.cells) == [["1", "Sato, Hanako", "said \"hi\""], ["2", "Ito", "two\nlines"], ["3", "Abe", ""]])
        #expect(try table.column("name") == 1)
        #expect(table.position(of: "missing") == nil)
        #expect(table.records().map(\.values) == [
            ["id": "1", "name": "Sato, Hanako", "note": "said \"hi\""], ["id": "2", "name": "Ito", "note": "two\nlines"], ["id": "3", "name": "Abe", "note": ""],
        ])
    }

    // Goal: a ragged row is refused with its line (after a cell spanning two lines), not padded.
    @Test func raggedRowNamesItsLine() {
        #expect(throws: CSVTable.Malformed(line: 4, message: "has 2 cells; the header has 3")) {
            try CSVTable.read("a,b,c\n\"x\ny\",1,2\n1,2\n", name: "t")
        }
        #expect(throws: KinkoError(.invalidInput, "t.csv line 2: has 4 cells; the header has 3", field: "t.csv")) {
            try CSVTable("a,b,c\n1,2,3,4\n", name: "t.csv")
        }
    }

    // Goal: an unclosed quote does not swallow the rest of the file silently, and a text without
    // a header is refused rather than read as no rows.
    @Test func unmatchedQuoteAndEmptyTextAreRefused() {
        #expect(throws: CSVTable.Malformed(line: nil, message: "has an unmatched double quote: a quoted cell is never closed, or a quote stands in an unquoted cell")) {
            try CSVTable.read("a,b\n1,\"open\n2,3\n", name: "t")
        }
        for empty in ["", "\n\n", "\r\n"] {
            #expect(throws: KinkoError(.invalidInput, "t: is empty: a CSV file starts with a header row", field: "t")) { try CSVTable(empty, name: "t") }
        }
        #expect(throws: KinkoError(.invalidInput, "t has no column amount", field: "amount")) { try CSVTable("a\n1\n", name: "t").column("amount") }
    }

    // Goal: a header alone is a table with no rows; the last row needs no line break.
    @Test func headerOnlyAndNoFinalLineBreak() throws {
        #expect(try CSVTable("a,b", name: "t").rows.isEmpty)
        #expect(try CSVTable("a,b\n1,2", name: "t").rows.map(\.cells) == [["1", "2"]])
    }
}
