namespace Tcm.Console.Tests.Infrastructure;

/// <summary>
/// A browser test: needs Debian's Chromium at <see cref="Path"/>. Without it the test is skipped, with the reason, outside
/// CI; under CI (<c>CI=true</c>) it runs and fails at once with <see cref="MissingMessage"/>, so a broken image is loud.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ChromiumFactAttribute : FactAttribute
{
    /// <summary>Where the apt package <c>chromium</c> puts the browser.</summary>
    public const string Path = "/usr/bin/chromium";

    /// <summary>What a run without the browser says.</summary>
    public const string MissingMessage = "Chromium not found at /usr/bin/chromium: .ci/run installs the 'chromium' apt package";

    public ChromiumFactAttribute()
    {
        if (!IsInstalled && !IsCi)
        {
            Skip = MissingMessage + " (skipped outside CI; with CI=true this test fails instead)";
        }
    }

    public static bool IsInstalled => File.Exists(Path);

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Fails the test with <see cref="MissingMessage"/> when the browser is not there (reached only under CI).</summary>
    public static void EnsureInstalled()
    {
        if (!IsInstalled)
        {
            throw new InvalidOperationException(MissingMessage);
        }
    }
}
