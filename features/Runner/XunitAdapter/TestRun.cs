using Xunit;
using Xunit.Abstractions;

namespace Tcm.Features.Runner.XunitAdapter;

/// <summary>
/// The state of one `dotnet test` run: the bindings of this assembly, the feature that is open (its
/// <see cref="FeatureContext"/> and hooks), and the Cucumber report, rewritten after every scenario. Scenarios run one
/// at a time.
/// </summary>
internal static class TestRun
{
    private static readonly Lazy<BindingRegistry> s_registry = new(() => BindingRegistry.FromAssembly(typeof(TestRun).Assembly));
    private static readonly SemaphoreSlim s_gate = new(1, 1);
    private static FeatureContext? s_openFeature;

    /// <summary>Every scenario result of the run.</summary>
    public static CucumberJsonReport Report { get; } = new();

    /// <summary>
    /// Runs one scenario inside its feature: opens the feature (before-feature hooks) if it is not the open one, and
    /// closes it (after-feature hooks) when <paramref name="lastInFeature"/>; a failing after-feature hook fails this scenario.
    /// </summary>
    public static async Task<ScenarioResult> RunAsync(ScenarioPickle scenario, ITestOutputHelper output, bool lastInFeature, CancellationToken cancellationToken)
    {
        await s_gate.WaitAsync(cancellationToken);
        try
        {
            var registry = s_registry.Value;
            if (s_openFeature is not null && s_openFeature.FeatureInfo.Uri != scenario.Feature.Uri)
            {
                var closed = await FeatureRunner.RunAfterFeatureAsync(s_openFeature, registry, output);
                s_openFeature = null;
                if (closed.Error is not null)
                {
                    output.WriteLine($"(an [AfterFeature] hook of the previous feature failed: {closed.Error.Message})");
                }
            }

            if (s_openFeature is null)
            {
                s_openFeature = new FeatureContext(scenario.Feature);
                await FeatureRunner.RunBeforeFeatureAsync(s_openFeature, registry, output);
            }

            var result = await FeatureRunner.RunScenarioAsync(scenario, registry, output, s_openFeature, cancellationToken);
            if (lastInFeature)
            {
                var after = await FeatureRunner.RunAfterFeatureAsync(s_openFeature, registry, output);
                s_openFeature = null;
                if (after.Error is not null)
                {
                    var message = $"[AfterFeature] of '{scenario.Feature.Title}' failed: {after.Error.Message}";
                    output.WriteLine(message);
                    result = result with
                    {
                        Status = result.Passed ? ExecutionStatus.Failed : result.Status,
                        AfterHooks = [.. result.AfterHooks, .. after.Hooks],
                        FailureMessage = result.FailureMessage is null ? message : result.FailureMessage + Environment.NewLine + Environment.NewLine + message,
                        Error = result.Error ?? after.Error,
                    };
                }
                else
                {
                    result = result with { AfterHooks = [.. result.AfterHooks, .. after.Hooks] };
                }
            }

            Report.Add(result);
            WriteReport(output);
            return result;
        }
        finally
        {
            s_gate.Release();
        }
    }

    /// <summary>Closes a feature left open (when the orderer did not run) and writes the report; called once the run's scenarios are done.</summary>
    public static async Task EndAsync()
    {
        await s_gate.WaitAsync();
        try
        {
            if (s_openFeature is not null)
            {
                var after = await FeatureRunner.RunAfterFeatureAsync(s_openFeature, s_registry.Value);
                s_openFeature = null;
                if (after.Error is not null)
                {
                    throw new InvalidOperationException($"[AfterFeature] failed: {after.Error.Message}", after.Error);
                }
            }

            if (Report.Count > 0)
            {
                Report.WriteTo(CucumberJsonReport.DefaultPath());
            }
        }
        finally
        {
            s_gate.Release();
        }
    }

    private static void WriteReport(ITestOutputHelper output)
    {
        try
        {
            Report.WriteTo(CucumberJsonReport.DefaultPath());
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            output.WriteLine($"(could not write the Cucumber report to {CucumberJsonReport.DefaultPath()}: {ex.Message})");
        }
    }
}

/// <summary>xUnit class fixture of <see cref="FeatureFiles"/>: when the last scenario is done, closes the open feature and writes the report.</summary>
public sealed class FeatureRunFixture : IAsyncLifetime
{
    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => TestRun.EndAsync();
}
