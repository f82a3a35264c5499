namespace Tcm.LoadTests.Harness.Reports;

/// <summary>Writes a report in every format into a folder.</summary>
internal static class ReportWriter
{
    /// <summary>Writes report.html, report.md, report.csv, gauges.csv and report.json into <paramref name="folder"/>; returns the paths.</summary>
    public static async Task<IReadOnlyList<string>> WriteAllAsync(LoadTestReport report, string folder, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(folder);
        var files = new (string Name, string Content)[]
        {
            ("report.html", HtmlReport.Write(report)),
            ("report.md", MarkdownReport.Write(report)),
            ("report.csv", CsvReport.Write(report)),
            ("gauges.csv", CsvReport.WriteGauges(report)),
            ("report.json", JsonReport.Write(report)),
        };
        var paths = new List<string>();
        foreach (var (name, content) in files)
        {
            var path = Path.Combine(folder, name);
            await File.WriteAllTextAsync(path, content, cancellationToken).ConfigureAwait(false);
            paths.Add(path);
        }

        return paths;
    }
}
