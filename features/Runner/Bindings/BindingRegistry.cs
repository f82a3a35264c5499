using System.Reflection;
using System.Text.RegularExpressions;

namespace Tcm.Features.Runner;

/// <summary>One method bound to steps by a <see cref="StepDefinitionBaseAttribute"/>.</summary>
internal sealed class StepBinding
{
    internal StepBinding(Type bindingType, MethodInfo method, StepDefinitionBaseAttribute attribute, Regex regex)
    {
        BindingType = bindingType;
        Method = method;
        Keyword = attribute.Keyword;
        Pattern = attribute.Regex;
        Regex = regex;
        GroupCount = regex.GetGroupNumbers().Length - 1;
        Parameters = method.GetParameters();
    }

    /// <summary>The class the runner creates (per scenario) to call the method on.</summary>
    public Type BindingType { get; }

    public MethodInfo Method { get; }

    /// <summary>Given / When / Then, or null for a <see cref="StepDefinitionAttribute"/>.</summary>
    public StepKeyword? Keyword { get; }

    /// <summary>The regular expression as written in the attribute.</summary>
    public string Pattern { get; }

    internal Regex Regex { get; }

    internal int GroupCount { get; }

    internal ParameterInfo[] Parameters { get; }

    /// <summary>"Class.Method", for the Cucumber report's match location.</summary>
    public string Location => $"{BindingType.Name}.{Method.Name}";

    /// <summary>The binding as a developer finds it: <c>[Given(@"^x$")] Calculator.GivenX(Int32)</c>.</summary>
    public override string ToString() =>
        $"[{Keyword?.ToString() ?? "StepDefinition"}(@\"{Pattern.Replace("\"", "\"\"", StringComparison.Ordinal)}\")] {BindingType.FullName}.{Method.Name}({string.Join(", ", Parameters.Select(p => p.ParameterType.Name))})";

    internal bool AcceptsArgumentOf(ScenarioStep step)
    {
        var extra = step.Table is not null || step.DocString is not null ? 1 : 0;
        if (Parameters.Length != GroupCount + extra)
        {
            return false;
        }

        return extra == 0
            || (step.Table is not null && Parameters[^1].ParameterType == typeof(DataTable))
            || (step.DocString is not null && Parameters[^1].ParameterType == typeof(string));
    }
}

/// <summary>The kind of a hook.</summary>
internal enum HookKind
{
    BeforeFeature,
    BeforeScenario,
    AfterScenario,
    AfterFeature,
}

/// <summary>One method bound as a hook.</summary>
internal sealed class HookBinding
{
    internal HookBinding(HookKind kind, Type bindingType, MethodInfo method, HookAttribute attribute)
    {
        Kind = kind;
        BindingType = bindingType;
        Method = method;
        Tags = attribute.Tags;
        Order = attribute.Order;
    }

    public HookKind Kind { get; }

    public Type BindingType { get; }

    public MethodInfo Method { get; }

    /// <summary>Scoping tags without '@'; empty means always.</summary>
    public IReadOnlyList<string> Tags { get; }

    public int Order { get; }

    /// <summary>"Class.Method".</summary>
    public string Location => $"{BindingType.Name}.{Method.Name}";

    /// <summary>True when the hook applies to something tagged <paramref name="tags"/>.</summary>
    public bool AppliesTo(IReadOnlyList<string> tags) =>
        Tags.Count == 0 || Tags.Any(t => tags.Contains(t, StringComparer.OrdinalIgnoreCase));

    public override string ToString() => $"[{Kind}{(Tags.Count == 0 ? "" : "(\"" + string.Join("\", \"", Tags) + "\")")}] {BindingType.FullName}.{Method.Name}";
}

/// <summary>What the registry found for a step.</summary>
internal abstract record StepMatch
{
    /// <summary>Exactly one binding fits; <paramref name="Captures"/> are its groups' texts.</summary>
    public sealed record Found(StepBinding Binding, IReadOnlyList<string> Captures) : StepMatch;

    /// <summary>No binding's expression matches the text.</summary>
    public sealed record Undefined(string Snippet) : StepMatch;

    /// <summary>Several bindings fit.</summary>
    public sealed record Ambiguous(IReadOnlyList<StepBinding> Candidates) : StepMatch;

    /// <summary>Expressions match but no method's parameters fit (count, or table / doc string argument).</summary>
    public sealed record ParameterMismatch(IReadOnlyList<StepBinding> Candidates) : StepMatch;
}

/// <summary>
/// The step definitions and hooks of a set of <c>[Binding]</c> classes, and the step matching. Definition mistakes
/// (a bad regular expression, parameters that do not fit the groups, an instance feature hook) are collected in
/// <see cref="Errors"/>; the runner fails every scenario with them rather than guessing.
/// </summary>
internal sealed class BindingRegistry
{
    private readonly List<StepBinding> _steps = [];
    private readonly List<HookBinding> _hooks = [];
    private readonly List<string> _errors = [];

    private BindingRegistry(IEnumerable<Type> types)
    {
        foreach (var type in types.Distinct().OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            {
                foreach (var attribute in method.GetCustomAttributes<StepDefinitionBaseAttribute>())
                {
                    AddStep(type, method, attribute);
                }

                foreach (var attribute in method.GetCustomAttributes<HookAttribute>())
                {
                    AddHook(type, method, attribute);
                }
            }
        }
    }

