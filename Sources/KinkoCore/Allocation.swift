/// Splits a whole over weights by the largest-remainder method (Hamilton's method).
///
/// Each part first gets `floor(total × weight / Σweights)`; the units left over (fewer than the
/// number of parts) go one each to the parts with the largest remainders. Ties go to the lower
/// index, so the result depends only on the input order. The parts always add up to `total`
/// exactly, and no part differs from its exact share by one unit or more.
public enum Allocation {
    /// Most parts one call may produce (the largest exchange has ~12M accounts).
    public static let partsMax = 50_000_000

    public static func largestRemainder(
        _ total: Amount, weights: [UInt128], partsMax: Int = Allocation.partsMax
    ) throws(KinkoError) -> [Amount] {
        guard !weights.isEmpty else {
            throw KinkoError(.allocationNoWeights, "at least one weight is required", field: "weights")
        }
        guard weights.count <= partsMax else {
            throw KinkoError(.allocationTooManyParts, "\(weights.count) parts exceeds the maximum \(partsMax)", field: "weights")
        }
        var weightSum: UInt128 = 0
        for weight in weights {
            let (sum, overflow) = weightSum.addingReportingOverflow(weight)
            if overflow {
                throw KinkoError(.allocationWeightsOverflow, "the sum of the weights exceeds \(UInt128.max)", field: "weights")
            }
            weightSum = sum
        }
        guard weightSum != 0 else {
            throw KinkoError(.allocationZeroTotalWeight, "the weights add up to zero", field: "weights")
        }
        var parts = [Amount]()
        parts.reserveCapacity(weights.count)
        var remainders = [UInt128]()
        remainders.reserveCapacity(weights.count)
        var allocated: UInt128 = 0
        for weight in weights {
            // total × weight / weightSum fits in UInt128 because weight ≤ weightSum.
            let product = total.units.multipliedFullWidth(by: weight)
            let (share, remainder) = weightSum.dividingFullWidth((product.high, product.low))
            parts.append(Amount(units: share))
            remainders.append(remainder)
            allocated += share
        }
        let leftover = total.units - allocated
        assert(leftover < UInt128(weights.count), "leftover \(leftover) must be below part count \(weights.count)")
        guard leftover > 0 else { return parts }
        let order = remainders.indices.sorted { a, b in
            remainders[a] != remainders[b] ? remainders[a] > remainders[b] : a < b
        }
        for index in order.prefix(Int(leftover)) {
            parts[index].units += 1
        }
        return parts
    }
}
