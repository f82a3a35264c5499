using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using Xunit.Abstractions;

namespace Tcm.Features.Runner;

/// <summary>
/// The engine: runs scenarios against a <see cref="BindingRegistry"/>, without xUnit discovery, so it can be tested on
/// in-memory feature text. Per scenario:
/// <list type="number">
/// <item>A fresh <see cref="ObjectContainer"/> holding the <see cref="ScenarioContext"/>, the <see cref="FeatureContext"/>
/// and the test output; binding classes and context classes are created in it on first use.</item>
/// <item>[BeforeScenario] hooks whose tags apply. A failure skips every step.</item>
/// <item>Each step: matched by keyword and regular expression, captures converted, method awaited. After the first
/// step that does not pass, the rest are skipped (undefined ones are still reported undefined with a snippet).</item>
/// <item>[AfterScenario] hooks, always; then the container disposes what it created.</item>
/// </list>
/// Every step's outcome and duration is written to the output as it happens.
/// </summary>
internal static class FeatureRunner
{
    /// <summary>
    /// Runs one scenario. Without <paramref name="featureContext"/>, it gets a fresh one and no feature hooks run;
    /// pass the same context to several calls (after <see cref="RunBeforeFeatureAsync"/>) to share it.
    /// </summary>
    public static async Task<ScenarioResult> RunScenarioAsync(
        ScenarioPickle pickle,
        BindingRegistry registry,
        ITestOutputHelper? output = null,
        FeatureContext? featureContext = null,
        CancellationToken cancellationToken = default)
    {
        var log = new StepLog(output);
        var clock = Stopwatch.StartNew();
        featureContext ??= new FeatureContext(pickle.Feature);
        var container = new ObjectContainer();
        var context = new ScenarioContext(
            new ScenarioInfo(pickle.Name, pickle.Description, pickle.Tags, pickle.ExampleValues.ToDictionary(v => v.Key, v => v.Value)),
            featureContext,
            container,
            cancellationToken);
        container.RegisterInstanceAs(context);
        container.RegisterInstanceAs(featureContext);
        if (output is not null)
        {
            container.RegisterInstanceAs(output);
        }

        log.Line($"{pickle.Feature.Keyword}: {pickle.Feature.Title}");
        log.Line($"{pickle.Keyword}: {pickle.Name}{(pickle.Tags.Count == 0 ? "" : "  " + string.Join(" ", pickle.Tags.Select(t => "@" + t)))}");

        var problems = new List<string>();
        Exception? firstError = null;
        ExecutionStatus? status = null;
        var blocked = false;

        void Fail(ExecutionStatus outcome, string message, Exception? error, ScenarioExecutionStatus contextStatus)
        {
            status ??= outcome;
            firstError ??= error;
            problems.Add(message);
            blocked = true;
            if (context.ScenarioExecutionStatus == ScenarioExecutionStatus.OK)
            {
                context.ScenarioExecutionStatus = contextStatus;
                context.TestError = error;
            }
        }

        if (registry.Errors.Count > 0)
        {
            Fail(ExecutionStatus.Failed, "The step bindings have errors:" + Environment.NewLine + "  " + string.Join(Environment.NewLine + "  ", registry.Errors), null, ScenarioExecutionStatus.BindingError);
        }
        else if (featureContext.BeforeFeatureError is { } featureError)
        {
            Fail(ExecutionStatus.Failed, $"A [BeforeFeature] hook of '{pickle.Feature.Title}' failed: {featureError.Message}", featureError, ScenarioExecutionStatus.TestError);
        }
        else if (pickle.HasTag("ignore"))
        {
            status = ExecutionStatus.Skipped;
            blocked = true;
        }

        // :: Before-scenario hooks
        var beforeHooks = new List<HookResult>();
        var started = !blocked;
        if (started)
        {
            foreach (var hook in registry.HooksFor(HookKind.BeforeScenario, pickle.Tags))
            {
                var result = await RunHookAsync(hook, container, featureContext, log);
                beforeHooks.Add(result);
                if (result.Error is not null)
                {
                    Fail(ExecutionStatus.Failed, $"[BeforeScenario] {hook.Location} failed: {result.Error.Message}", result.Error, ScenarioExecutionStatus.TestError);
                    break;
                }
            }
        }

        // :: Steps
        var steps = new List<StepResult>();
        foreach (var step in pickle.Steps)
        {
            if (!blocked && cancellationToken.IsCancellationRequested)
            {
                Fail(ExecutionStatus.Failed, "The test run was cancelled.", new OperationCanceledException(cancellationToken), ScenarioExecutionStatus.TestError);
            }

            var match = registry.Match(step);
            StepResult stepResult;
            switch (match)
            {
                case StepMatch.Undefined undefined:
                    stepResult = new StepResult(step, ExecutionStatus.Undefined, TimeSpan.Zero, Snippet: undefined.Snippet);
                    Fail(ExecutionStatus.Undefined, $"Undefined step: {step} (line {step.Line})", null, ScenarioExecutionStatus.UndefinedStep);
                    break;

                case var _ when blocked:
                    stepResult = new StepResult(step, ExecutionStatus.Skipped, TimeSpan.Zero);
                    break;

                case StepMatch.Ambiguous ambiguous:
                    stepResult = new StepResult(step, ExecutionStatus.Ambiguous, TimeSpan.Zero, Candidates: ambiguous.Candidates);
                    Fail(
                        ExecutionStatus.Ambiguous,
                        $"Ambiguous step: {step} (line {step.Line}) matches {ambiguous.Candidates.Count} bindings:" + Environment.NewLine +
                        string.Concat(ambiguous.Candidates.Select(c => "  " + c + Environment.NewLine)).TrimEnd(),
                        null,
                        ScenarioExecutionStatus.BindingError);
                    break;

                case StepMatch.ParameterMismatch mismatch:
                    var error = new InvalidOperationException(
                        $"Step {step} (line {step.Line}) matches these bindings, but their parameters do not fit the step" +
                        $"{(step.Table is not null ? " and its data table" : step.DocString is not null ? " and its doc string" : "")}:" + Environment.NewLine +
                        string.Concat(mismatch.Candidates.Select(c => "  " + c + Environment.NewLine)).TrimEnd());
                    stepResult = new StepResult(step, ExecutionStatus.Failed, TimeSpan.Zero, Error: error);
                    Fail(ExecutionStatus.Failed, error.Message, error, ScenarioExecutionStatus.BindingError);
                    break;

                case StepMatch.Found found:
                    context.CurrentStep = step;
                    stepResult = await RunStepAsync(step, found, container);
                    context.CurrentStep = null;
                    if (stepResult.Status == ExecutionStatus.Pending)
                    {
                        Fail(ExecutionStatus.Pending, $"Pending step: {step} (line {step.Line}): {stepResult.Error!.Message}", stepResult.Error, ScenarioExecutionStatus.StepDefinitionPending);
                    }
                    else if (stepResult.Status == ExecutionStatus.Failed)
                    {
                        Fail(ExecutionStatus.Failed, $"Step failed: {step} (line {step.Line}){Environment.NewLine}{stepResult.Error!.Message}", stepResult.Error, ScenarioExecutionStatus.TestError);
                    }

                    break;

                default:
                    throw new UnreachableException();
            }

            steps.Add(stepResult);
            log.Step(stepResult);
        }

        // :: After-scenario hooks run whatever happened, then the container disposes what it created.
        var afterHooks = new List<HookResult>();
        if (started)
        {
            foreach (var hook in registry.HooksFor(HookKind.AfterScenario, pickle.Tags))
            {
                var result = await RunHookAsync(hook, container, featureContext, log);
                afterHooks.Add(result);
                if (result.Error is not null)
                {
                    status ??= ExecutionStatus.Failed;
                    firstError ??= result.Error;
                    problems.Add($"[AfterScenario] {hook.Location} failed: {result.Error.Message}");
                }
            }
        }

        try
        {
            await container.DisposeAsync();
        }
        catch (Exception ex)
        {
            status ??= ExecutionStatus.Failed;
            firstError ??= ex;
            problems.Add(ex.Message);
            log.Line($"  ✗ {ex.Message}");
        }

        var snippets = steps.Where(s => s.Snippet is not null).Select(s => s.Snippet!).Distinct().ToList();
        string? snippetText = null;
        if (snippets.Count > 0)
        {
            snippetText = "Define the undefined step(s) in a [Binding] class (using Tcm.Features.Runner;):" + Environment.NewLine + Environment.NewLine +
                string.Join(Environment.NewLine + Environment.NewLine, snippets);
            problems.Add(snippetText);
        }

        var final = status ?? ExecutionStatus.Passed;
        var message = problems.Count == 0 ? null : string.Join(Environment.NewLine + Environment.NewLine, problems);
        log.Line($"→ {final.ToString().ToLowerInvariant()} ({Ms(clock.Elapsed)})");
        if (snippetText is not null)
        {
            log.Line("");
            log.Line(snippetText);
        }

        return new ScenarioResult(pickle, final, steps, beforeHooks, afterHooks, clock.Elapsed, message, firstError);
    }

