import Foundation
import KinkoCore
import KinkoStores
import KinkoSurveillance
import Testing

/// Every detector on real marketsim data in `swift test`: market-dev cut to MNR/JPY and KBT/JPY
/// (`scripts/market_sample.py ../shared/datasets/market-dev DIR MNR/JPY KBT/JPY`): 90,277 order
/// events, 10,481 trades, 30 planted instances of every typology. The full set's figures come from
/// `kinko surveil backtest` (docs/SURVEILLANCE.md).
@Suite("Surveillance on a sample of market-dev")
struct MarketDevSampleTests {
    static func load() throws -> (MarketDataset, [LabelledInstance]) {
        let folder = try #require(Bundle.module.url(forResource: "market-dev-sample", withExtension: nil))
        var files: [String: String] = [:]
        for name in MarketDataset.fileNames + ["labels"] {
            files[name] = try InputFile.text(atPath: folder.appendingPathComponent("\(name).csv.gz").path, field: name)
        }
        let labelText = files.removeValue(forKey: "labels")
        let labels = try LabelledInstance.read(try #require(labelText))
        return (try MarketDataset(files: files), labels)
    }

    @Test("every planted instance is found; 32 of 33 alerts are right")
    func recallAndPrecision() throws {
        let (data, labels) = try Self.load()
        #expect(data.orders.count == 90_277)
        #expect(data.trades.count == 10_481)
        let alerts = SurveillanceEngine.run(data, rules: try SurveillanceRules(yaml: SurveillanceRules.defaultYAML))
        let score = SurveillanceScore(instances: labels, alerts: alerts.map {
            .init(typology: $0.typology, market: data.markets[$0.market].symbol, accounts: Set($0.accounts.map { data.accounts.name($0) }), start: $0.start, end: $0.end)
        })
        #expect(score.all.instances == 30)
        #expect(score.missed == [])
        #expect(score.all.alerts == 33)
        #expect(score.all.correctAlerts == 32)
        for family in SurveillanceTypology.families { #expect(score.perFamily[family]?.recall == 1, "\(family)") }
        #expect(score.perFamily[.pumpAndDump]?.precision == 0.8)
        // Every alert explains itself: figures against thresholds and the orders or trades behind it.
        for alert in alerts {
            #expect(!alert.figures.isEmpty)
            #expect(!alert.orders.isEmpty || !alert.trades.isEmpty)
            #expect(alert.accounts.count <= SurveillanceRules.alertAccountsMax)
            #expect(alert.start <= alert.end)
        }
    }

    @Test("an alert line carries the scoring fields: typology, market, accounts as strings, start and end in ms")
    func alertLine() throws {
        let (data, _) = try Self.load()
        let alert = try #require(SurveillanceEngine.run(data, rules: try SurveillanceRules(yaml: SurveillanceRules.defaultYAML)).first { $0.typology == .spoofing })
        let line = alert.json(markets: data.markets, accounts: data.accounts)
        #expect(line["typology"] as? String == "spoofing")
        #expect(line["market"] as? String == data.markets[alert.market].symbol)
        #expect((line["accounts"] as? [String])?.allSatisfy { $0.hasPrefix("A") } == true)
        #expect(line["start"] as? Int64 == alert.start)
        #expect(line["end"] as? Int64 == alert.end)
    }
}
