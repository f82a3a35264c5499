using System.Globalization;
using System.Net;

namespace Tcm.Testing;

/// <summary>
/// A scrape of a server's <c>/metrics</c> (Prometheus text format), read the way a dashboard sums a series: every sample of a
/// metric whose labels include the given ones.
/// </summary>
public sealed class PrometheusScrape
{
    private readonly List<(string Name, string Labels, double Value)> _samples = [];

    private PrometheusScrape(string text)
    {
        Text = text;
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var brace = line.IndexOf('{', StringComparison.Ordinal);
            var space = line.LastIndexOf('}') is var close and > 0 ? line.IndexOf(' ', close) : line.IndexOf(' ', StringComparison.Ordinal);
            var name = brace > 0 && brace < space ? line[..brace] : line[..space];
            var labels = brace > 0 && brace < space ? line[(brace + 1)..line.LastIndexOf('}')] : "";
            var value = line[(space + 1)..].Split(' ')[0];
            if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed))
            {
                _samples.Add((name, labels, parsed));
            }
        }
    }

    /// <summary>The text as served.</summary>
    public string Text { get; }

    /// <summary>Scrapes <c>/metrics</c> with <paramref name="client"/> (which carries the admin key); fails unless 200.</summary>
    public static async Task<PrometheusScrape> ScrapeAsync(HttpClient client, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        using var response = await client.GetAsync(new Uri("/metrics", UriKind.Relative), cancellationToken).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"GET /metrics answered {(int)response.StatusCode}: {text}");
        }

        return new PrometheusScrape(text);
    }

    /// <summary>Whether the scrape has any sample of <paramref name="metric"/>.</summary>
    public bool Has(string metric) => _samples.Exists(s => s.Name == metric);

    /// <summary>The sum of the samples of <paramref name="metric"/> whose labels include every one of <paramref name="labels"/> (<c>name="value"</c>).</summary>
    public double Sum(string metric, params string[] labels) =>
        _samples.Where(s => s.Name == metric && labels.All(l => s.Labels.Contains(l, StringComparison.Ordinal))).Sum(s => s.Value);
}
