import Foundation

/// A small example of the live stream, for the demo, tests and the docs: two hours of XYZ/JPY
/// with a market maker, ordinary customers, an employee and their spouse (linked by a device),
/// and a spoofer.
public enum ExampleStream {
    /// Two hours of XYZ/JPY ending at `end`: tick 0.01, lot 0.0001; the market maker quotes
    /// 12.49 / 12.51; customers bid; the spoofer's four repetitions ten minutes apart. Each
    /// account's customer id is `C-` + the account unless `customers` names one.
    public static func spoofing(endingAt end: Int64, staff: String, household spouse: String, spoofer: String, customers: [String: String] = [:]) -> String {
        var lines = [#"{"record":"market","market":"XYZ/JPY","base":"XYZ","quote":"JPY","tick_size":"0.01","lot_size":"0.0001"}"#]
        let accounts = ["A-MM-01": "market_maker", staff: "employee", spouse: "customer", spoofer: "customer"]
            .merging((1...6).map { ("A-CUST-000\($0)", "customer") }, uniquingKeysWith: { first, _ in first })
        for (account, kind) in accounts.sorted(by: { $0.key < $1.key }) {
            lines.append(#"{"record":"account","account_id":"\#(account)","customer_id":"\#(customers[account] ?? "C-" + account)","kind":"\#(kind)","opened_at":1700000000000}"#)
        }
        lines.append(#"{"record":"link","account_a":"\#(spouse)","account_b":"\#(staff)","link_kind":"device","value":"dev-demo-home"}"#)
        var order: Int64 = 0, trade: Int64 = 0
        let start = end - 2 * 3_600_000
        func new(_ time: Int64, _ account: String, _ side: String, _ type: String, _ price: String, _ quantity: String) -> Int64 {
            order += 1
            lines.append(#"{"record":"order","time":\#(time),"order_id":\#(order),"account_id":"\#(account)","market":"XYZ/JPY","side":"\#(side)","type":"\#(type)","price":"\#(price)","quantity":"\#(quantity)","event":"new","filled_quantity":"0.0000"}"#)
            return order
        }
        func event(_ time: Int64, _ id: Int64, _ account: String, _ side: String, _ type: String, _ price: String, _ quantity: String, _ kind: String, _ filled: String) {
            lines.append(#"{"record":"order","time":\#(time),"order_id":\#(id),"account_id":"\#(account)","market":"XYZ/JPY","side":"\#(side)","type":"\#(type)","price":"\#(price)","quantity":"\#(quantity)","event":"\#(kind)","filled_quantity":"\#(filled)"}"#)
        }
        _ = new(start, "A-MM-01", "buy", "limit", "12.49", "100000.0000")
        let ask = new(start, "A-MM-01", "sell", "limit", "12.51", "100000.0000")
        var askFilled = 0.0
        func buyAtAsk(_ time: Int64, _ account: String, _ quantity: Double) {
            let id = new(time, account, "buy", "market", "", String(format: "%.4f", quantity))
            event(time, id, account, "buy", "market", "", String(format: "%.4f", quantity), "fill", String(format: "%.4f", quantity))
            askFilled += quantity
            event(time, ask, "A-MM-01", "sell", "limit", "12.51", "100000.0000", "partial_fill", String(format: "%.4f", askFilled))
            trade += 1
            lines.append(#"{"record":"trade","time":\#(time),"trade_id":\#(trade),"market":"XYZ/JPY","price":"12.51","quantity":"\#(String(format: "%.4f", quantity))","buy_order_id":\#(id),"sell_order_id":\#(ask),"buy_account_id":"\#(account)","sell_account_id":"A-MM-01","aggressor":"buy"}"#)
        }
        for customer in 1...6 { _ = new(start + Int64(customer) * 1_000, "A-CUST-000\(customer)", "buy", "limit", "12.40", "800.0000") }
        buyAtAsk(start + 10_000, "A-CUST-0001", 100)
        for repetition in 1...4 {
            let at = start + Int64(repetition) * 600_000
            let large = new(at, spoofer, "sell", "limit", "12.53", "8000.0000")
            buyAtAsk(at + 1_000, spoofer, 40)
            event(at + 3_000, large, spoofer, "sell", "limit", "12.53", "8000.0000", "cancel", "0.0000")
        }
        return lines.joined(separator: "\n")
    }
}
