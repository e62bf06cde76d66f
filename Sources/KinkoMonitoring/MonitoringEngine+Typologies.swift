public import KinkoCore

/// The relationship rules and graph typologies (fan-in, fan-out, cycles, scatter-gather,
/// gather-scatter): an internal transfer or an external address adds an edge to both parties'
/// state, and a new one-off edge is checked against every typology it could complete.
extension MonitoringEngine {
    func relationships(_ event: MonitoringEvent, into hits: inout [RuleHit]) throws {
        let now = event.time
        switch event.kind {
        case .internalTransfer:
            guard let receiver = event.counterpartyCustomer, receiver != event.customer else { return }
            var target = try take(receiver, at: now)
            target.firstSeen = min(target.firstSeen, now)
            target.lastSeen = max(target.lastSeen, now)
            target.prune(now: now, recentHorizon: recentHorizon, dailyHorizonDays: UInt32(rules.incomeMismatch.windowDays), edgeHorizon: edgeHorizon)
            target.recent.append(RecentEvent(time: now, flow: .inflow, amountJPY: event.amountJPY, id: event.id))
            Self.addInflow(&target, event.amountJPY, at: now)
            let isNew = CustomerState.touch(&target.incoming, event.customer, time: now, event: event.id)
            states[receiver] = target
            dirtyCustomers.insert(receiver)
            _ = CustomerState.touch(&states[event.customer, default: CustomerState(firstSeen: now)].outgoing, receiver, time: now, event: event.id)
            guard isNew else { return }
            fan(rules.fanOut, hub: event.customer, outgoing: true, event, into: &hits)
            fan(rules.fanIn, hub: receiver, outgoing: false, event, into: &hits)
            try cycle(from: event.customer, to: receiver, event, into: &hits)
            try scatterGather(event.customer, receiver, event, into: &hits)
            gatherScatter(hub: event.customer, event, into: &hits)
            gatherScatter(hub: receiver, event, into: &hits)
        case .withdrawal, .deposit:
            guard let address = event.address else { return }
            let key = Self.addressKey(address)
            let outgoing = event.kind == .withdrawal
            let isNew = outgoing ? CustomerState.touch(&states[event.customer, default: CustomerState(firstSeen: now)].outgoing, key, time: now, event: event.id)
                : CustomerState.touch(&states[event.customer, default: CustomerState(firstSeen: now)].incoming, key, time: now, event: event.id)
            guard isNew else { return }
            fan(outgoing ? rules.fanOut : rules.fanIn, hub: event.customer, outgoing: outgoing, event, into: &hits)
        case .trade, .login:
            return
        }
    }

    /// Counterparties met once within `window` (a repeating relationship is not one-off).
    private func oneOff(_ edges: [UInt64: Edge], since: TimestampNanoseconds, customersOnly: Bool = false) -> [(UInt64, Edge)] {
        edges.filter { $0.value.count == 1 && $0.value.first >= since && (!customersOnly || $0.key & Self.addressBit == 0) }.map { ($0.key, $0.value) }
    }

    private func fan(_ rule: MonitoringRules.Fan, hub: UInt64, outgoing: Bool, _ event: MonitoringEvent, into hits: inout [RuleHit]) {
        guard let state = states[hub] else { return }
        let now = event.time
        guard state.firstSeen <= Self.cut(now, rule.minimumHistoryDays * Self.nanosecondsPerDay) else { return }
        let settled = Self.cut(now, rule.settleDays * Self.nanosecondsPerDay)
        let since = Self.cut(now, rule.windowDays * Self.nanosecondsPerDay)
        var customers = 0
        var addresses = 0
        for (key, edge) in outgoing ? state.outgoing : state.incoming
        where edge.count == 1 && edge.first >= since && (edge.first <= settled || edge.firstEvent == event.id) {
            if key & Self.addressBit == 0 { customers += 1 } else { addresses += 1 }
        }
        guard customers >= rule.minimumCounterparties || addresses >= rule.minimumAddresses else { return }
        let parties = (outgoing ? state.outgoing : state.incoming)
            .filter { $0.value.count == 1 && $0.value.first >= since && ($0.value.first <= settled || $0.value.firstEvent == event.id) }
            .sorted { ($0.value.first, $0.key) < ($1.value.first, $1.key) }
        let name = outgoing ? "fan_out" : "fan_in"
        hits.append(RuleHit(rule: name, score: rule.score, subject: hub,
                            explanation: "customer \(hub) \(outgoing ? "sent to" : "received from") \(customers) one-off customers and \(addresses) one-off external addresses within \(rule.windowDays) days",
                            values: ["customers": String(customers), "external_addresses": String(addresses), "window_days": String(rule.windowDays),
                                     "minimum_customers": String(rule.minimumCounterparties), "minimum_addresses": String(rule.minimumAddresses)],
                            events: parties.map(\.value.firstEvent), customers: [hub] + parties.map(\.key).filter { $0 & Self.addressBit == 0 }))
    }