    /// <summary>
    /// Runs the [BeforeFeature] hooks that apply to the feature's tags. A failure is kept in
    /// <see cref="FeatureContext.BeforeFeatureError"/> and fails every scenario run with that context.
    /// </summary>
    public static async Task<FeatureHooksResult> RunBeforeFeatureAsync(FeatureContext featureContext, BindingRegistry registry, ITestOutputHelper? output = null)
    {
        var log = new StepLog(output);
        var results = new List<HookResult>();
        if (registry.Errors.Count > 0)
        {
            return new FeatureHooksResult(results, null);
        }

        foreach (var hook in registry.HooksFor(HookKind.BeforeFeature, featureContext.FeatureInfo.Tags))
        {
            var result = await RunHookAsync(hook, container: null, featureContext, log);
            results.Add(result);
            if (result.Error is not null)
            {
                featureContext.BeforeFeatureError = result.Error;
                break;
            }
        }

        return new FeatureHooksResult(results, featureContext.BeforeFeatureError);
    }

    /// <summary>
    /// Runs the [AfterFeature] hooks that apply (all of them, even after a failure), then disposes the disposable
    /// values held in the <see cref="FeatureContext"/>.
    /// </summary>
    public static async Task<FeatureHooksResult> RunAfterFeatureAsync(FeatureContext featureContext, BindingRegistry registry, ITestOutputHelper? output = null)
    {
        var log = new StepLog(output);
        var results = new List<HookResult>();
        var errors = new List<Exception>();
        if (registry.Errors.Count == 0)
        {
            foreach (var hook in registry.HooksFor(HookKind.AfterFeature, featureContext.FeatureInfo.Tags))
            {
                var result = await RunHookAsync(hook, container: null, featureContext, log);
                results.Add(result);
                if (result.Error is not null)
                {
                    errors.Add(result.Error);
                }
            }
        }

        foreach (var value in featureContext.Values.Reverse())
        {
            try
            {
                switch (value)
                {
                    case IAsyncDisposable asyncDisposable:
                        await asyncDisposable.DisposeAsync();
                        break;
                    case IDisposable disposable:
                        disposable.Dispose();
                        break;
                }
            }
            catch (Exception ex)
            {
                errors.Add(ex);
                log.Line($"  ✗ disposing {value!.GetType().Name} from the FeatureContext failed: {ex.Message}");
            }
        }

        featureContext.Clear();
        Exception? error = errors.Count switch
        {
            0 => null,
            1 => errors[0],
            _ => new AggregateException($"After feature '{featureContext.FeatureInfo.Title}'.", errors),
        };
        return new FeatureHooksResult(results, error);
    }

