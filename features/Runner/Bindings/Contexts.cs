using System.Diagnostics.CodeAnalysis;

namespace Tcm.Features.Runner;

/// <summary>
/// A property bag shared by the bindings of a scenario (<see cref="ScenarioContext"/>) or the scenarios of a feature
/// (<see cref="FeatureContext"/>): keyed by string, or by type with <see cref="Set{T}(T)"/> / <see cref="Get{T}()"/>.
/// </summary>
internal abstract class ContextBag : Dictionary<string, object?>
{
    /// <summary>Stores <paramref name="value"/> under its type's full name.</summary>
    public void Set<T>(T value) => this[typeof(T).FullName!] = value;

    /// <summary>Stores <paramref name="value"/> under <paramref name="key"/>.</summary>
    public void Set<T>(T value, string key) => this[key] = value;

    /// <summary>The value stored by <see cref="Set{T}(T)"/>; throws naming the type if there is none.</summary>
    public T Get<T>() => Get<T>(typeof(T).FullName!);

    /// <summary>The value stored under <paramref name="key"/>; throws naming the key if there is none.</summary>
    public T Get<T>(string key) =>
        TryGetValue(key, out var value) && value is T typed
            ? typed
            : throw new KeyNotFoundException($"The {GetType().Name} holds no {typeof(T).Name} under '{key}'.");

    /// <summary>The value stored under <paramref name="key"/>, if it is a <typeparamref name="T"/>.</summary>
    public bool TryGetValue<T>(string key, [MaybeNullWhen(false)] out T value)
    {
        if (TryGetValue(key, out var raw) && raw is T typed)
        {
            value = typed;
            return true;
        }

        value = default;
        return false;
    }

    /// <summary>The value stored by <see cref="Set{T}(T)"/>, if any.</summary>
    public bool TryGetValue<T>([MaybeNullWhen(false)] out T value) => TryGetValue(typeof(T).FullName!, out value);
}

/// <summary>How a scenario is going, as Reqnroll names it; readable from after-scenario hooks.</summary>
internal enum ScenarioExecutionStatus
{
    OK,
    StepDefinitionPending,
    UndefinedStep,
    BindingError,
    TestError,
}

/// <summary>The scenario's title, tags and Examples values, as hooks and steps see them.</summary>
/// <param name="Title">The scenario name (parameters substituted).</param>
/// <param name="Description">Text under the Scenario line.</param>
/// <param name="Tags">The scenario's tags including the feature's and the Examples', without '@'.</param>
/// <param name="Arguments">The Examples row as column -> value; empty for a plain scenario.</param>
internal sealed record ScenarioInfo(
    string Title,
    string Description,
    IReadOnlyList<string> Tags,
    IReadOnlyDictionary<string, string> Arguments);

/// <summary>
/// One per scenario: who it is (<see cref="ScenarioInfo"/>), how it is going, and a property bag. Ask for it in a binding
/// constructor or a hook parameter.
/// </summary>
internal sealed class ScenarioContext : ContextBag
{
    internal ScenarioContext(ScenarioInfo info, FeatureContext featureContext, IObjectContainer container, CancellationToken cancellationToken)
    {
        ScenarioInfo = info;
        FeatureContext = featureContext;
        ScenarioContainer = container;
        CancellationToken = cancellationToken;
    }

    /// <summary>Title, tags and Examples values.</summary>
    public ScenarioInfo ScenarioInfo { get; }

    /// <summary>The feature's context, shared by all its scenarios.</summary>
    public FeatureContext FeatureContext { get; }

    /// <summary>The scenario container: register instances for later bindings, resolve context objects.</summary>
    public IObjectContainer ScenarioContainer { get; }

    /// <summary>Cancelled when the test run is cancelled; pass it to long waits.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>OK until a step fails, is pending or undefined.</summary>
    public ScenarioExecutionStatus ScenarioExecutionStatus { get; internal set; }

    /// <summary>The first error of the scenario, if any.</summary>
    public Exception? TestError { get; internal set; }

    /// <summary>The step running now (null in hooks).</summary>
    public ScenarioStep? CurrentStep { get; internal set; }
}

/// <summary>
/// One per feature, shared by all its scenarios (they run one after the other, in file order): where a
/// <c>[BeforeFeature]</c> hook keeps something costly that the whole feature uses, such as a lab. Values that are
/// <see cref="IAsyncDisposable"/> or <see cref="IDisposable"/> are disposed after the <c>[AfterFeature]</c> hooks.
/// </summary>
internal sealed class FeatureContext(FeatureInfo info) : ContextBag
{
    /// <summary>Title, tags, file of the feature.</summary>
    public FeatureInfo FeatureInfo { get; } = info;

    /// <summary>Set when a before-feature hook failed: every scenario of the feature then fails with it.</summary>
    public Exception? BeforeFeatureError { get; internal set; }
}
