/// Adds a struct's public memberwise initializer (`KinkoMacros.PublicInitMacro`): parameters
/// in the order the stored properties are declared, their initial values as defaults.
@attached(member, names: named(init))
public macro PublicInit() = #externalMacro(module: "KinkoMacros", type: "PublicInitMacro")
