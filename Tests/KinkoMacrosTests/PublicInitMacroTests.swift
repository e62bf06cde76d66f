@testable import KinkoMacros
import SwiftSyntaxMacroExpansion
import SwiftSyntaxMacrosGenericTestSupport
import Testing

/// `@PublicInit` writes the public memberwise initializer 58 value types used to spell out.
@Suite struct PublicInitMacroTests {
    static let specs = ["PublicInit": MacroSpec(type: PublicInitMacro.self)]

    private func expect(_ source: String, expands expanded: String, diagnostics: [DiagnosticSpec] = [],
                        sourceLocation: SourceLocation = #_sourceLocation) {
        assertMacroExpansion(source, expandedSource: expanded, diagnostics: diagnostics, macroSpecs: Self.specs) { failure in
            Issue.record(Comment(rawValue: failure.message), sourceLocation: sourceLocation)
        }
    }

    // Goal: one parameter per stored property in declaration order; a `var`'s initial value and
    // an optional `var`'s nil become defaults; a `let` with a value, computed, static and
    // observed-but-stored properties are handled as Swift's own memberwise initializer does;
    // closures are @escaping.
    @Test func storedPropertiesInOrderWithDefaults() {
        let members = """
                public let name: String
                public var amount: Amount = .zero
                public var note: String?
                public let kind = "line"
                public static let limit = 5
                public var isEmpty: Bool { amount == .zero }
                public var count: Int { didSet { print(count) } }
                public let check: @Sendable (Int) -> Bool
                public let handler: (Int) -> Void
            """
        expect("@PublicInit\npublic struct Line {\n\(members)\n}", expands: """
            public struct Line {
            \(members)

                public init(name: String, amount: Amount = .zero, note: String? = nil, count: Int, check: @escaping @Sendable (Int) -> Bool, handler: @escaping (Int) -> Void) {
                    self.name = name
                    self.amount = amount
                    self.note = note
                    self.count = count
                    self.check = check
                    self.handler = handler
                }
            }
            """)
    }

    // Goal: misuse is a compile error that says what to change, not a wrong initializer.
    @Test func refusesClassesAndUntypedProperties() {
        expect("""
            @PublicInit
            public final class Box {}
            """, expands: """
            public final class Box {}
            """, diagnostics: [DiagnosticSpec(message: "@PublicInit applies to a struct", line: 1, column: 1)])
        expect("""
            @PublicInit
            public struct Count {
                public var value = 0
            }
            """, expands: """
            public struct Count {
                public var value = 0
            }
            """, diagnostics: [DiagnosticSpec(message: "@PublicInit needs the type of value written out", line: 1, column: 1)])
    }
}
