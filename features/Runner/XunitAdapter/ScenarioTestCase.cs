using System.ComponentModel;
using System.Security.Cryptography;
using System.Text;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Tcm.Features.Runner.XunitAdapter;

/// <summary>
/// The xUnit test case of one scenario (or Examples row). It carries only what names, filters and finds the scenario
/// (feature file, key, display name, tags), serialised for Test Explorer and <c>dotnet test --filter</c>; at run time
/// the scenario is parsed again from the file in the output folder and run by <see cref="TestRun"/>.
/// Traits: <c>Category</c> = each tag without '@' (feature, scenario and Examples tags), <c>Feature</c> = the feature name.
/// A scenario tagged @ignore is reported skipped.
/// </summary>
internal sealed class ScenarioTestCase : XunitTestCase
{
    private const string BrokenFileKey = "parse-error";

    private string _featureUri = "";
    private string _key = "";
    private string _displayName = "";
    private string _featureTitle = "";
    private string[] _tags = [];
    private int _line;
    private int _exampleLine;
    private string? _parseError;

    [EditorBrowsable(EditorBrowsableState.Never)]
    [Obsolete("Called by the de-serializer only.", error: true)]
    public ScenarioTestCase()
    {
    }

    public ScenarioTestCase(
        IMessageSink diagnosticMessageSink,
        TestMethodDisplay defaultMethodDisplay,
        TestMethodDisplayOptions defaultMethodDisplayOptions,
        ITestMethod testMethod,
        ScenarioPickle scenario)
        : base(diagnosticMessageSink, defaultMethodDisplay, defaultMethodDisplayOptions, testMethod, testMethodArguments: null)
    {
        _featureUri = scenario.Feature.Uri;
        _key = scenario.Key;
        _displayName = scenario.DisplayName;
        _featureTitle = scenario.Feature.Title;
        _tags = [.. scenario.Tags];
        _line = scenario.Line;
        _exampleLine = scenario.ExampleLine ?? 0;
    }

    private ScenarioTestCase(
        IMessageSink diagnosticMessageSink,
        TestMethodDisplay defaultMethodDisplay,
        TestMethodDisplayOptions defaultMethodDisplayOptions,
        ITestMethod testMethod,
        string featureUri,
        string parseError)
        : base(diagnosticMessageSink, defaultMethodDisplay, defaultMethodDisplayOptions, testMethod, testMethodArguments: null)
    {
        _featureUri = featureUri;
        _key = BrokenFileKey;
        _displayName = $"Feature file: {featureUri}: does not parse";
        _featureTitle = featureUri;
        _parseError = parseError;
    }

    /// <summary>A test case that fails with the parse error of a .feature file.</summary>
    public static ScenarioTestCase ForBrokenFile(
        IMessageSink diagnosticMessageSink,
        TestMethodDisplay display,
        TestMethodDisplayOptions displayOptions,
        ITestMethod testMethod,
        string featureUri,
        string error) =>
        new(diagnosticMessageSink, display, displayOptions, testMethod, featureUri, error);

    /// <summary>The feature file, relative to the features root.</summary>
    public string FeatureUri => _featureUri;

    /// <summary>The scenario's key inside the file (see <see cref="ScenarioPickle.Key"/>).</summary>
    public string ScenarioKey => _key;

    /// <summary>Line of the scenario, then of its Examples row: the order scenarios run in.</summary>
    public (int Line, int ExampleLine) Position => (_line, _exampleLine);

    /// <summary>Set by <see cref="ScenarioOrderer"/> on the last scheduled scenario of each feature: its run closes the feature.</summary>
    public bool IsLastInFeature { get; set; }

    /// <summary>Why the feature file does not parse, for the broken-file test case.</summary>
    public string? ParseError => _parseError;

    /// <summary>The folder .feature files are read from: the test assembly's own (where the build copies them).</summary>
    public static string FeatureRoot(ITestMethod testMethod)
    {
        foreach (var path in new[] { testMethod.TestClass.Class.Assembly.AssemblyPath, typeof(ScenarioTestCase).Assembly.Location })
        {
            if (Path.IsPathRooted(path) && Path.GetDirectoryName(path) is { Length: > 0 } directory)
            {
                return directory;
            }
        }

        return AppContext.BaseDirectory;
    }

    public override Task<RunSummary> RunAsync(
        IMessageSink diagnosticMessageSink,
        IMessageBus messageBus,
        object[] constructorArguments,
        ExceptionAggregator aggregator,
        CancellationTokenSource cancellationTokenSource) =>
        new ScenarioTestCaseRunner(this, messageBus, aggregator, cancellationTokenSource).RunAsync();

    public override void Serialize(IXunitSerializationInfo data)
    {
        base.Serialize(data);
        data.AddValue("FeatureUri", _featureUri);
        data.AddValue("ScenarioKey", _key);
        data.AddValue("ScenarioName", _displayName);
        data.AddValue("FeatureTitle", _featureTitle);
        data.AddValue("Tags", string.Join('\n', _tags));
        data.AddValue("Line", _line);
        data.AddValue("ExampleLine", _exampleLine);
        data.AddValue("ParseError", _parseError);
    }

    public override void Deserialize(IXunitSerializationInfo data)
    {
        _featureUri = data.GetValue<string>("FeatureUri");
        _key = data.GetValue<string>("ScenarioKey");
        _displayName = data.GetValue<string>("ScenarioName");
        _featureTitle = data.GetValue<string>("FeatureTitle");
        var tags = data.GetValue<string>("Tags");
        _tags = tags.Length == 0 ? [] : tags.Split('\n');
        _line = data.GetValue<int>("Line");
        _exampleLine = data.GetValue<int>("ExampleLine");
        _parseError = data.GetValue<string>("ParseError");
        base.Deserialize(data);
    }

    protected override void Initialize()
    {
        base.Initialize();
        DisplayName = _displayName;
        AddTrait("Feature", _featureTitle);
        foreach (var tag in _tags)
        {
            AddTrait("Category", tag);
        }

        if (_tags.Contains("ignore", StringComparer.OrdinalIgnoreCase))
        {
            SkipReason = "Tagged @ignore";
        }
    }

    protected override string GetUniqueID()
    {
        var identity = $"{TestMethod.TestClass.TestCollection.TestAssembly.Assembly.Name}\n{TestMethod.TestClass.Class.Name}\n{TestMethod.Method.Name}\n{_featureUri}\n{_key}";
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity)));
    }

    private void AddTrait(string name, string value)
    {
        if (!Traits.TryGetValue(name, out var values))
        {
            Traits[name] = values = [];
        }

        if (!values.Contains(value))
        {
            values.Add(value);
        }
    }
}
