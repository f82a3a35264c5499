using System.Globalization;
using System.Net;
using System.Text;

namespace Tcm.Simulator.Reports;

/// <summary>Inline SVG charts drawn from report data: no script, no external resources; colours come from CSS variables.</summary>
internal static class SvgCharts
{
    /// <summary>A series of a stacked area chart: a name, a CSS colour and a value per sample.</summary>
    public sealed record Series(string Name, string Color, IReadOnlyList<double> Values);

    /// <summary>A vertical marker (a timeline event) at <see cref="At"/> seconds.</summary>
    public sealed record Marker(double At, string Label, string Tooltip);

    /// <summary>
    /// Stacked areas over time (x in seconds): each series stacked on the ones before it, y from 0 to <paramref name="total"/>
    /// shown as a percentage. Markers draw as dashed vertical lines with their label.
    /// </summary>
    public static string StackedArea(string title, IReadOnlyList<double> times, IReadOnlyList<Series> series, double total, IReadOnlyList<Marker> markers)
    {
        const int width = 960, height = 300, left = 48, right = 16, top = 28, bottom = 36;
        var plotW = width - left - right;
        var plotH = height - top - bottom;
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"<svg class=\"chart\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"{Esc(title)}\" xmlns=\"http://www.w3.org/2000/svg\">");
        sb.Append(CultureInfo.InvariantCulture, $"<title>{Esc(title)}</title>");

        var maxT = times.Count == 0 ? 1 : Math.Max(1, times[^1]);
        total = Math.Max(1, total);
        double X(double t) => left + t / maxT * plotW;
        double Y(double v) => top + plotH - v / total * plotH;

        // Grid and y axis (percent of agents).
        foreach (var p in new[] { 0, 25, 50, 75, 100 })
        {
            var y = Y(total * p / 100.0);
            sb.Append(CultureInfo.InvariantCulture, $"<line class=\"grid\" x1=\"{left}\" x2=\"{width - right}\" y1=\"{F(y)}\" y2=\"{F(y)}\"/>");
            sb.Append(CultureInfo.InvariantCulture, $"<text class=\"axis\" x=\"{left - 6}\" y=\"{F(y + 4)}\" text-anchor=\"end\">{p}%</text>");
        }

        // X ticks at a "nice" step.
        var step = NiceStep(maxT / 8);
        for (var t = 0.0; t <= maxT + 1e-9; t += step)
        {
            var x = X(t);
            sb.Append(CultureInfo.InvariantCulture, $"<line class=\"tick\" x1=\"{F(x)}\" x2=\"{F(x)}\" y1=\"{top + plotH}\" y2=\"{top + plotH + 4}\"/>");
            sb.Append(CultureInfo.InvariantCulture, $"<text class=\"axis\" x=\"{F(x)}\" y=\"{top + plotH + 18}\" text-anchor=\"middle\">{Esc(TimeLabel(t))}</text>");
        }

        // Areas, bottom to top.
        if (times.Count > 0)
        {
            var baseline = new double[times.Count];
            foreach (var s in series)
            {
                var upper = new double[times.Count];
                for (var i = 0; i < times.Count; i++)
                {
                    upper[i] = baseline[i] + (i < s.Values.Count ? s.Values[i] : 0);
                }

                var path = new StringBuilder();
                for (var i = 0; i < times.Count; i++)
                {
                    path.Append(i == 0 ? 'M' : 'L').Append(F(X(times[i]))).Append(',').Append(F(Y(upper[i])));
                }

                for (var i = times.Count - 1; i >= 0; i--)
                {
                    path.Append('L').Append(F(X(times[i]))).Append(',').Append(F(Y(baseline[i])));
                }

                path.Append('Z');
                sb.Append(CultureInfo.InvariantCulture, $"<path class=\"area\" d=\"{path}\" style=\"fill:{s.Color}\"><title>{Esc(s.Name)}</title></path>");
                baseline = upper;
            }
        }

