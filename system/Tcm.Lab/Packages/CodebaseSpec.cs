using Tcm.Protocol;

namespace Tcm.Lab.Packages;

/// <summary>One codebase a package is offered on: its kind, and the site it serves (null: every site, like a public internet codebase).</summary>
public sealed record CodebaseSpec(CodebaseKind Kind, string? Site = null);
