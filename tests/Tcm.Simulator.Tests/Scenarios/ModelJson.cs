using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tcm.Simulator.Tests.Scenarios;

/// <summary>
/// Every public instance property of a loaded model, recursively, as indented JSON with each object's runtime type: two
/// models load the same when their JSON is the same (System.Text.Json alone would drop the properties of derived records).
/// </summary>
internal static class ModelJson
{
    private static readonly JsonSerializerOptions s_options = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Write(object? value) => ToNode(value)?.ToJsonString(s_options) ?? "null";

    private static JsonNode? ToNode(object? value) => value switch
    {
        null => null,
        string s => JsonValue.Create(s),
        bool b => JsonValue.Create(b),
        Enum e => JsonValue.Create(e.ToString()),
        int or long => JsonValue.Create(Convert.ToInt64(value, CultureInfo.InvariantCulture)),
        double d => JsonValue.Create(d.ToString("R", CultureInfo.InvariantCulture)),
        TimeSpan t => JsonValue.Create(t.ToString("c", CultureInfo.InvariantCulture)),
        Uri u => JsonValue.Create(u.OriginalString),
        IDictionary dictionary => Dictionary(dictionary),
        IEnumerable items => new JsonArray(items.Cast<object?>().Select(ToNode).ToArray()),
        _ => Object(value),
    };

    private static JsonObject Dictionary(IDictionary dictionary)
    {
        var result = new JsonObject();
        foreach (var key in dictionary.Keys.Cast<object>().Select(k => k.ToString()!).Order(StringComparer.Ordinal))
        {
            result[key] = ToNode(dictionary[key]);
        }

        return result;
    }

    private static JsonObject Object(object value)
    {
        var type = value.GetType();
        var result = new JsonObject { ["$type"] = type.Name };
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length == 0)
            {
                result[property.Name] = ToNode(property.GetValue(value));
            }
        }

        return result;
    }
}
