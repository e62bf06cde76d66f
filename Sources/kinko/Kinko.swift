import ArgumentParser

@main
struct Kinko: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kinko",
        abstract: "Kinko (金庫): the custody, liability-reserve and compliance back office of a crypto exchange.",
        subcommands: [Init.self, Demo.self, LedgerCommand.self, GovernanceCommand.self, CustodyCommand.self, ReserveCommand.self, IncidentCommand.self, InsolvencyCommand.self, MonitorCommand.self, SettingsCommand.self, SurveilCommand.self, WithdrawalsCommand.self, DepositsCommand.self, AuditCommand.self, ReportCommand.self, CustomersCommand.self, RecordsCommand.self, BitcoinCommand.self, SignerCommand.self, Serve.self, Bench.self]
    )
}