        // Event markers.
        var row = 0;
        foreach (var m in markers.Where(m => m.At >= 0 && m.At <= maxT))
        {
            var x = X(m.At);
            sb.Append(CultureInfo.InvariantCulture, $"<g class=\"marker\"><title>{Esc(m.Tooltip)}</title>");
            sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{F(x)}\" x2=\"{F(x)}\" y1=\"{top}\" y2=\"{top + plotH}\"/>");
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(x + 3)}\" y=\"{top + 12 + (row % 3) * 12}\">{Esc(m.Label)}</text></g>");
            row++;
        }

        sb.Append(CultureInfo.InvariantCulture, $"<rect class=\"frame\" x=\"{left}\" y=\"{top}\" width=\"{plotW}\" height=\"{plotH}\"/>");

        // Legend.
        var lx = left;
        foreach (var s in series)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{lx}\" y=\"8\" width=\"12\" height=\"12\" rx=\"2\" style=\"fill:{s.Color}\"/>");
            sb.Append(CultureInfo.InvariantCulture, $"<text class=\"legend\" x=\"{lx + 17}\" y=\"18\">{Esc(s.Name)}</text>");
            lx += 30 + s.Name.Length * 7;
        }

        sb.Append("</svg>");
        return sb.ToString();
    }

    /// <summary>Grouped bars of latency histograms (one group per bucket, one bar per series).</summary>
    public static string Histogram(string title, IReadOnlyList<(string Name, string Color, LatencySummary Summary)> series)
    {
        const int width = 960, height = 240, left = 48, right = 16, top = 28, bottom = 40;
        var plotW = width - left - right;
        var plotH = height - top - bottom;
        var bucketCount = LatencySummary.BucketBounds.Length + 1;
        var max = Math.Max(1, series.SelectMany(s => s.Summary.Histogram).Select(b => b.Count).DefaultIfEmpty(0).Max());
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"<svg class=\"chart\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"{Esc(title)}\" xmlns=\"http://www.w3.org/2000/svg\">");
        sb.Append(CultureInfo.InvariantCulture, $"<title>{Esc(title)}</title>");
        foreach (var f in new[] { 0.0, 0.5, 1.0 })
        {
            var y = top + plotH - f * plotH;
            sb.Append(CultureInfo.InvariantCulture, $"<line class=\"grid\" x1=\"{left}\" x2=\"{width - right}\" y1=\"{F(y)}\" y2=\"{F(y)}\"/>");
            sb.Append(CultureInfo.InvariantCulture, $"<text class=\"axis\" x=\"{left - 6}\" y=\"{F(y + 4)}\" text-anchor=\"end\">{Math.Round(max * f)}</text>");
        }

        var groupW = (double)plotW / bucketCount;
        var barW = (groupW - 6) / Math.Max(1, series.Count);
        for (var b = 0; b < bucketCount; b++)
        {
            var gx = left + b * groupW + 3;
            for (var s = 0; s < series.Count; s++)
            {
                var histogram = series[s].Summary.Histogram;
                var count = b < histogram.Count ? histogram[b].Count : 0;
                var h = (double)count / max * plotH;
                sb.Append(CultureInfo.InvariantCulture,
                    $"<rect class=\"bar\" x=\"{F(gx + s * barW)}\" y=\"{F(top + plotH - h)}\" width=\"{F(Math.Max(1, barW - 1))}\" height=\"{F(h)}\" style=\"fill:{series[s].Color}\"><title>{Esc(series[s].Name)} {Esc(BucketLabel(b))}: {count}</title></rect>");
            }

            sb.Append(CultureInfo.InvariantCulture, $"<text class=\"axis\" x=\"{F(gx + groupW / 2 - 3)}\" y=\"{top + plotH + 16}\" text-anchor=\"middle\">{Esc(BucketLabel(b))}</text>");
        }

        sb.Append(CultureInfo.InvariantCulture, $"<rect class=\"frame\" x=\"{left}\" y=\"{top}\" width=\"{plotW}\" height=\"{plotH}\"/>");
        var lx = left;
        foreach (var (name, color, summary) in series)
        {
            var label = $"{name}: p50 {ReportWriter.Ms(summary.P50)}, p99 {ReportWriter.Ms(summary.P99)} (n={summary.Count})";
            sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{lx}\" y=\"8\" width=\"12\" height=\"12\" rx=\"2\" style=\"fill:{color}\"/>");
            sb.Append(CultureInfo.InvariantCulture, $"<text class=\"legend\" x=\"{lx + 17}\" y=\"18\">{Esc(label)}</text>");
            lx += 40 + label.Length * 6;
        }

        sb.Append(CultureInfo.InvariantCulture, $"<text class=\"axis\" x=\"{left + plotW / 2}\" y=\"{height - 6}\" text-anchor=\"middle\">latency (upper bound of bucket)</text>");
        sb.Append("</svg>");
        return sb.ToString();
    }

    private static string BucketLabel(int bucket)
    {
        var bounds = LatencySummary.BucketBounds;
        return bucket < bounds.Length ? "≤" + ReportWriter.Ms(bounds[bucket]).Replace(" ", "", StringComparison.Ordinal) : ">" + ReportWriter.Ms(bounds[^1]).Replace(" ", "", StringComparison.Ordinal);
    }

    private static double NiceStep(double raw)
    {
        double[] steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];
        return steps.FirstOrDefault(s => s >= raw, 7200);
    }

    private static string TimeLabel(double seconds) => seconds < 60
        ? $"{seconds:0}s"
        : seconds % 60 == 0 ? $"{seconds / 60:0}m" : $"{Math.Floor(seconds / 60):0}m{seconds % 60:0}s";

    private static string F(double v) => v.ToString("0.#", CultureInfo.InvariantCulture);

    internal static string Esc(string text) => WebUtility.HtmlEncode(text);
}