    /// <summary>
    /// Runs a whole feature: before-feature hooks, every scenario in file order sharing one <see cref="FeatureContext"/>
    /// (a new one unless <paramref name="featureContext"/> is given), after-feature hooks.
    /// </summary>
    public static async Task<FeatureResult> RunFeatureAsync(
        GherkinFeature feature,
        BindingRegistry registry,
        ITestOutputHelper? output = null,
        FeatureContext? featureContext = null,
        CancellationToken cancellationToken = default)
    {
        featureContext ??= new FeatureContext(feature.Info);
        var before = await RunBeforeFeatureAsync(featureContext, registry, output);
        var scenarios = new List<ScenarioResult>();
        foreach (var pickle in feature.Scenarios)
        {
            scenarios.Add(await RunScenarioAsync(pickle, registry, output, featureContext, cancellationToken));
        }

        var after = await RunAfterFeatureAsync(featureContext, registry, output);
        return new FeatureResult(feature, scenarios, before, after);
    }

    private static async Task<StepResult> RunStepAsync(ScenarioStep step, StepMatch.Found found, ObjectContainer container)
    {
        var binding = found.Binding;
        var clock = Stopwatch.StartNew();
        try
        {
            var args = new object?[binding.Parameters.Length];
            for (var i = 0; i < found.Captures.Count; i++)
            {
                args[i] = StepArgumentConverter.Convert(found.Captures[i], binding.Parameters[i].ParameterType, binding.Parameters[i].Name!);
            }

            if (args.Length > found.Captures.Count)
            {
                args[^1] = step.Table is not null ? step.Table : step.DocString?.Content;
            }

            var target = binding.Method.IsStatic ? null : container.Resolve(binding.BindingType);
            await InvokeAsync(binding.Method, target, args);
            return new StepResult(step, ExecutionStatus.Passed, clock.Elapsed, binding);
        }
        catch (PendingStepException ex)
        {
            return new StepResult(step, ExecutionStatus.Pending, clock.Elapsed, binding, ex);
        }
        catch (Exception ex)
        {
            return new StepResult(step, ExecutionStatus.Failed, clock.Elapsed, binding, ex);
        }
    }

