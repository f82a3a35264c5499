using FluentAssertions;
using Tcm.Features.Runner;
using Tcm.Features.Runner.XunitAdapter;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Tcm.Features.RunnerTests;

/// <summary>The xUnit side: discovery, names, traits, serialisation, order.</summary>
public sealed class XunitAdapterTests
{
    private static readonly ITestMethod s_method = CreateTestMethod();

    private static ITestMethod CreateTestMethod()
    {
        var assembly = new TestAssembly(Reflector.Wrap(typeof(FeatureFiles).Assembly), configFileName: null);
        var collection = new TestCollection(assembly, collectionDefinition: null, "features");
        var testClass = new TestClass(collection, Reflector.Wrap(typeof(FeatureFiles)));
        return new TestMethod(testClass, Reflector.Wrap(typeof(FeatureFiles).GetMethod(nameof(FeatureFiles.Scenario))!));
    }

    private static ScenarioTestCase TestCase(ScenarioPickle scenario) =>
        new(new NullMessageSink(), TestMethodDisplay.ClassAndMethod, TestMethodDisplayOptions.None, s_method, scenario);

    private static readonly GherkinFeature s_feature = FeatureParser.Parse(
        "@area\nFeature: Routing\n  @fast\n  Scenario: Direct\n    Given x\n  @ignore\n  Scenario: Later\n    Given x\n  Scenario Outline: Row\n    Given <v>\n    Examples:\n      | v |\n      | 1 |\n      | 2 |\n",
        "routing/routing.feature");

    [Fact]
    public void TestCase_IsNamedAfterFeatureAndScenario_WithTagsAsCategoryTraits()
    {
        var direct = TestCase(s_feature.Scenarios[0]);

        direct.DisplayName.Should().Be("Feature: Routing: Direct");
        direct.Traits["Category"].Should().Equal("area", "fast");
        direct.Traits["Feature"].Should().Equal("Routing");
        direct.SkipReason.Should().BeNull();
        TestCase(s_feature.Scenarios[2]).DisplayName.Should().Be("Feature: Routing: Row [1]");
        TestCase(s_feature.Scenarios[1]).SkipReason.Should().Be("Tagged @ignore");
    }

    [Fact]
    public void TestCases_HaveDistinctStableUniqueIds()
    {
        var ids = s_feature.Scenarios.Select(s => TestCase(s).UniqueID).ToList();

        ids.Should().OnlyHaveUniqueItems();
        TestCase(s_feature.Scenarios[3]).UniqueID.Should().Be(ids[3]);
    }

    [Fact]
    public void TestCase_SurvivesSerialisation_AsTestExplorerAndFiltersNeed()
    {
        var original = TestCase(s_feature.Scenarios[3]);

        var copy = SerializationHelper.Deserialize<ScenarioTestCase>(SerializationHelper.Serialize(original))!;

        copy.DisplayName.Should().Be(original.DisplayName);
        copy.UniqueID.Should().Be(original.UniqueID);
        copy.FeatureUri.Should().Be("routing/routing.feature");
        copy.ScenarioKey.Should().Be(original.ScenarioKey);
        copy.Position.Should().Be(original.Position);
        copy.Traits.Should().BeEquivalentTo(original.Traits);
    }

    [Fact]
    public void Orderer_RunsFeaturesInFileOrder_AndMarksTheLastScenarioOfEachFeature()
    {
        var other = FeatureParser.Parse("Feature: Another\n  Scenario: A\n    Given x\n  Scenario: B\n    Given x\n", "another.feature");
        var cases = s_feature.Scenarios.Concat(other.Scenarios).Select(TestCase).Reverse().ToList();

        var ordered = new ScenarioOrderer().OrderTestCases(cases).ToList();

        ordered.Select(c => c.DisplayName).Should().Equal(
            "Feature: Another: A",
            "Feature: Another: B",
            "Feature: Routing: Direct",
            "Feature: Routing: Later",
            "Feature: Routing: Row [1]",
            "Feature: Routing: Row [2]");
        ordered.Select(c => c.IsLastInFeature).Should().Equal(false, true, false, false, false, true);
    }

    [Fact]
    public void Discoverer_FindsEveryScenarioAndExamplesRow_OfTheProjectsFeatureFiles()
    {
        var discovered = new FeatureTestCaseDiscoverer(new NullMessageSink())
            .Discover(new TestFrameworkOptions(), s_method, s_method.Method.GetCustomAttributes(typeof(FeatureTestsAttribute)).Single())
            .Cast<ScenarioTestCase>()
            .ToList();

        discovered.Select(c => c.DisplayName).Should().Contain(
            "Feature: Calculator: Add two numbers",
            "Feature: Calculator: Add or multiply two numbers [6, 7, Multiply, 42]",
            "Feature: Typed step parameters: Durations in the forms QA writes them [1m30s, 90000]");
        discovered.Should().OnlyContain(c => c.ParseError == null);
        discovered.Select(c => c.UniqueID).Should().OnlyHaveUniqueItems();
    }

    [Fact]
    public void Catalog_ReportsAFileThatDoesNotParse_AndIgnoresCopiesUnderBin()
    {
        var root = Directory.CreateTempSubdirectory("features-");
        try
        {
            Directory.CreateDirectory(Path.Combine(root.FullName, "sub"));
            File.WriteAllText(Path.Combine(root.FullName, "sub", "good.feature"), "Feature: Good\n  Scenario: S\n    Given x\n");
            File.WriteAllText(Path.Combine(root.FullName, "bad.feature"), "Feature: Bad\n  Scenario: S\n    Given x\n  nonsense\n");
            Directory.CreateDirectory(Path.Combine(root.FullName, "bin", "Debug"));
            File.WriteAllText(Path.Combine(root.FullName, "bin", "Debug", "copy.feature"), "Feature: Copied output\n");

            var catalog = FeatureCatalog.For(root.FullName);

            catalog.Files.Select(f => f.Uri).Should().Equal("bad.feature", "sub/good.feature");
            catalog.Files[0].Error.Should().Contain("bad.feature is not valid Gherkin");
            catalog.Find("sub/good.feature", "L2")!.Name.Should().Be("S");
            catalog.Find("sub/good.feature", "L99").Should().BeNull();
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    private sealed class TestFrameworkOptions : ITestFrameworkDiscoveryOptions
    {
        public TValue GetValue<TValue>(string name) => default!;

        public void SetValue<TValue>(string name, TValue value)
        {
        }
    }
}
