namespace Tcm.LoadTests.Cli;

/// <summary>Exit codes of the load-test command.</summary>
internal static class ExitCodes
{
    public const int Passed = 0;
    public const int ThresholdsFailed = 1;
    public const int UsageError = 2;
    public const int RunError = 3;
}
