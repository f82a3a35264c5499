using System.Net;
using System.Text;

namespace Tcm.LoadTests.Harness.Reports;

/// <summary>One line of a chart.</summary>
/// <param name="Name">Legend text.</param>
/// <param name="Points">(x, y) points in order of x.</param>
/// <param name="Dashed">Drawn dashed (p50 beside a solid p99).</param>
internal sealed record ChartSeries(string Name, IReadOnlyList<(double X, double Y)> Points, bool Dashed = false);

/// <summary>Draws line charts as inline SVG: axes with round ticks, a grid, lines and a legend. No script, no external file.</summary>
internal static class SvgChart
{
    private static readonly string[] s_palette = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777"];

    /// <summary>A line chart; <paramref name="yFormat"/> turns a y tick into text.</summary>
    public static string Line(string title, string xLabel, string yLabel, IReadOnlyList<ChartSeries> series, Func<double, string>? yFormat = null, int width = 560, int height = 250)
    {
        yFormat ??= v => Format.Number(v);
        const int left = 64, right = 16, top = 34, bottom = 58;
        var plotW = width - left - right;
        var plotH = height - top - bottom;
        var points = series.SelectMany(s => s.Points).Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).ToList();
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"{Esc(title)}\">");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left}\" y=\"18\" class=\"ct\">{Esc(title)}</text>");
        if (points.Count == 0)
        {
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{width / 2}\" y=\"{height / 2}\" text-anchor=\"middle\" class=\"cl\">no data</text></svg>");
            return svg.ToString();
        }

        var xMax = NiceCeiling(Math.Max(points.Max(p => p.X), 1e-9));
        var yMax = NiceCeiling(Math.Max(points.Max(p => p.Y), 1e-9));
        double X(double x) => left + x / xMax * plotW;
        double Y(double y) => top + plotH - y / yMax * plotH;

        for (var i = 0; i <= 4; i++)
        {
            var v = yMax * i / 4;
            var y = Y(v);
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{left}\" y1=\"{y:0.#}\" x2=\"{left + plotW}\" y2=\"{y:0.#}\" class=\"grid\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left - 6}\" y=\"{y + 4:0.#}\" text-anchor=\"end\" class=\"cl\">{Esc(yFormat(v))}</text>");
        }

        for (var i = 0; i <= 5; i++)
        {
            var v = xMax * i / 5;
            var x = X(v);
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{x:0.#}\" y1=\"{top + plotH}\" x2=\"{x:0.#}\" y2=\"{top + plotH + 4}\" class=\"axis\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{x:0.#}\" y=\"{top + plotH + 16}\" text-anchor=\"middle\" class=\"cl\">{Esc(Format.Number(v))}</text>");
        }

        svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{left}\" y1=\"{top + plotH}\" x2=\"{left + plotW}\" y2=\"{top + plotH}\" class=\"axis\"/>");
        svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{top + plotH}\" class=\"axis\"/>");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left + plotW / 2}\" y=\"{top + plotH + 30}\" text-anchor=\"middle\" class=\"cl\">{Esc(xLabel)}</text>");
        svg.Append(CultureInfo.InvariantCulture, $"<text transform=\"translate(14 {top + plotH / 2}) rotate(-90)\" text-anchor=\"middle\" class=\"cl\">{Esc(yLabel)}</text>");

        var legendX = (double)left;
        for (var s = 0; s < series.Count; s++)
        {
            var color = s_palette[s % s_palette.Length];
            var line = series[s];
            var dash = line.Dashed ? " stroke-dasharray=\"5 3\"" : "";
            var valid = line.Points.Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).ToList();
            if (valid.Count == 1)
            {
                svg.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{X(valid[0].X):0.#}\" cy=\"{Y(valid[0].Y):0.#}\" r=\"3\" fill=\"{color}\"/>");
            }
            else if (valid.Count > 1)
            {
                svg.Append(CultureInfo.InvariantCulture, $"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"1.8\"{dash} points=\"");
                foreach (var (x, y) in valid)
                {
                    svg.Append(CultureInfo.InvariantCulture, $"{X(x):0.#},{Y(y):0.#} ");
                }

                svg.Append("\"/>");
            }

            var legendY = height - 10;
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{legendX:0.#}\" y1=\"{legendY - 4}\" x2=\"{legendX + 16:0.#}\" y2=\"{legendY - 4}\" stroke=\"{color}\" stroke-width=\"2.5\"{dash}/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{legendX + 20:0.#}\" y=\"{legendY}\" class=\"cl\">{Esc(line.Name)}</text>");
            legendX += 28 + line.Name.Length * 6.2;
        }

        svg.Append("</svg>");
        return svg.ToString();
    }

    /// <summary>The smallest 1, 2, 2.5 or 5 times a power of ten at or above <paramref name="value"/>.</summary>
    public static double NiceCeiling(double value)
    {
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(value)));
        foreach (var step in new[] { 1, 2, 2.5, 5, 10 })
        {
            if (step * magnitude >= value * 0.999999)
            {
                return step * magnitude;
            }
        }

        return 10 * magnitude;
    }

    private static string Esc(string text) => WebUtility.HtmlEncode(text);
}