    private static async Task<HookResult> RunHookAsync(HookBinding hook, ObjectContainer? container, FeatureContext featureContext, StepLog log)
    {
        var clock = Stopwatch.StartNew();
        Exception? error = null;
        try
        {
            var args = hook.Method.GetParameters()
                .Select(p => container is null ? featureContext : container.Resolve(p.ParameterType))
                .ToArray();
            var target = hook.Method.IsStatic || container is null ? null : container.Resolve(hook.BindingType);
            await InvokeAsync(hook.Method, target, args);
        }
        catch (Exception ex)
        {
            error = ex;
        }

        var result = new HookResult(hook, error is null ? ExecutionStatus.Passed : ExecutionStatus.Failed, clock.Elapsed, error);
        log.Hook(result);
        return result;
    }

    private static async Task InvokeAsync(MethodInfo method, object? target, object?[] args)
    {
        var returned = method.Invoke(target, BindingFlags.DoNotWrapExceptions, binder: null, args, CultureInfo.InvariantCulture);
        switch (returned)
        {
            case Task task:
                await task;
                break;
            case ValueTask valueTask:
                await valueTask;
                break;
        }
    }

    internal static string Ms(TimeSpan duration) =>
        duration.TotalMilliseconds < 1 && duration > TimeSpan.Zero ? "<1 ms" : $"{duration.TotalMilliseconds:0} ms";

    /// <summary>Writes the live outcome lines; a closed output (test already finished) is ignored.</summary>
    private sealed class StepLog(ITestOutputHelper? output)
    {
        public void Line(string text)
        {
            if (output is null)
            {
                return;
            }

            try
            {
                output.WriteLine(text);
            }
            catch (InvalidOperationException)
            {
                // The test this output belonged to has finished; nothing to write to.
            }
        }

        public void Step(StepResult result)
        {
            var text = result.Step.ToString();
            var line = result.Status switch
            {
                ExecutionStatus.Passed => $"  ✓ {text} ({Ms(result.Duration)})",
                ExecutionStatus.Failed => $"  ✗ {text} ({Ms(result.Duration)})",
                ExecutionStatus.Pending => $"  ! {text} (pending)",
                ExecutionStatus.Undefined => $"  ? {text} (undefined)",
                ExecutionStatus.Ambiguous => $"  ✗ {text} (ambiguous)",
                _ => $"  - {text} (skipped)",
            };
            Line(line);
            if (result.Step.Table is { } table && result.Status != ExecutionStatus.Skipped)
            {
                foreach (var row in table.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries))
                {
                    Line("      " + row);
                }
            }

            if (result.Status is ExecutionStatus.Failed or ExecutionStatus.Pending && result.Error is not null)
            {
                Line(Indent(result.Error.Message, "      "));
            }
        }

        public void Hook(HookResult result)
        {
            var mark = result.Error is null ? "✓" : "✗";
            Line($"  {mark} [{result.Hook.Kind}] {result.Hook.Location} ({Ms(result.Duration)})");
            if (result.Error is not null)
            {
                Line(Indent(result.Error.Message, "      "));
            }
        }

        private static string Indent(string text, string indent)
        {
            var builder = new StringBuilder();
            foreach (var line in text.Split('\n'))
            {
                builder.Append(indent).Append(line.TrimEnd('\r')).Append('\n');
            }

            return builder.ToString().TrimEnd('\n');
        }
    }
}
