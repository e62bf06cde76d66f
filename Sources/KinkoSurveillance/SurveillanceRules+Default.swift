extension SurveillanceRules {
    /// Kinko's default surveillance rule set. Sizes are multiples of the market's typical order
    /// (each active account's median order, then the median over accounts), never yen amounts, and
    /// times are derived from the schemes' mechanics with room to spare; docs/SURVEILLANCE.md gives
    /// each value's reason and the figures on market-dev.
    public static let defaultYAML = """
        version: surveil-2026-12-03
        engine:
          sweep_ms: 60000              # detectors judge what has closed every minute of stream time
          history_ms: 1209600000       # 14 days of orders and trades kept for the window scans
          excluded_kinds: [market_maker]
        typical:
          orders_per_account: 15       # each account's median over its last 15 orders
          active_ms: 172800000         # accounts silent for 48 h stop voting
          recompute_every: 200
          warm_up_orders: 500
        wash_trade:
          ip_sharers_max: 25           # a wider-shared IP (office, carrier NAT) ties no one
          gap_ms: 86400000             # an episode ends after 24 h without a trade between one owner's accounts
          minimum_trades: 4
          size_dispersion_max: 0.15    # median relative deviation of trade sizes
          net_share_max: 0.35          # |net| / gross per account: ownership barely changes
          trades_kept: 500
        spoofing:
          order_minimum_typical: 1.0
          repetition_minimum_typical: 2.0
          minimum_ticks_behind: 1
          genuine_after_min_ms: 100
          genuine_after_max_ms: 15000
          anchor_max_ms: 60000
          cancel_max_ms: 60000
          repetition_group_ms: 1000
          episode_gap_ms: 7200000
          minimum_repetitions: 3
          standout_minimum: 1.5        # large orders x the genuine order, or x the account's own median
          quote_pair_ms: 100           # both sides placed together: a quote, not a lure
          layering_minimum_levels: 2
        insider_trading:
          direction_window_ms: 1800000
          unwind_window_ms: 345600000  # exits within 96 h of publication
          minimum_typical: 3.0
          minimum_fills: 2
          unwind_share: 0.5
          restricted_minimum_typical: 1.0
          linked_minimum_typical: 1.5
          linked_unwind_share: 0.3
          household_accounts_max: 6
          own_history_orders: 3
          accounts_max: 10
          one_sided_share: 0.8
          prior_position_max: 1.0
        pump_and_dump:
          grid_ms: 60000
          burst_window_ms: 1800000
          participant_minimum_typical: 1.0
          baseline_window_ms: 86400000
          baseline_samples_min: 60
          minimum_buyers: 8
          burst_multiple: 3.0
          announcement_exclusion_ms: 3600000
          direction_window_ms: 1800000
          pre_window_ms: 432000000     # the coordinator's position over the 5 days before
          dump_window_ms: 10800000
          coordinator_minimum_typical: 10.0
          dump_share: 0.3
          household_accounts_max: 6
          rise_minimum_multiple: 10.0  # x the market's median 30-minute move
          premium_minimum_multiple: 10.0
          fresh_prior_orders_max: 1
          fresh_share_min: 0.2         # a fifth of the burst's buyers new to the market
          accounts_max: 100
        multi_account:
          household_accounts_max: 10
          session_ms: 3600000
          notional_ratio_max: 1.25
          minimum_sessions: 3
          matched_share_min: 0.15
          minimum_accounts: 2
          accounts_max: 100
          window_ms: 2592000000        # 30 days of each linked account's orders
          scan_every_ms: 86400000

        """
}
