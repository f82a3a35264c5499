using Xunit.Sdk;

namespace Tcm.Features.Runner.XunitAdapter;

/// <summary>Reports one scenario to xUnit: test starting, passed / failed / skipped with the step log as output, finished.</summary>
internal sealed class ScenarioTestCaseRunner(
    ScenarioTestCase testCase,
    IMessageBus messageBus,
    ExceptionAggregator aggregator,
    CancellationTokenSource cancellationTokenSource)
    : TestCaseRunner<ScenarioTestCase>(testCase, messageBus, aggregator, cancellationTokenSource)
{
    protected override async Task<RunSummary> RunTestAsync()
    {
        var test = new XunitTest(TestCase, TestCase.DisplayName);
        var summary = new RunSummary { Total = 1 };
        var outputText = "";
        if (!MessageBus.QueueMessage(new TestStarting(test)))
        {
            CancellationTokenSource.Cancel();
            return summary;
        }

        if (TestCase.SkipReason is { } reason)
        {
            summary.Skipped = 1;
            MessageBus.QueueMessage(new TestSkipped(test, reason));
        }
        else
        {
            var output = new TestOutputHelper();
            output.Initialize(MessageBus, test);
            Exception? failure = null;
            try
            {
                if (TestCase.ParseError is { } parseError)
                {
                    failure = new FeatureParseException(parseError);
                }
                else
                {
                    var root = ScenarioTestCase.FeatureRoot(TestCase.TestMethod);
                    var scenario = FeatureCatalog.For(root).Find(TestCase.FeatureUri, TestCase.ScenarioKey)
                        ?? throw new InvalidOperationException(
                            $"Scenario {TestCase.ScenarioKey} of {TestCase.FeatureUri} is no longer in {root}: the feature file changed since the tests were discovered; rebuild.");
                    var result = await TestRun.RunAsync(scenario, output, TestCase.IsLastInFeature, CancellationTokenSource.Token);
                    summary.Time = (decimal)result.Duration.TotalSeconds;
                    if (!result.Passed)
                    {
                        failure = new ScenarioFailedException(result.FailureMessage ?? $"The scenario is {result.Status}.", result.Error);
                    }
                }
            }
            catch (Exception ex)
            {
                failure = ex;
            }

            outputText = output.Output;
            output.Uninitialize();
            if (failure is null)
            {
                MessageBus.QueueMessage(new TestPassed(test, summary.Time, outputText));
            }
            else
            {
                summary.Failed = 1;
                MessageBus.QueueMessage(new TestFailed(test, summary.Time, outputText, failure));
            }
        }

        if (!MessageBus.QueueMessage(new TestFinished(test, summary.Time, outputText)))
        {
            CancellationTokenSource.Cancel();
        }

        return summary;
    }
}
