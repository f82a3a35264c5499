using System.Collections.Concurrent;
using System.Reflection;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Tcm.Simulator.Scenarios;

/// <summary>What <see cref="ScenarioDeserializer"/> read from a scenario file.</summary>
/// <param name="Document">The document, or null when the file holds no value.</param>
/// <param name="SecondDocument">Where a second YAML document starts (a scenario is one), or null.</param>
/// <param name="RepeatedKeys">Keys written a second time in the same mapping (their values are dropped: the first counts).</param>
internal sealed record ScenarioYaml(ScenarioDocument? Document, Mark? SecondDocument, IReadOnlyList<Mark> RepeatedKeys);

/// <summary>
/// Reads a scenario file into a <see cref="ScenarioDocument"/> with YamlDotNet's deserializer. It never rejects a value for
/// its shape, so the validators can report every problem at once: a section whose value is not a mapping keeps it in
/// <see cref="YamlSection.Other"/>, a key that is not a property is kept in <see cref="YamlSection.Keys"/> with its position, and
/// every leaf stays a <see cref="YamlNode"/>, which carries its start mark. Only broken YAML throws.
/// </summary>
internal static class ScenarioDeserializer
{
    private static readonly IDeserializer s_deserializer = new DeserializerBuilder()
        .WithNodeDeserializer(new SectionNodeDeserializer(), s => s.OnTop())
        .WithNodeDeserializer(new YamlNodeDeserializer(), s => s.OnTop())
        .Build();

    /// <summary>Reads <paramref name="text"/>.</summary>
    /// <exception cref="YamlException">The text is not valid YAML, or an alias names no anchor.</exception>
    public static ScenarioYaml Deserialize(string text)
    {
        var repeatedKeys = new List<Mark>();
        var parser = new ReplayParser(ReadEvents(text, repeatedKeys));
        parser.Consume<StreamStart>();
        if (!parser.TryConsume<DocumentStart>(out _) || parser.Current is Scalar { Value: "" })
        {
            return new ScenarioYaml(null, null, repeatedKeys);
        }

        var document = (ScenarioDocument?)s_deserializer.Deserialize(parser, typeof(ScenarioDocument));
        parser.Consume<DocumentEnd>();
        Mark? secondDocument = parser.TryConsume<DocumentStart>(out _) ? parser.Current!.Start : null;
        return new ScenarioYaml(document, secondDocument, repeatedKeys);
    }

