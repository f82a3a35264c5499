using Tcm.Simulator.Scenarios;

namespace Tcm.Simulator.Tests.Scenarios;

/// <summary>
/// Loads every shipped scenario and every file under <c>Scenarios/Golden</c> and compares what comes out (the model as JSON,
/// or the errors in <c>file:line:column</c> form) with the <c>.expected</c> file next to it. The expected files were written by
/// the hand-walking loader the YamlDotNet deserializer replaced (later ones only for deliberate changes: repeated keys, an
/// alias without an anchor, a flow collection left open), so these tests pin that nothing users see changed by accident.
/// After a deliberate change, set <c>TCM_UPDATE_SCENARIO_GOLDEN=1</c>, run the tests once and review the diff of the expected files.
/// </summary>
public sealed class ScenarioGoldenTests
{
    private static string GoldenDirectory => Path.Combine(TestPaths.RepoRoot, "tests", "Tcm.Simulator.Tests", "Scenarios", "Golden");

    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(TestPaths.Scenarios, "*.yaml").Order(StringComparer.Ordinal))
        {
            data.Add("scenarios/" + Path.GetFileName(file));
        }

        foreach (var file in Directory.GetFiles(GoldenDirectory, "*.yaml").Order(StringComparer.Ordinal))
        {
            data.Add("golden/" + Path.GetFileName(file));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void LoadedModelOrErrors_AreWhatTheyWere(string name)
    {
        var (path, expectedPath) = name.StartsWith("scenarios/", StringComparison.Ordinal)
            ? (Path.Combine(TestPaths.Scenarios, name["scenarios/".Length..]), Path.Combine(GoldenDirectory, "shipped-" + Path.GetFileNameWithoutExtension(name) + ".expected"))
            : (Path.Combine(GoldenDirectory, name["golden/".Length..]), Path.ChangeExtension(Path.Combine(GoldenDirectory, name["golden/".Length..]), ".expected"));
        var text = File.ReadAllText(path).Replace("\r\n", "\n", StringComparison.Ordinal);

        var result = ScenarioLoader.Parse(text, name);
        var actual = result.Succeeded
            ? ModelJson.Write(result.Scenario) + "\n"
            : string.Concat(result.Errors.Select(e => e + "\n"));

        if (Environment.GetEnvironmentVariable("TCM_UPDATE_SCENARIO_GOLDEN") == "1")
        {
            File.WriteAllText(expectedPath, actual);
        }

        actual.Should().Be(File.ReadAllText(expectedPath).Replace("\r\n", "\n", StringComparison.Ordinal));
    }
}
