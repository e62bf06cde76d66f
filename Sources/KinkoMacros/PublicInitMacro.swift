import SwiftCompilerPlugin
import SwiftSyntax
import SwiftSyntaxBuilder
import SwiftSyntaxMacros

/// `@PublicInit` writes a struct's public memberwise initializer: one parameter per stored
/// property, in declaration order, a property's initial value as the parameter's default (`nil`
/// for an optional `var` without one, as Swift's own memberwise initializer does), and
/// `@escaping` on closures. A `let` with a value and computed or static properties take no part.
/// Swift synthesizes memberwise initializers only as `internal`; a public value type that other
/// modules build (stores decode records, front ends build requests) needs one spelled out, and
/// 50 of them were nothing but `self.x = x` lines.
struct PublicInitMacro: MemberMacro {
    static func expansion(
        of node: AttributeSyntax, providingMembersOf declaration: some DeclGroupSyntax,
        conformingTo protocols: [TypeSyntax], in context: some MacroExpansionContext
    ) throws -> [DeclSyntax] {
        guard declaration.is(StructDeclSyntax.self) else {
            throw MacroExpansionErrorMessage("@PublicInit applies to a struct")
        }
        var parameters: [String] = []
        var assignments: [String] = []
        for member in declaration.memberBlock.members {
            guard let variable = member.decl.as(VariableDeclSyntax.self),
                  !variable.modifiers.contains(where: { ["static", "class", "lazy"].contains($0.name.text) }) else { continue }
            let isLet = variable.bindingSpecifier.tokenKind == .keyword(.let)
            for binding in variable.bindings {
                guard let name = binding.pattern.as(IdentifierPatternSyntax.self)?.identifier.text else { continue }
                if let accessors = binding.accessorBlock {
                    // Only observers keep a property stored.
                    guard case .accessors(let list) = accessors.accessors,
                          list.allSatisfy({ ["willSet", "didSet"].contains($0.accessorSpecifier.text) }) else { continue }
                }
                if isLet, binding.initializer != nil { continue }
                guard let type = binding.typeAnnotation?.type else {
                    throw MacroExpansionErrorMessage("@PublicInit needs the type of \(name) written out")
                }
                let function = type.as(AttributedTypeSyntax.self)?.baseType ?? type
                let escaping = function.is(FunctionTypeSyntax.self) ? "@escaping " : ""
                let value = binding.initializer.map { " = \($0.value.trimmedDescription)" }
                    ?? (!isLet && type.is(OptionalTypeSyntax.self) ? " = nil" : "")
                parameters.append("\(name): \(escaping)\(type.trimmedDescription)\(value)")
                assignments.append("self.\(name) = \(name)")
            }
        }
        return ["public init(\(raw: parameters.joined(separator: ", "))) {\n\(raw: assignments.joined(separator: "\n"))\n}"]
    }
}

@main
struct KinkoMacrosPlugin: CompilerPlugin {
    let providingMacros: [any Macro.Type] = [PublicInitMacro.self]
}
