using Tcm.Simulator.Scenarios;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Tcm.Simulator.Tests.Scenarios;

public sealed class ScenarioDeserializerTests
{
    [Fact]
    public void Mapping_FillsThePropertyNamedByEachKey_WithTheValueAndItsPosition()
    {
        var document = Read("name: x\nsystem:\n  lab: { taskServers: 2 }\nfleet:\n  agents: 10\n").Document!;

        document.Name.Should().BeOfType<YamlScalarNode>().Which.Value.Should().Be("x");
        At(document.System!.Lab!.TaskServers!.Start).Should().Be((3, 23));
        document.Fleet!.Agents!.Start.Line.Should().Be(5);
        At(document.Fleet.Start).Should().Be((5, 3), "a section starts where its mapping starts");
    }

    [Fact]
    public void KeysThatAreNoProperty_AreKeptInFileOrder_WithTheirPositions()
    {
        var fleet = Read("fleet:\n  agent: 1\n  groups: []\n  colour: red\n").Document!.Fleet!;

        fleet.Keys.OfType<YamlScalarNode>().Select(k => (k.Value, k.Start.Line, k.Start.Column))
            .Should().Equal(("agent", 2, 3), ("groups", 3, 3), ("colour", 4, 3));
        fleet.Agents.Should().BeNull();
        fleet.Groups!.Items.Should().BeEmpty();
    }

    [Fact]
    public void SectionWrittenAsAScalarOrList_KeepsTheValueAsOther()
    {
        var document = Read("system: lab\nfleet: [1]\ntimeline: soon\n").Document!;

        document.System!.Other.Should().BeOfType<YamlScalarNode>().Which.Value.Should().Be("lab");
        document.Fleet!.Other.Should().BeOfType<YamlSequenceNode>();
        document.Timeline!.Single!.Other.Should().BeOfType<YamlScalarNode>().Which.Value.Should().Be("soon");
    }

    [Fact]
    public void EmptyValue_IsAnEmptyScalar_NotAMissingKey()
    {
        var document = Read("name:\nfleet:\n").Document!;

        document.Name.Should().BeOfType<YamlScalarNode>().Which.Value.Should().BeEmpty();
        document.Fleet!.Other.Should().BeOfType<YamlScalarNode>().Which.Value.Should().BeEmpty();
    }

    [Fact]
    public void RepeatedKey_IsRecorded_AndTheFirstValueCounts()
    {
        var yaml = Read("name: first\nfleet: { agents: 1 }\nname: { second: [1, 2] }\n");

        yaml.RepeatedKeys.Select(At).Should().Equal((3, 1));
        yaml.Document!.Name.Should().BeOfType<YamlScalarNode>().Which.Value.Should().Be("first");
        yaml.Document.Fleet!.Agents.Should().NotBeNull("the events after the dropped value are read as before");
    }

    [Fact]
    public void RepeatedKeyInAFreeFormMapping_IsRecordedToo()
    {
        var yaml = Read("expect:\n  a: no-lost-results\n  a: no-duplicate-results\n");

        yaml.RepeatedKeys.Select(At).Should().Equal((3, 3));
        yaml.Document!.Expect.Should().BeOfType<YamlMappingNode>().Which.Children.Should().ContainSingle();
    }

    [Fact]
    public void SecondDocument_IsWhereItsRootStarts()
    {
        At(Read("fleet: { agents: 1 }\n---\nfleet: { agents: 2 }\n").SecondDocument!.Value).Should().Be((3, 1));
    }

    [Fact]
    public void EmptyText_HasNoDocument()
    {
        Read("# only a comment\n").Document.Should().BeNull();
    }

    [Fact]
    public void BrokenYaml_Throws_WithThePosition()
    {
        var read = () => ScenarioDeserializer.Deserialize("fleet:\n  agents: [1, 2\n");

        read.Should().Throw<YamlException>().Which.Start.Line.Should().Be(3);
    }

    [Fact]
    public void FlowMappingLeftOpen_IsAYamlException_NotTheScannersInvalidOperation()
    {
        var read = () => ScenarioDeserializer.Deserialize("fleet: { agents: 1 }\ntimeline:\n  - parameters: { text: hello world\n    at: 1s\n");

        read.Should().Throw<YamlException>().Which.Message.Should().Contain("not closed");
    }

    [Fact]
    public void KeysOf_ListsTheKeysInDeclarationOrder()
    {
        ScenarioDeserializer.KeysOf<ScenarioDocument>().Should().Equal("name", "description", "seed", "duration", "system", "fleet", "settings", "timeline", "expect");
        ScenarioDeserializer.KeysOf<LabDocument>().Should().Equal("tcm", "taskServers", "gateway", "persistent", "proxy", "store", "nsNodes");
    }

    private static ScenarioYaml Read(string text) => ScenarioDeserializer.Deserialize(text);

    private static (long Line, long Column) At(Mark mark) => (mark.Line, mark.Column);
}
