import KinkoMonitoring

/// Words for what the console shows by its key: the rules that raise alerts and the figures
/// their hits carry, in both languages (`Console.both`). A key not listed is shown as it is —
/// a new rule or figure is readable before it is named here, and a test lists every rule the
/// engines can raise so none is left out by accident.
extension Console {
    static let ruleLabels: [String: (ja: String, en: String)] = [
        "structuring": ("分割入金 (ストラクチャリング)", "structuring"), "velocity": ("短期間の高額取引", "velocity"),
        "rapid_in_out": ("入金直後の出金", "rapid in and out"), "income_mismatch": ("申告収入・資産との不一致", "income mismatch"),
        "login_abroad": ("国外からのログイン", "login from abroad"), "shared_ip": ("IP アドレスの共有", "shared IP address"),
        "privacy_coin": ("匿名性の高い暗号資産", "privacy coin"), "high_risk_jurisdiction": ("高リスク国・地域", "high-risk jurisdiction"),
        "sanctioned_address": ("制裁対象アドレス", "sanctioned address"), "stolen_address": ("盗難資金のアドレス", "stolen-funds address"),
        "unhosted_risk": ("アンホステッド・ウォレット", "unhosted wallet"), "travel_rule": ("トラベルルール", "travel rule"),
        "fan_in": ("集中入金 (ファンイン)", "fan-in"), "fan_out": ("分散送金 (ファンアウト)", "fan-out"), "cycle": ("循環送金", "cycle"),
        "scatter_gather": ("分散・集約", "scatter-gather"), "gather_scatter": ("集約・分散", "gather-scatter"),
        "network_fan_in": ("ネットワーク: 集中入金", "network: fan-in"), "network_fan_out": ("ネットワーク: 分散送金", "network: fan-out"),
        "network_gather_scatter": ("ネットワーク: 集約・分散", "network: gather-scatter"),
        "market_wash_trade": ("相場: 仮装売買", "market: wash trade"), "market_spoofing": ("相場: 見せ玉", "market: spoofing"),
        "market_layering": ("相場: レイヤリング", "market: layering"), "market_insider_trading": ("相場: インサイダー取引", "market: insider trading"),
        "market_pump_and_dump": ("相場: パンプ・アンド・ダンプ", "market: pump and dump"), "market_multi_account": ("相場: 複数口座の支配", "market: one person, many accounts"),
    ]

    static let figureLabels: [String: (ja: String, en: String)] = [
        "amount_jpy": ("金額 (円)", "amount (yen)"), "amount_limit_jpy": ("金額の上限 (円)", "amount limit (yen)"),
        "threshold_jpy": ("閾値 (円)", "threshold (yen)"), "band_floor_jpy": ("帯の下限 (円)", "band floor (yen)"),
        "count": ("件数", "count"), "count_limit": ("件数の上限", "count limit"), "window_days": ("期間 (日)", "window (days)"),
        "window_hours": ("期間 (時間)", "window (hours)"), "inflow_jpy": ("入金額 (円)", "inflow (yen)"), "outflow_jpy": ("出金額 (円)", "outflow (yen)"),
        "declared_income_jpy": ("申告収入 (円)", "declared income (yen)"), "declared_assets_jpy": ("申告資産 (円)", "declared assets (yen)"),
        "share_percent": ("割合 (%)", "share (%)"), "customers": ("顧客数", "customers"), "external_addresses": ("外部アドレス数", "external addresses"),
        "minimum_customers": ("顧客数の下限", "minimum customers"), "minimum_addresses": ("アドレス数の下限", "minimum addresses"),
        "length": ("長さ", "length"), "intermediaries": ("中継者数", "intermediaries"), "source": ("送金元", "source"),
        "beneficiary": ("受取人", "beneficiary"), "sources": ("送金元の数", "sources"), "beneficiaries": ("受取人の数", "beneficiaries"),
        "members": ("構成員数", "members"), "score": ("スコア", "score"), "home_country": ("居住国", "home country"),
        "login_country": ("ログイン国", "login country"), "ip": ("IP アドレス", "IP address"), "distinct_names": ("異なる名義の数", "distinct names"),
        "address": ("アドレス", "address"), "list": ("リスト", "list"), "list_version": ("リストの版", "list version"), "asset": ("資産", "asset"),
        "vasp": ("相手方 VASP", "counterparty VASP"), "vasp_country": ("相手方 VASP の国", "counterparty VASP's country"),
        "counterparty_risk": ("相手方リスク評価", "counterparty risk"), "new_members": ("新たな構成員", "new members"),
        "new_transfers": ("新たな送金", "new transfers"),
    ]

    /// A rule's name in words (the page keeps its key beside it, as analysts and the API know it).
    static func ruleLabel(_ rule: String) -> String {
        ruleLabels[rule].map { both($0.ja, $0.en) } ?? rule
    }

    /// A figure's name in words; a network model's feature keeps its key (the model's own name).
    static func figureLabel(_ key: String) -> String {
        figureLabels[key].map { both($0.ja, $0.en) } ?? key
    }
}
