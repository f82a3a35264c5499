using System.Text.Json;
using Tcm.Protocol.Admin;

namespace Tcm.Protocol.Tests;

/// <summary>Omitted properties keep their documented defaults when a contract is read (not the CLR default).</summary>
public sealed class ContractDefaultsTests
{
    [Fact]
    public void PushTaskRequest_WithoutTimeout_GetsTheDefaultTimeout()
    {
        var request = JsonSerializer.Deserialize("""{"command":"echo","targets":{"all":true}}""", ProtocolJsonContext.Default.PushTaskRequest)!;

        request.TimeoutSeconds.Should().Be(300);
        request.Targets.All.Should().BeTrue();
        request.Targets.Agents.Should().BeEmpty();
    }

    [Fact]
    public void AgentSettings_Omitted_GetDefaults()
    {
        var settings = JsonSerializer.Deserialize("""{"preferCem":true}""", ProtocolJsonContext.Default.TargetedAgentSettings.Options.GetTypeInfo(typeof(AgentSettings)));

        settings.Should().BeEquivalentTo(new AgentSettings { PreferCem = true });
    }

    [Fact]
    public void CommunicationProfile_Omitted_GetDefaults()
    {
        var profile = JsonSerializer.Deserialize("""{"name":"Pilot"}""", ProtocolJsonContext.Default.CommunicationProfile)!;

        profile.Should().BeEquivalentTo(new CommunicationProfile { Name = "Pilot" });
        profile.PersistentConnection.Should().BeTrue();
        profile.Priority.Should().Be(100);
        profile.Targets.All.Should().BeTrue();
    }

    [Fact]
    public void TaskPush_WithoutTimeout_GetsTheDefault()
    {
        var result = MessageCodec.Decode("""{"kind":"task.push","seq":1,"taskId":"t","command":"echo"}"""u8);

        ((TaskPushMessage)result.Message!).TimeoutSeconds.Should().Be(300);
    }
}
