import Foundation
import HTTPTypes
import KinkoCore
import KinkoGovernance
import KinkoPlaybook
import Testing

/// Reports over HTTP and in the console: generate, list, download in each language and format,
/// approve by a second person; who may do what.
@Suite("API and console: reports")
struct ReportsAPITests {
    // Goal: finance generates the month's trade journal; the auditor lists and downloads it as
    // JSON, CSV and HTML in Japanese and English; the generator cannot approve it, the second
    // finance officer can; the operator may neither read nor generate; a period of the wrong
    // form names the field. The console's reports page shows the calendar and the report with
    // its download links, and a download is an attachment.
    @Test func generateDownloadApproveOverHTTPAndInTheConsole() async throws {
        let f = try await ServerFixture()
        let today = SystemWallClock().now().jstDay
        let period = "\(today)..\(today)"
        let generated = try await f.call(.post, "/v1/reports/trade-journal", as: .finance, json: #"{"period":"\#(period)"}"#)
        #expect(generated.status == .ok, "\(generated.text)")
        let report = try #require(generated.json["report"] as? [String: Any])
        let sha = try #require(report["sha256"] as? String)
        #expect(report["status"] as? String == "generated" && generated.json["changed"] as? Bool == true && sha.count == 64)

        let listed = try await f.call(.get, "/v1/reports", as: .auditor)
        #expect((listed.json["reports"] as? [[String: Any]])?.map { $0["sha256"] as? String } == [sha])
        let json = try await f.call(.get, "/v1/reports/trade-journal?period=\(period)&format=json&lang=en", as: .inspector)
        #expect(json.status == .ok && json.json["sha256"] as? String == sha && json.json["title"] as? String == "Trade journal (Art. 34)")
        let csv = try await f.call(.get, "/v1/reports/trade-journal?period=\(period)&format=csv&lang=ja", as: .auditor)
        #expect(csv.status == .ok && csv.headers[.contentType]?.hasPrefix("text/csv") == true && csv.text.hasPrefix("取引記録（第34条）,\(period)"))
        let html = try await f.call(.get, "/v1/reports/trade-journal?period=\(period)&format=html&lang=ja", as: .auditor)
        #expect(html.status == .ok && html.text.contains("<html lang=\"ja\">") && html.text.contains(sha))

        let own = try await f.call(.post, "/v1/reports/trade-journal/approve", as: .finance, json: #"{"period":"\#(period)"}"#)
        #expect(own.status == .forbidden, "\(own.text)")
        let second = try await f.call(.post, "/v1/reports/trade-journal/approve", token: f.secondFinance.token, json: #"{"period":"\#(period)"}"#)
        #expect(second.status == .ok && second.json["status"] as? String == "final" && second.json["approved_by"] as? String == "finance.two")

        #expect(try await f.call(.get, "/v1/reports", as: .operator).status == .forbidden)
        #expect(try await f.call(.post, "/v1/reports/trade-journal", as: .operator, json: #"{"period":"\#(period)"}"#).status == .forbidden)
        let wrong = try await f.call(.post, "/v1/reports/trade-journal", as: .finance, json: #"{"period":"2026Q4"}"#)
        #expect(wrong.status == .badRequest && wrong.text.contains("period"), "\(wrong.text)")
        let due = try await f.call(.get, "/v1/reports/due?today=\(today)", as: .auditor)
        #expect(due.status == .ok && due.json["items"] is [Any])

        let cookie = try await f.console(.finance)
        let page = try await f.call(.get, "/console/reports", headers: cookie.headers)
        #expect(page.status == .ok && page.text.contains("id=\"nothing-due\"") && page.text.contains("data-kind=\"trade-journal\""))  // the books began today: nothing is due yet
        #expect(page.text.contains("data-status=\"final\"") && page.text.contains("id=\"generate-report\""))
        let download = try await f.call(.get, "/console/reports/download?kind=trade-journal&period=\(period)&format=csv&lang=en", headers: cookie.headers)
        #expect(download.status == .ok && download.headers[.contentDisposition]?.hasPrefix("attachment;") == true)
        #expect(download.text.hasPrefix("Trade journal (Art. 34),\(period)"))
        let auditorPage = try await f.call(.get, "/console/reports", headers: try await f.console(.auditor).headers)
        #expect(auditorPage.status == .ok && !auditorPage.text.contains("id=\"generate-report\""))
    }
}
