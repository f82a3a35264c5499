using System.Collections.Concurrent;

namespace Tcm.Features.Runner.XunitAdapter;

/// <summary>One .feature file found under the features root: parsed, or the reason it does not parse.</summary>
internal sealed record FeatureFile(string Uri, GherkinFeature? Feature, string? Error);

/// <summary>
/// The .feature files under a folder (the test assembly's output folder, where the build copies them), parsed once per
/// process and ordered by path. Discovery lists them; execution finds a scenario again by file and key.
/// </summary>
internal sealed class FeatureCatalog
{
    private static readonly ConcurrentDictionary<string, Lazy<FeatureCatalog>> s_catalogs = new(StringComparer.Ordinal);

    private FeatureCatalog(string root)
    {
        Root = root;
        var files = new List<FeatureFile>();
        if (Directory.Exists(root))
        {
            foreach (var path in Directory.EnumerateFiles(root, "*.feature", SearchOption.AllDirectories))
            {
                var uri = Path.GetRelativePath(root, path).Replace('\\', '/');
                if (uri.Split('/').SkipLast(1).Any(folder => folder is "bin" or "obj"))
                {
                    // A build output copied into itself, never a feature of its own.
                    continue;
                }

                try
                {
                    files.Add(new FeatureFile(uri, FeatureParser.ParseFile(path, uri), null));
                }
                catch (Exception ex) when (ex is FeatureParseException or IOException)
                {
                    files.Add(new FeatureFile(uri, null, ex.Message));
                }
            }
        }

        Files = [.. files.OrderBy(f => f.Uri, StringComparer.Ordinal)];
    }

    /// <summary>The folder searched.</summary>
    public string Root { get; }

    /// <summary>Every .feature file, by path.</summary>
    public IReadOnlyList<FeatureFile> Files { get; }

    /// <summary>The catalog of <paramref name="root"/>, loaded on first use.</summary>
    public static FeatureCatalog For(string root) =>
        s_catalogs.GetOrAdd(Path.GetFullPath(root), r => new Lazy<FeatureCatalog>(() => new FeatureCatalog(r))).Value;

    /// <summary>The scenario with <paramref name="key"/> in the file <paramref name="uri"/>, or null if the file changed since discovery.</summary>
    public ScenarioPickle? Find(string uri, string key) =>
        Files.FirstOrDefault(f => f.Uri == uri)?.Feature?.Scenarios.FirstOrDefault(s => s.Key == key);
}
