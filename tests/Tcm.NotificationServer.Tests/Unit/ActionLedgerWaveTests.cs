using Tcm.NotificationServer.Actions;
using Tcm.NotificationServer.Store;

namespace Tcm.NotificationServer.Tests.Unit;

/// <summary>The action ledger's waves over a real store: which target is in which wave, what is left to send, and the brake.</summary>
public sealed class ActionLedgerWaveTests() : LedgerTest("ns-ledger-waves")
{
    private static readonly WavePlan Plan = new() { Size = 2, EverySeconds = 5, StopAfterFailedCount = 1 };

    [Fact]
    public async Task AnActionInWaves_ShowsEachTargetsWave_AndWhatIsLeftToSend()
    {
        await CreateAsync();

        var action = Ledger.Find("act1", id => id.ToUpperInvariant())!;
        action.Targets.Select(t => (t.AgentId, t.Wave)).Should().Equal(("a", 1), ("b", 1), ("c", 2), ("d", 2), ("e", 3));
        action.Waves!.State.Should().Be(ActionWaves.Sending);
        action.Waves.Plan.Should().Be(Plan);
        action.Waves.NextWaveAt.Should().Be(DateTimeOffset.FromUnixTimeMilliseconds(T0 + 5000));
        action.Waves.Items.Select(w => (w.Number, w.Targets, w.StartedAt?.ToUnixTimeMilliseconds())).Should().Equal((1, 2, T0), (2, 2, null), (3, 1, null));
        action.Waves.Items[1].Counts.Should().Equal(new Dictionary<string, int> { ["pending"] = 2 });
        Ledger.OpenWaves().Should().Equal(new OpenWaves("act1", "task", """{"command":"echo"}""", T0, Plan, 3, 2, T0));
        Ledger.PendingInWave("act1", 2).Should().Equal("c", "d");
        Ledger.WaveTally("act1").Should().Be((2, 0));
    }

    [Fact]
    public async Task AnActionWithoutWaves_HasNone()
    {
        await Store.Writer.WriteAsync(ctx => Ledger.Create(ctx, new NewAction("plain", "task", null), T0, ["a"]));

        var action = Find("plain");
        action.Waves.Should().BeNull();
        action.Targets.Single().Wave.Should().BeNull();
        Ledger.OpenWaves().Should().BeEmpty();
    }

    [Fact]
    public async Task TheBrake_MarksThePendingTargetsOfTheWavesNotSent_WithTheReason_AndClosesTheAction()
    {
        await CreateAsync();
        await Store.Writer.WriteAsync(ctx =>
        {
            Ledger.Complete(ctx, "act1", "a", TaskState.Failed, T0 + 100, "boom", 1);
            Ledger.WaveStarted(ctx, "act1", 2, T0 + 5000);
        });
        Ledger.WaveTally("act1").Should().Be((4, 1));

        var marked = await Store.Writer.WriteAsync(ctx => Ledger.StopWaves(ctx, "act1", T0 + 6000, "too many failed"));

        marked.Should().Be(1, "only wave 3 was not sent");
        var action = Find("act1");
        action.Targets.Select(t => (t.AgentId, t.State, t.Output)).Should().Equal(
            ("a", TaskState.Failed, "boom"), ("b", TaskState.Pending, null), ("c", TaskState.Pending, null), ("d", TaskState.Pending, null), ("e", TaskState.NotSent, "too many failed"));
        action.Targets.Single(t => t.AgentId == "e").CompletedAt!.Value.ToUnixTimeMilliseconds().Should().Be(T0 + 6000, "a target the brake kept back ends at the brake");
        action.Waves!.State.Should().Be(ActionWaves.Stopped);
        (action.Waves.StoppedAt?.ToUnixTimeMilliseconds(), action.Waves.StopReason, action.Waves.NextWaveAt).Should().Be((T0 + 6000, "too many failed", null));
        action.Counts["not-sent"].Should().Be(1);
        Ledger.OpenWaves().Should().BeEmpty("a stopped action has nothing left to send");
    }

    [Fact]
    public async Task EveryWaveSent_IsDone()
    {
        await CreateAsync();
        await Store.Writer.WriteAsync(ctx =>
        {
            Ledger.WaveStarted(ctx, "act1", 2, T0 + 5000);
            Ledger.WaveStarted(ctx, "act1", 3, T0 + 10_000);
        });

        Find("act1").Waves!.State.Should().Be(ActionWaves.Done);
        Ledger.OpenWaves().Should().BeEmpty();
    }

    private Task CreateAsync() => Store.Writer.WriteAsync(ctx =>
    {
        Ledger.Create(ctx, new NewAction("act1", "task", """{"command":"echo"}"""), T0, ["a", "b", "c", "d", "e"]);
        Ledger.CreateWaves(ctx, "act1", Plan, [["a", "b"], ["c", "d"], ["e"]]);
        Ledger.WaveStarted(ctx, "act1", 1, T0);
    });
}
