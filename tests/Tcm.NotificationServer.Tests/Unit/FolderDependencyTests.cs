using System.Reflection;
using System.Reflection.Emit;

namespace Tcm.NotificationServer.Tests.Unit;

/// <summary>
/// The folders of the NS (namespace <c>Tcm.NotificationServer.{Folder}</c>) form layers: a folder may use the folders below
/// it, never one that uses it back. The graph is read from the compiled assembly, signatures and method bodies alike, so a
/// reference a <c>using</c> directive would not show (same namespace, fully qualified name) counts too. The root namespace
/// wires every folder together and is not a folder.
/// </summary>
public sealed class FolderDependencyTests
{
    private const string Root = "Tcm.NotificationServer";
    private const BindingFlags Declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    [Fact]
    public void No_folder_of_the_notification_server_depends_on_itself_through_others()
    {
        var graph = FolderGraph(typeof(NotificationServerInfo).Assembly);

        graph.Keys.Should().Contain(["Store", "Agents", "AgentEndpoints", "Admin"], "the graph must see the NS's folders to mean anything");
        FindCycle(graph).Should().BeNull("the folders of the NS must form layers, but this cycle exists");
    }

    [Fact]
    public void A_cycle_is_reported_with_its_folders()
    {
        var graph = new Dictionary<string, HashSet<string>>
        {
            ["Store"] = [],
            ["Agents"] = ["Store", "Delivery"],
            ["Delivery"] = ["Store", "Agents"],
        };

        FindCycle(graph).Should().BeOneOf("Agents -> Delivery -> Agents", "Delivery -> Agents -> Delivery");
    }

    private static Dictionary<string, HashSet<string>> FolderGraph(Assembly assembly)
    {
        var graph = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var type in assembly.GetTypes())
        {
            if (FolderOf(type) is not { } folder)
            {
                continue;
            }

            var edges = graph.TryGetValue(folder, out var existing) ? existing : graph[folder] = [];
            foreach (var used in UsedTypes(type))
            {
                if (used.Assembly == assembly && FolderOf(used) is { } target && target != folder)
                {
                    edges.Add(target);
                }
            }
        }

        return graph;
    }

    private static string? FolderOf(Type type)
    {
        while (type.DeclaringType is { } outer)
        {
            type = outer;
        }

        var ns = type.Namespace;
        return ns is not null && ns.StartsWith(Root + ".", StringComparison.Ordinal) ? ns[(Root.Length + 1)..].Split('.')[0] : null;
    }

    private static IEnumerable<Type> UsedTypes(Type type)
    {
        var found = new List<Type>();
        found.Add(type.BaseType!);
        found.AddRange(type.GetInterfaces());
        found.AddRange(type.GetFields(Declared).Select(f => f.FieldType));
        found.AddRange(type.GetProperties(Declared).Select(p => p.PropertyType));
        foreach (var method in type.GetMethods(Declared).Cast<MethodBase>().Concat(type.GetConstructors(Declared)))
        {
            if (method is MethodInfo info)
            {
                found.Add(info.ReturnType);
            }

            found.AddRange(method.GetParameters().Select(p => p.ParameterType));
            found.AddRange(TypesInBody(method));
        }

        return found.Where(t => t is not null).SelectMany(Expand);
    }

    private static IEnumerable<Type> Expand(Type type)
    {
        if (type.HasElementType)
        {
            return Expand(type.GetElementType()!);
        }

        return type.IsGenericType && !type.IsGenericTypeDefinition
            ? type.GetGenericArguments().SelectMany(Expand).Prepend(type.GetGenericTypeDefinition())
            : [type];
    }

    /// <summary>Types a method body names: the locals and every type, field and method token of its IL.</summary>
    private static IEnumerable<Type> TypesInBody(MethodBase method)
    {
        var body = method.GetMethodBody();
        if (body is null)
        {
            yield break;
        }

        foreach (var local in body.LocalVariables)
        {
            yield return local.LocalType;
        }

        var il = body.GetILAsByteArray() ?? [];
        var module = method.Module;
        var typeArgs = method.DeclaringType?.IsGenericType == true ? method.DeclaringType.GetGenericArguments() : null;
        var methodArgs = method.IsGenericMethod ? method.GetGenericArguments() : null;
        var at = 0;
        while (at < il.Length)
        {
            var opCode = il[at] == 0xFE ? OpCodesByValue[(short)(0xFE00 | il[at + 1])] : OpCodesByValue[il[at]];
            at += opCode.Size;
            switch (opCode.OperandType)
            {
                case OperandType.InlineType or OperandType.InlineTok or OperandType.InlineField or OperandType.InlineMethod:
                    var member = Resolve(module, BitConverter.ToInt32(il, at), typeArgs, methodArgs);
                    if (member is Type t)
                    {
                        yield return t;
                    }
                    else if (member?.DeclaringType is { } declaring)
                    {
                        yield return declaring;
                    }

                    at += 4;
                    break;
                case OperandType.InlineSwitch:
                    at += 4 + (4 * BitConverter.ToInt32(il, at));
                    break;
                case OperandType.InlineI8 or OperandType.InlineR:
                    at += 8;
                    break;
                case OperandType.InlineNone:
                    break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar:
                    at += 1;
                    break;
                case OperandType.InlineVar:
                    at += 2;
                    break;
                default:
                    at += 4;
                    break;
            }
        }
    }

    private static MemberInfo? Resolve(Module module, int token, Type[]? typeArgs, Type[]? methodArgs)
    {
        try
        {
            return module.ResolveMember(token, typeArgs, methodArgs);
        }
        catch (ArgumentException)
        {
            // why: a token of another assembly's generic member can fail to resolve out of context; it names no NS folder.
            return null;
        }
    }

    private static string? FindCycle(Dictionary<string, HashSet<string>> graph)
    {
        var done = new HashSet<string>(StringComparer.Ordinal);
        var path = new List<string>();

        string? Visit(string folder)
        {
            var onPath = path.IndexOf(folder);
            if (onPath >= 0)
            {
                return string.Join(" -> ", path.Skip(onPath).Append(folder));
            }

            if (!done.Add(folder))
            {
                return null;
            }

            path.Add(folder);
            foreach (var next in graph.GetValueOrDefault(folder, []).Order(StringComparer.Ordinal))
            {
                if (Visit(next) is { } cycle)
                {
                    return cycle;
                }
            }

            path.RemoveAt(path.Count - 1);
            return null;
        }

        foreach (var folder in graph.Keys.Order(StringComparer.Ordinal))
        {
            if (Visit(folder) is { } cycle)
            {
                return cycle;
            }
        }

        return null;
    }
}
