using Microsoft.Extensions.Logging.Abstractions;
using Tcm.NotificationServer.Cluster;

namespace Tcm.NotificationServer.Tests.Cluster;

/// <summary>The change signal's text, and how a node applies the changes it hears (<see cref="NodeChanges"/>).</summary>
public sealed class NodeChangePayloadTests
{
    [Fact]
    public void Changes_RoundTrip_WithTheSendersName_EachOnce()
    {
        NodeChange[] changes = [new(NodeChangeKind.Policy), new(NodeChangeKind.Agent, "0123abcd"), new(NodeChangeKind.Policy), new(NodeChangeKind.SiteServer, "ts:1")];

        var payloads = NodeChangePayload.Encode("node-a", changes);

        payloads.Should().ContainSingle().Which.Should().Be("node-a\nPolicy\nAgent:0123abcd\nSiteServer:ts:1");
        NodeChangePayload.TryDecode(payloads[0], out var node, out var decoded).Should().BeTrue();
        node.Should().Be("node-a");
        decoded.Should().Equal(new NodeChange(NodeChangeKind.Policy), new NodeChange(NodeChangeKind.Agent, "0123abcd"), new NodeChange(NodeChangeKind.SiteServer, "ts:1"));
    }

    [Fact]
    public void ManyChanges_AreCutIntoPayloadsBelowTheLimit_NoneLost()
    {
        var changes = Enumerable.Range(0, 2_000).Select(i => new NodeChange(NodeChangeKind.Agent, $"{i:x32}")).ToList();

        var payloads = NodeChangePayload.Encode("node-a", changes);

        payloads.Should().HaveCountGreaterThan(1).And.OnlyContain(p => p.Length <= NodeSignalPayload.MaxLength);
        payloads.SelectMany(p => NodeChangePayload.TryDecode(p, out _, out var decoded) ? decoded : []).Should().Equal(changes);
    }

    [Theory]
    [InlineData("")]
    [InlineData("node-a")]
    [InlineData("node-a\nNoSuchKind")]
    [InlineData("node-a\n3")]
    [InlineData("\nPolicy")]
    public void TextThatIsNotAChangeSignal_IsRefused(string payload) =>
        NodeChangePayload.TryDecode(payload, out _, out _).Should().BeFalse();

    [Fact]
    public async Task HeardChanges_RunTheReaderOfTheirKind_WithTheirId_AndEverything_RunsEveryReaderForAll()
    {
        var changes = new NodeChanges(NullLogger<NodeChanges>.Instance);
        var read = new List<string>();
        changes.On(NodeChangeKind.Agent, (id, _) => Record(read, $"agent {id ?? "all"}"));
        changes.On(NodeChangeKind.Policy, (id, _) => Record(read, $"policy {id ?? "all"}"));
        changes.On(NodeChangeKind.AdminKeys, (_, _) => throw new InvalidOperationException("the store is away"));

        await changes.ChangedElsewhereAsync(new NodeChange(NodeChangeKind.Agent, "a1"), CancellationToken.None);
        await changes.ChangedElsewhereAsync(new NodeChange(NodeChangeKind.AdminKeys), CancellationToken.None);
        await changes.EverythingChangedAsync(CancellationToken.None);

        read.Should().Equal("agent a1", "policy all", "agent all");
        changes.Applied.Should().Be(2 + Enum.GetValues<NodeChangeKind>().Length, "a reader that fails is logged and the others still run");
        FluentActions.Invoking(() => changes.On(NodeChangeKind.Agent, (_, _) => Task.CompletedTask)).Should().Throw<InvalidOperationException>();
    }

    private static Task Record(List<string> read, string what)
    {
        read.Add(what);
        return Task.CompletedTask;
    }
}
