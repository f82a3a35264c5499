namespace Tcm.Simulator.Tests;

internal static class TestPaths
{
    /// <summary>The repository root (the folder with TCM.sln).</summary>
    public static string RepoRoot { get; } = FindRoot();

    public static string Scenarios => Path.Combine(RepoRoot, "scenarios");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "TCM.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"cannot find TCM.sln above {AppContext.BaseDirectory}: run the tests from a checkout of the repository");
    }
}