    /// <summary>Every class marked <c>[Binding]</c> in <paramref name="assembly"/>.</summary>
    public static BindingRegistry FromAssembly(Assembly assembly)
    {
        Type[] types;
        try
        {
            types = assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException ex)
        {
            types = [.. ex.Types.OfType<Type>()];
        }

        return new BindingRegistry(types.Where(t => t.IsDefined(typeof(BindingAttribute), inherit: false)));
    }

    /// <summary>Exactly these classes, marked <c>[Binding]</c> or not: for tests that need a private set of bindings.</summary>
    public static BindingRegistry FromTypes(params Type[] types) => new(types);

    public IReadOnlyList<StepBinding> Steps => _steps;

    public IReadOnlyList<HookBinding> Hooks => _hooks;

    /// <summary>Binding definition errors; non-empty fails every scenario.</summary>
    public IReadOnlyList<string> Errors => _errors;

    /// <summary>The hooks of a kind that apply to <paramref name="tags"/>, in run order.</summary>
    public IEnumerable<HookBinding> HooksFor(HookKind kind, IReadOnlyList<string> tags) =>
        _hooks.Where(h => h.Kind == kind && h.AppliesTo(tags))
            .OrderBy(h => h.Order)
            .ThenBy(h => h.BindingType.FullName, StringComparer.Ordinal)
            .ThenBy(h => h.Method.Name, StringComparer.Ordinal);

    /// <summary>Finds the binding for a step: by keyword (And / But resolved), text and argument.</summary>
    public StepMatch Match(ScenarioStep step)
    {
        var candidates = new List<(StepBinding Binding, Match Match)>();
        foreach (var binding in _steps)
        {
            if (binding.Keyword is { } keyword && keyword != step.Type)
            {
                continue;
            }

            var match = binding.Regex.Match(step.Text);
            if (match.Success)
            {
                candidates.Add((binding, match));
            }
        }

        if (candidates.Count == 0)
        {
            return new StepMatch.Undefined(SnippetGenerator.For(step));
        }

        var fitting = candidates.Where(c => c.Binding.AcceptsArgumentOf(step)).ToList();
        return fitting.Count switch
        {
            0 => new StepMatch.ParameterMismatch([.. candidates.Select(c => c.Binding)]),
            1 => new StepMatch.Found(
                fitting[0].Binding,
                [.. fitting[0].Match.Groups.Cast<Group>().Skip(1).Select(g => g.Success ? g.Value : "")]),
            _ => new StepMatch.Ambiguous([.. fitting.Select(c => c.Binding)]),
        };
    }

    private void AddStep(Type type, MethodInfo method, StepDefinitionBaseAttribute attribute)
    {
        var where = $"{type.FullName}.{method.Name}";
        Regex regex;
        try
        {
            regex = new Regex(Anchor(attribute.Regex), RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException ex)
        {
            _errors.Add($"{where}: the regular expression \"{attribute.Regex}\" is invalid: {ex.Message}");
            return;
        }

        var binding = new StepBinding(type, method, attribute, regex);
        var parameters = binding.Parameters;
        var fits = parameters.Length == binding.GroupCount
            || (parameters.Length == binding.GroupCount + 1
                && (parameters[^1].ParameterType == typeof(DataTable) || parameters[^1].ParameterType == typeof(string)));
        if (!fits)
        {
            _errors.Add(
                $"{where}: \"{attribute.Regex}\" has {binding.GroupCount} capture group(s) but the method has {parameters.Length} parameter(s); " +
                "give one parameter per group, plus a last DataTable or string for a table or doc string.");
            return;
        }

        if (!IsAwaitableOrVoid(method.ReturnType))
        {
            _errors.Add($"{where}: a step method returns void, Task or ValueTask, not {method.ReturnType.Name}.");
            return;
        }

        _steps.Add(binding);
    }

    private void AddHook(Type type, MethodInfo method, HookAttribute attribute)
    {
        var kind = attribute switch
        {
            BeforeFeatureAttribute => HookKind.BeforeFeature,
            AfterFeatureAttribute => HookKind.AfterFeature,
            BeforeScenarioAttribute => HookKind.BeforeScenario,
            _ => HookKind.AfterScenario,
        };
        var where = $"{type.FullName}.{method.Name}";
        if (kind is HookKind.BeforeFeature or HookKind.AfterFeature)
        {
            if (!method.IsStatic)
            {
                _errors.Add($"{where}: a [{kind}] hook must be static (it runs outside any scenario).");
                return;
            }

            if (method.GetParameters().Any(p => p.ParameterType != typeof(FeatureContext)))
            {
                _errors.Add($"{where}: a [{kind}] hook may only take a FeatureContext parameter.");
                return;
            }
        }

        if (!IsAwaitableOrVoid(method.ReturnType))
        {
            _errors.Add($"{where}: a hook returns void, Task or ValueTask, not {method.ReturnType.Name}.");
            return;
        }

        _hooks.Add(new HookBinding(kind, type, method, attribute));
    }

    private static bool IsAwaitableOrVoid(Type type) =>
        type == typeof(void) || typeof(Task).IsAssignableFrom(type) || type == typeof(ValueTask);

    private static string Anchor(string pattern)
    {
        var start = pattern.StartsWith('^') ? "" : "^";
        var end = pattern.EndsWith('$') && !pattern.EndsWith("\\$", StringComparison.Ordinal) ? "" : "$";
        return start.Length == 0 && end.Length == 0 ? pattern : $"{start}(?:{pattern}){end}";
    }
}