    /// A ring of one-off transfers closed by `from → to`: a path `to → … → from` over one-off
    /// edges inside the window, in any time order.
    private func cycle(from: UInt64, to: UInt64, _ event: MonitoringEvent, into hits: inout [RuleHit]) throws {
        let rule = rules.cycle
        let since = Self.cut(event.time, rule.windowDays * Self.nanosecondsPerDay)
        var path: [UInt64] = [to]
        var edges: [String] = [event.id]
        var onPath: Set<UInt64> = [to]
        var visited = 0
        var found: ([UInt64], [String])?
        func search(_ node: UInt64) throws {
            guard found == nil, visited < Self.cycleSearchNodesMax, path.count < rule.maximumLength, let state = try peek(node) else { return }
            visited += 1
            for (next, edge) in oneOff(state.outgoing, since: since, customersOnly: true).sorted(by: { $0.0 < $1.0 }) {
                if next == from {
                    if path.count + 1 >= rule.minimumLength { found = (path + [from], edges + [edge.firstEvent]) }
                    if found != nil { return }
                    continue
                }
                guard !onPath.contains(next) else { continue }
                path.append(next)
                edges.append(edge.firstEvent)
                onPath.insert(next)
                try search(next)
                if found != nil { return }
                path.removeLast()
                edges.removeLast()
                onPath.remove(next)
            }
        }
        try search(to)
        guard let (members, events) = found else { return }
        hits.append(RuleHit(rule: "cycle", score: rule.score, subject: from,
                            explanation: "money went round \(members.count) customers within \(rule.windowDays) days: \(members.map(String.init).joined(separator: " → ")) → \(members[0])",
                            values: ["length": String(members.count), "window_days": String(rule.windowDays)], events: events, customers: members))
    }

    /// One source → several intermediaries → one beneficiary, all over one-off edges. The new
    /// edge is either a gather leg (`a` an intermediary, `b` the beneficiary) or a scatter leg
    /// (`a` the source, `b` an intermediary).
    private func scatterGather(_ a: UInt64, _ b: UInt64, _ event: MonitoringEvent, into hits: inout [RuleHit]) throws {
        let rule = rules.scatterGather
        let since = Self.cut(event.time, rule.windowDays * Self.nanosecondsPerDay)
        func isOneOff(_ key: UInt64, _ edge: Edge) -> Bool { edge.count == 1 && edge.first >= since && key & Self.addressBit == 0 }
        /// Intermediaries: one-off out-edges of `source` that meet one-off in-edges of the beneficiary.
        func report(source: UInt64, beneficiary: UInt64, gathered: [UInt64: Edge]) throws -> Bool {
            guard source != beneficiary, let sourceState = try peek(source) else { return false }
            var count = 0
            for (key, edge) in sourceState.outgoing where isOneOff(key, edge) && gathered[key] != nil { count += 1 }
            guard count >= rule.minimumIntermediaries else { return false }
            let middle = sourceState.outgoing.filter { isOneOff($0.key, $0.value) && gathered[$0.key] != nil }
                .map { ($0.key, $0.value.firstEvent, gathered[$0.key]?.firstEvent ?? "") }.sorted { $0.0 < $1.0 }
            hits.append(RuleHit(rule: "scatter_gather", score: rule.score, subject: beneficiary,
                                explanation: "customer \(source) sent to \(middle.count) intermediaries who each passed it on to customer \(beneficiary) within \(rule.windowDays) days",
                                values: ["intermediaries": String(middle.count), "source": String(source), "beneficiary": String(beneficiary),
                                         "window_days": String(rule.windowDays)],
                                events: middle.flatMap { [$0.1, $0.2] }, customers: [source] + middle.map(\.0) + [beneficiary]))
            return true
        }
        // `a → b` as a gather leg: sources that paid `a` once, against what `b` received once.
        if let intermediary = states[a], let beneficiary = try peek(b) {
            let gathered = beneficiary.incoming.filter { isOneOff($0.key, $0.value) }
            if gathered.count >= rule.minimumIntermediaries {
                for source in intermediary.incoming.filter({ isOneOff($0.key, $0.value) }).keys.sorted() where try report(source: source, beneficiary: b, gathered: gathered) {
                    return
                }
            }
        }
        // `a → b` as a scatter leg: beneficiaries `b` paid once, against what `a` sent once.
        if let intermediary = try peek(b) {
            for beneficiary in intermediary.outgoing.filter({ isOneOff($0.key, $0.value) }).keys.sorted() {
                guard let state = try peek(beneficiary) else { continue }
                let gathered = state.incoming.filter { isOneOff($0.key, $0.value) }
                if gathered.count >= rule.minimumIntermediaries, try report(source: a, beneficiary: beneficiary, gathered: gathered) { return }
            }
        }
    }

    /// Several sources → one hub → several beneficiaries, over one-off edges between customers.
    private func gatherScatter(hub: UInt64, _ event: MonitoringEvent, into hits: inout [RuleHit]) {
        let rule = rules.gatherScatter
        guard let state = states[hub] else { return }
        let since = Self.cut(event.time, rule.windowDays * Self.nanosecondsPerDay)
        func isOneOff(_ key: UInt64, _ edge: Edge) -> Bool { edge.count == 1 && edge.first >= since && key & Self.addressBit == 0 }
        var sourceCount = 0
        for (key, edge) in state.incoming where isOneOff(key, edge) { sourceCount += 1 }
        guard sourceCount >= rule.minimumSources else { return }
        var beneficiaryCount = 0
        for (key, edge) in state.outgoing where isOneOff(key, edge) { beneficiaryCount += 1 }
        guard beneficiaryCount >= rule.minimumBeneficiaries else { return }
        let sources = state.incoming.filter { isOneOff($0.key, $0.value) }.sorted { $0.key < $1.key }
        let beneficiaries = state.outgoing.filter { isOneOff($0.key, $0.value) }.sorted { $0.key < $1.key }
        hits.append(RuleHit(rule: "gather_scatter", score: rule.score, subject: hub,
                            explanation: "customer \(hub) received from \(sources.count) one-off sources and sent to \(beneficiaries.count) one-off beneficiaries within \(rule.windowDays) days",
                            values: ["sources": String(sources.count), "beneficiaries": String(beneficiaries.count), "window_days": String(rule.windowDays)],
                            events: sources.map(\.value.firstEvent) + beneficiaries.map(\.value.firstEvent),
                            customers: [hub] + (sources + beneficiaries).map(\.key)))
    }
}