    /// <summary>
    /// Every event of the text, so broken YAML anywhere is reported before anything is read, and alone (nothing after it
    /// can be trusted). A key repeated in a mapping is recorded in <paramref name="repeatedKeys"/> and dropped with its value,
    /// so the first value counts and the deserializer never sees a mapping it could not hold.
    /// </summary>
    private static List<ParsingEvent> ReadEvents(string text, List<Mark> repeatedKeys)
    {
        var events = new List<ParsingEvent>();
        var parser = new Parser(new StringReader(text));
        var open = new Stack<Collection>();
        var dropping = false;
        var dropDepth = 0;
        try
        {
            while (parser.MoveNext())
            {
                var e = parser.Current!;
                if (dropping)
                {
                    dropDepth += e is MappingStart or SequenceStart ? 1 : e is MappingEnd or SequenceEnd ? -1 : 0;
                    dropping = dropDepth > 0;
                    continue;
                }

                if (e is NodeEvent && open.TryPeek(out var parent) && parent.Keys is { } keys)
                {
                    var isKey = parent.AtKey;
                    parent.AtKey = !parent.AtKey;
                    if (isKey && e is Scalar key && !keys.Add(key.Value))
                    {
                        repeatedKeys.Add(key.Start);
                        parent.AtKey = true;
                        dropping = true;
                        continue;
                    }
                }

                if (e is MappingStart or SequenceStart)
                {
                    open.Push(new Collection { Keys = e is MappingStart ? new HashSet<string>(StringComparer.Ordinal) : null });
                }
                else if (e is MappingEnd or SequenceEnd)
                {
                    open.Pop();
                }

                events.Add(e);
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
        {
            // YamlDotNet's scanner fails this way, instead of with a syntax error, on a flow collection left open.
            var at = events.Count > 0 ? events[^1].Start : Mark.Empty;
            throw new YamlException(at, at, "cannot read on after this; is a '{' or '[' not closed?");
        }

        return events;
    }

    /// <summary>An open mapping (with the keys seen so far and whether its next node is a key) or sequence (no keys).</summary>
    private sealed class Collection
    {
        public HashSet<string>? Keys { get; init; }
        public bool AtKey { get; set; } = true;
    }

    /// <summary>Plays back the events <see cref="ReadEvents"/> read, for the deserializer.</summary>
    private sealed class ReplayParser(List<ParsingEvent> events) : IParser
    {
        private int _next = -1;

        public ParsingEvent? Current => _next >= 0 && _next < events.Count ? events[_next] : null;

        public bool MoveNext() => ++_next < events.Count;
    }

    /// <summary>Leaves: whatever the value is, as a representation-model node with its marks.</summary>
    private sealed class YamlNodeDeserializer : INodeDeserializer
    {
        public bool Deserialize(IParser reader, Type expectedType, Func<IParser, Type, object?> nestedObjectDeserializer, out object? value, ObjectDeserializer rootDeserializer)
        {
            if (expectedType != typeof(YamlNode))
            {
                value = null;
                return false;
            }

            YamlNode node = reader.Current switch
            {
                MappingStart => new YamlMappingNode(),
                SequenceStart => new YamlSequenceNode(),
                _ => new YamlScalarNode(),
            };
            ((IYamlConvertible)node).Read(reader, expectedType, t => nestedObjectDeserializer(reader, t));
            value = node;
            return true;
        }
    }

    /// <summary>
    /// <see cref="YamlSection"/>s: a mapping fills the properties whose camelCase name is the key, a list fills a
    /// <see cref="SectionList{T}"/>, any other value goes to <see cref="YamlSection.Other"/>.
    /// </summary>
    private sealed class SectionNodeDeserializer : INodeDeserializer
    {
        private static readonly ConcurrentDictionary<Type, Dictionary<string, PropertyInfo>> s_properties = new();

        public bool Deserialize(IParser reader, Type expectedType, Func<IParser, Type, object?> nestedObjectDeserializer, out object? value, ObjectDeserializer rootDeserializer)
        {
            if (!typeof(YamlSection).IsAssignableFrom(expectedType))
            {
                value = null;
                return false;
            }

            var section = (YamlSection)Activator.CreateInstance(expectedType)!;
            section.Start = reader.Current!.Start;
            value = section;
            if (expectedType.IsGenericType && expectedType.GetGenericTypeDefinition() == typeof(SectionList<>))
            {
                ReadList(reader, (ISectionList)section, expectedType.GetGenericArguments()[0], nestedObjectDeserializer);
            }
            else if (reader.TryConsume<MappingStart>(out _))
            {
                ReadMapping(reader, section, nestedObjectDeserializer);
            }
            else
            {
                section.Other = (YamlNode?)nestedObjectDeserializer(reader, typeof(YamlNode));
            }

            return true;
        }

        private static void ReadList(IParser reader, ISectionList list, Type itemType, Func<IParser, Type, object?> nested)
        {
            if (!reader.TryConsume<SequenceStart>(out _))
            {
                list.SetSingle(nested(reader, itemType));
                return;
            }

            while (!reader.TryConsume<SequenceEnd>(out _))
            {
                list.Add(nested(reader, itemType));
            }
        }

        private static void ReadMapping(IParser reader, YamlSection section, Func<IParser, Type, object?> nested)
        {
            var properties = s_properties.GetOrAdd(section.GetType(), PropertiesOf);
            while (!reader.TryConsume<MappingEnd>(out _))
            {
                var key = (YamlNode)nested(reader, typeof(YamlNode))!;
                section.Keys.Add(key);
                if (key is not YamlScalarNode { Value: { } name } || !properties.TryGetValue(name, out var property))
                {
                    reader.SkipThisAndNestedEvents();
                    continue;
                }

                property.SetValue(section, nested(reader, property.PropertyType));
            }
        }

        private static Dictionary<string, PropertyInfo> PropertiesOf(Type type) => Keyed(type).ToDictionary(p => p.Key, p => p.Property, StringComparer.Ordinal);
    }

    /// <summary>The keys a section takes, in the order its properties are declared (the order "expected one of" lists them in).</summary>
    public static IReadOnlyList<string> KeysOf<T>()
        where T : YamlSection => Keyed(typeof(T)).Select(p => p.Key).ToArray();

    private static IEnumerable<(string Key, PropertyInfo Property)> Keyed(Type type) => type
        .GetProperties(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
        .Where(p => p.CanWrite)
        .OrderBy(p => p.MetadataToken)
        .Select(p => (CamelCaseNamingConvention.Instance.Apply(p.Name), p));
}
